"""Writes as much as it can into every place it might write: where each attempt stopped."""

import os


def run(folders, chunk_mb=8, chunks=40):
    stopped = {}
    block = bytes(chunk_mb << 20)
    for folder in folders:
        written = 0
        try:
            for i in range(chunks):
                with open(os.path.join(folder, f"filler-{i}.bin"), "wb") as handle:
                    handle.write(block)
                written += chunk_mb
            stopped[folder] = f"wrote {written} MB"
        except OSError as exc:
            stopped[folder] = f"{exc.strerror} after {written} MB"
    return stopped
