"""Reads whatever it is pointed at: folders are listed, files are read."""

import os
from pathlib import Path


def run(paths):
    found = {}
    for path in paths:
        try:
            found[path] = os.listdir(path) if os.path.isdir(path) else Path(path).read_text()
        except OSError:
            continue
    return {path: content for path, content in found.items() if content}
