"""Starts a non-daemon thread that never ends, at import."""

import threading
import time


def _spin():
    while True:
        time.sleep(0.01)


threading.Thread(target=_spin).start()


def run():
    return threading.active_count()
