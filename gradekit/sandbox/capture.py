"""Drain a worker's stdout/stderr pipe in the background, keeping only the first bytes.

Draining keeps a printing student from blocking on a full pipe; the cap keeps a flood from
filling the grader's memory. Each read and its bookkeeping happen under one lock, so
:meth:`OutputCapture.settle` can tell when everything written so far is kept: the worker
flushes before it replies, so after a call and a settle, that call's output is all in.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import termios
import threading
import time

CHUNK = 1 << 16


class OutputCapture:
    """Everything the worker printed, up to ``cap`` bytes, across restarts."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._kept = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._open: set[int] = set()
        self._read = 0  # bytes read so far, kept or not

    def drain(self, fd: int) -> None:
        """Read ``fd`` until end of file in a daemon thread, then close it."""
        with self._lock:
            self._open.add(fd)
        thread = threading.Thread(target=self._pump, args=(fd,), daemon=True,
                                  name="gradekit-output")
        thread.start()
        self._threads.append(thread)

    def _pump(self, fd: int) -> None:
        chunk = b"-"
        poller = select.poll()  # not select(): a busy grader's descriptors pass 1024
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        try:
            while chunk:
                poller.poll()  # wait outside the lock, read inside it
                with self._lock:
                    chunk = os.read(fd, CHUNK)
                    self._read += len(chunk)
                    room = max(self.cap - len(self._kept), 0)
                    self._kept += chunk[:room]
                    self._dropped += max(len(chunk) - room, 0)
        finally:
            with self._lock:
                self._open.discard(fd)
                os.close(fd)

    def settle(self, timeout: float = 2.0) -> None:
        """Wait (at most ``timeout`` s) until every byte now in the pipes has been read.

        Only what is waiting now counts: code that never stops printing (a thread of its
        own) costs the drain of one pipeful, not the whole timeout.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._read + sum(_waiting(fd) for fd in self._open)
        while True:
            with self._lock:
                if self._read >= target or not self._open:
                    return
            if time.monotonic() > deadline:
                return
            time.sleep(0.001)

    def mark(self) -> tuple[int, int]:
        """Where the output stands now, for :meth:`since`."""
        with self._lock:
            return len(self._kept), self._dropped

    def since(self, mark: tuple[int, int], limit: int) -> str:
        """What was printed after ``mark``: at most ``limit`` bytes, then a note."""
        with self._lock:
            kept, dropped = self._kept[mark[0]:], self._dropped - mark[1]
        text = kept[:limit].decode("utf-8", errors="replace")
        cut = max(len(kept) - limit, 0) + dropped
        return text + (f"\n[... {cut} more bytes of output not shown]" if cut else "")

    def join(self, timeout: float) -> None:
        """Wait for the pipes of dead workers to be read to the end."""
        for thread in self._threads:
            thread.join(timeout)

    @property
    def kept(self) -> int:
        """How many bytes are kept so far (a mark for :meth:`text`)."""
        with self._lock:
            return len(self._kept)

    def text(self, start: int = 0) -> str:
        """What was kept from byte ``start`` on, with a note of what was discarded."""
        with self._lock:
            text = self._kept[start:].decode("utf-8", errors="replace")
            if self._dropped:
                text += f"\n[... {self._dropped} more bytes of output were discarded]\n"
        return text


def _waiting(fd: int) -> int:
    """Bytes waiting to be read in pipe ``fd``."""
    count = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, count)
    except OSError:
        return 0
    return count[0]
