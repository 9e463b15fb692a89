"""Drain a worker's stdout/stderr pipe in the background, keeping only the first bytes.

Draining keeps a printing student from blocking on a full pipe; the cap keeps a flood from
filling the grader's memory.
"""

from __future__ import annotations

import os
import threading

CHUNK = 1 << 16


class OutputCapture:
    """Everything the worker printed, up to ``cap`` bytes, across restarts."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._kept = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def drain(self, fd: int) -> None:
        """Read ``fd`` until end of file in a daemon thread, then close it."""
        thread = threading.Thread(target=self._pump, args=(fd,), daemon=True,
                                  name="gradekit-output")
        thread.start()
        self._threads.append(thread)

    def _pump(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, CHUNK):
                with self._lock:
                    room = self.cap - len(self._kept)
                    self._kept += chunk[:max(room, 0)]
                    self._dropped += max(len(chunk) - max(room, 0), 0)
        finally:
            os.close(fd)

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
