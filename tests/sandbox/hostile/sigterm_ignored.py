"""Ignores SIGTERM, then hangs."""

import signal


def run():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass
