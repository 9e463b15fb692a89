"""Prints about 50 MB from Python and from the C level, then returns a value."""

import os
import sys


def run():
    for _ in range(400):
        sys.stdout.write("x" * 65536)
        os.write(1, b"y" * 65536)
    return 42
