"""Loops forever inside one function."""


def run():
    while True:
        pass
