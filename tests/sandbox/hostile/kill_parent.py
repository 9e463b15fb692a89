"""Tries to kill whatever started it."""

import os
import signal


def run():
    os.kill(os.getppid(), signal.SIGKILL)
    return os.getppid()
