"""Fills /tmp with many files, each below the file-size limit."""

from pathlib import Path


def run():
    for i in range(40):
        Path(f"/tmp/filler-{i}.bin").write_bytes(bytes(8 << 20))
