"""Draining a worker's output: settle waits for what is written, not for a writer to stop."""

from __future__ import annotations

import os
import threading
import time

from gradekit.sandbox.capture import OutputCapture


def test_settle_keeps_what_was_written_and_outlasts_no_endless_printer() -> None:
    read, write = os.pipe()
    capture = OutputCapture(cap=1 << 20)
    capture.drain(read)
    mark = capture.mark()
    os.write(write, b"before the reply\n")
    capture.settle(timeout=30)
    assert capture.since(mark, 4000) == "before the reply\n"

    stop, printing = threading.Event(), threading.Event()

    def print_forever() -> None:
        while not stop.is_set():
            os.write(write, b"x" * 512)
            printing.set()

    printer = threading.Thread(target=print_forever, daemon=True)
    printer.start()
    try:
        assert printing.wait(30)  # on a loaded machine the thread may start late
        started = time.monotonic()
        capture.settle(timeout=30)
        assert time.monotonic() - started < 10, "settle waited for the printer to stop"
    finally:
        stop.set()
        printer.join()
        os.close(write)
    assert "[... " in capture.since(mark, 100)  # over the limit: a note says how much more
