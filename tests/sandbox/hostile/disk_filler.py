"""Writes one ever-growing file into its own folder."""

from pathlib import Path


def run():
    with Path("filler.bin").open("wb") as handle:
        for _ in range(64):
            handle.write(bytes(1 << 20))
