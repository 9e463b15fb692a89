"""Allocates until something gives."""


def run():
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))
