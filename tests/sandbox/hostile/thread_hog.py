"""Starts threads until the process limit stops it, and keeps them all alive."""

import threading

HOLD = threading.Event()


def run(most=10_000):
    started = 0
    try:
        for _ in range(most):
            threading.Thread(target=HOLD.wait, daemon=True).start()
            started += 1
    except RuntimeError:  # can't start new thread: the budget is used up
        pass
    return started


def spawn(threads=4):
    """What any honest submission may do: a few threads and one child process."""
    import subprocess
    import sys

    workers = [threading.Thread(target=lambda: None) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                          text=True, check=True).stdout.strip()
