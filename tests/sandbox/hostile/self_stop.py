"""Stops its own process (SIGSTOP) half a second after import, so it reads nothing more."""

import os
import signal
import threading

threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGSTOP)).start()


def run(x):
    return x.shape
