"""Frames over a pair of pipe file descriptors, with deadlines on the reading side.

The grader reads with a deadline so that a worker that hangs, floods or dies is noticed; the
worker reads without one (it has nothing else to do). Sizes in a frame header are checked
against the caps before anything is allocated.
"""

from __future__ import annotations

import os
import select
import time
from typing import Any

from gradekit.sandbox.codec import HEADER, Caps, Decoder
from gradekit.sandbox.errors import WireError

IOV_MAX = 512


class ChannelClosedError(EOFError):
    """The other end closed its pipe (usually: the worker died)."""


class Channel:
    """One end of the protocol: frames are read from ``read_fd`` and written to ``write_fd``
    (with :func:`write_all`, after encoding with the sender's own handle policy)."""

    def __init__(self, read_fd: int, write_fd: int, caps: Caps) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.decoder = Decoder(caps)
        self.caps = caps
        self._poll = select.poll()
        self._poll.register(read_fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def receive(self, deadline: float | None = None) -> Any:
        """Read one frame; ``TimeoutError`` past ``deadline`` (a ``time.monotonic`` value)."""
        header = self._read(HEADER.size, deadline)
        meta_size, data_size = HEADER.unpack(header)
        if meta_size > self.caps.wire_bytes or data_size > self.caps.wire_bytes:
            raise WireError(f"the worker sent a message of {meta_size + data_size} bytes, "
                            f"more than the {self.caps.wire_bytes} allowed")
        meta = bytes(self._read(meta_size, deadline))
        data = self._read(data_size, deadline)
        return self.decoder.decode(meta, data)

    def _read(self, size: int, deadline: float | None) -> bytearray:
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            if deadline is not None:
                self._wait(deadline)
            n = os.readv(self.read_fd, [view[got:]])
            if n == 0:
                raise ChannelClosedError("the worker closed the connection")
            got += n
        return buffer

    def _wait(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self._poll.poll(remaining * 1000):
            raise TimeoutError


def write_all(fd: int, pieces: list[Any], deadline: float | None = None) -> None:
    """Write every piece, resuming after partial writes (pipes accept ~64 KB at a time).

    With a ``deadline`` the descriptor must be non-blocking: a reader that stops reading
    (a stopped or wedged worker) then costs a ``TimeoutError``, not a hung grader.
    """
    views = [memoryview(p).cast("B") for p in pieces if len(p)]
    start = 0
    writable = select.poll()
    writable.register(fd, select.POLLOUT)
    while start < len(views):
        try:
            written = os.writev(fd, views[start:start + IOV_MAX])
        except BlockingIOError:
            remaining = deadline - time.monotonic() if deadline is not None else None
            if remaining is not None and (remaining <= 0 or not writable.poll(remaining * 1000)):
                raise TimeoutError from None
            continue
        while written:
            head = views[start]
            if written >= len(head):
                written -= len(head)
                start += 1
            else:
                views[start] = head[written:]
                written = 0
