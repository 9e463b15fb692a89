"""Calls sys.exit inside a function."""

import sys


def run():
    sys.exit(3)
