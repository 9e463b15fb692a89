"""Exits the interpreter while being imported."""

import sys

sys.exit("bye from import")
