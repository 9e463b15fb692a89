"""The grader's sockets reach the kernel through a relay that cuts every oversize message.

ZeroMQ's own limits do not bound what a kernel can make the grader hold: ``MAXMSGSIZE`` caps
one frame and ``RCVHWM`` the number of queued messages, but a message may have any number of
frames, and libzmq keeps a whole multipart message in memory before the application sees any
of it (a kernel that sends one message of 500 frames of 1 MB grows the grader by 500 MB).
So no grader socket connects to the kernel directly. Each one connects to a
:class:`MessageRelay` thread, which copies bytes between the two Unix sockets and reads the
ZMTP 3 stream the kernel writes as it passes: at the first frame header that would take a
message over :data:`MAX_MESSAGE` bytes or :data:`MAX_FRAMES` frames, it closes both ends before
that header reaches libzmq, which drops the incomplete message. ZeroMQ reconnects by itself;
the relay keeps a :class:`Cut` per closed connection, so that the notebook can say what was
lost. The relay holds at most :data:`BACKLOG` bytes per direction of a connection.
"""

from __future__ import annotations

import contextlib
import selectors
import shutil
import socket
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import zmq
import zmq.asyncio

MAX_MESSAGE = 32 << 20  # bytes, all frames of one message (ipykernel sends 0.2 s of prints as one)
MAX_FRAMES = 64        # a Jupyter message has 7 frames, plus its buffers
QUEUED_MESSAGES = 2    # messages a grader socket holds before the kernel must wait
BACKLOG = 1 << 20      # bytes the relay holds for one direction of a connection
CHUNK = 256 << 10
RETRY_SECONDS = 0.01   # how often to try a kernel that does not listen yet
GREETING = 64          # bytes of a ZMTP 3 greeting
MORE, LONG = 0x01, 0x02


@dataclass(frozen=True)
class Cut:
    """A kernel connection the relay closed, and why: ``size`` and ``frames`` are what the
    message had reached with the header that went over a limit."""

    url: str
    reason: Literal["size", "frames", "protocol"]
    size: int = 0
    frames: int = 0

    def describe(self) -> str:
        if self.reason == "size":
            return f"a message of {_megabytes(self.size)}, over the " \
                   f"{_megabytes(MAX_MESSAGE)} one message may take"
        if self.reason == "frames":
            return f"a message of over {MAX_FRAMES} parts"
        return "bytes that are not ZeroMQ's protocol (ZMTP 3)"


class OversizeError(Exception):
    """The kernel's stream went over a limit; carries what :class:`Cut` records."""

    def __init__(self, reason: Literal["size", "frames", "protocol"], size: int = 0,
                 frames: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.size, self.frames = reason, size, frames


class FrameCounter:
    """Follows the ZMTP 3 stream a kernel writes and says how much of it may pass.

    A frame is a flags byte (bit 0: more frames follow, bit 1: an 8-byte size), its size and
    its body; a message ends with a frame without the *more* bit. Headers are held back until
    they are whole and checked, so libzmq never reads the size of a frame that is refused.
    """

    def __init__(self, max_message: int = MAX_MESSAGE, max_frames: int = MAX_FRAMES) -> None:
        self.max_message, self.max_frames = max_message, max_frames
        self.greeting_left = GREETING
        self.held = b""     # the start of a header (or of the greeting) not yet checked
        self.body_left = 0  # bytes of the current frame still to pass
        self.more = False   # the current frame is not the message's last
        self.size = self.frames = 0  # of the message under way

    def feed(self, data: bytes) -> bytes:
        """The bytes that may go on to the grader now, or :class:`OversizeError`."""
        buf = self.held + data
        pos, end = 0, len(buf)
        while pos < end:
            if self.body_left:
                step = min(self.body_left, end - pos)
                pos += step
                self.body_left -= step
                if not self.body_left and not self.more:
                    self.size = self.frames = 0
            elif self.greeting_left:
                if self.greeting_left == GREETING:
                    if end - pos < 11:
                        break
                    # 0xFF, 8 bytes of padding, 0x7F, then a major version of 3 or more
                    if buf[pos] != 0xFF or not buf[pos + 9] & 1 or buf[pos + 10] < 3:
                        raise OversizeError("protocol")
                step = min(self.greeting_left, end - pos)
                pos += step
                self.greeting_left -= step
            else:
                head = 9 if buf[pos] & LONG else 2
                if end - pos < head:
                    break
                flags = buf[pos]
                size = int.from_bytes(buf[pos + 1:pos + head], "big")
                self.frames += 1
                self.size += size
                if self.frames > self.max_frames:
                    raise OversizeError("frames", self.size, self.frames)
                if self.size > self.max_message:
                    raise OversizeError("size", self.size, self.frames)
                pos += head
                self.more, self.body_left = bool(flags & MORE), size
                if not size and not self.more:
                    self.size = self.frames = 0
        self.held = buf[pos:]
        return buf[:pos]


class _Link:
    """One grader connection and the kernel connection behind it (``None`` until the kernel
    listens: what the grader sends meanwhile waits here, as ZeroMQ would hold it)."""

    def __init__(self, grader: socket.socket, kernel: socket.socket | None, url: str,
                 max_message: int, max_frames: int) -> None:
        self.grader, self.kernel, self.url = grader, kernel, url
        self.up = bytearray()    # grader to kernel
        self.down = bytearray()  # kernel to grader, already checked
        self.counter = FrameCounter(max_message, max_frames)


class MessageRelay:
    """A thread that carries the bytes between the grader's sockets and one kernel's.

    :meth:`route` gives a grader socket the address to connect to instead of a kernel's
    ``ipc://`` address; :attr:`cuts` lists the connections closed for an oversize message.
    """

    def __init__(self, max_message: int = MAX_MESSAGE, max_frames: int = MAX_FRAMES) -> None:
        self.max_message, self.max_frames = max_message, max_frames
        self.folder = Path(tempfile.mkdtemp(prefix="gradekit-relay-"))
        self.cuts: list[Cut] = []
        self._routes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._watched: dict[socket.socket, int] = {}
        self._links: set[_Link] = set()
        self._unconnected: list[_Link] = []  # links whose kernel is not listening yet
        self._calls: deque[Callable[[], None]] = deque()
        self._wake, self._waker = socket.socketpair()
        self._wake.setblocking(False)
        self._selector.register(self._wake, selectors.EVENT_READ, None)
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="gradekit-relay", daemon=True)
        self._thread.start()

    def context(self) -> RelayContext:
        """A ZeroMQ context whose sockets connect through this relay, each with ZeroMQ's own
        limits too: no frame over :data:`MAX_MESSAGE`, :data:`QUEUED_MESSAGES` queued."""
        context = RelayContext()
        context.relay = self
        context.setsockopt(zmq.MAXMSGSIZE, self.max_message)
        context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
        return context

    def route(self, url: str) -> str:
        """The address to connect to instead of the kernel's ``url``."""
        with self._lock:
            if url not in self._routes:
                if not url.startswith("ipc://"):
                    raise ValueError(f"the grader reaches kernels over ipc only, not {url}")
                path = self.folder / str(len(self._routes))
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(str(path))
                listener.listen(8)
                listener.setblocking(False)
                self._routes[url] = f"ipc://{path}"
                self._call_soon(lambda: self._watch(listener, selectors.EVENT_READ,
                                                    (listener, url)))
            return self._routes[url]

    def close(self) -> None:
        """Stop the thread, close every connection and remove the relay's sockets
        (idempotent)."""
        if self._running:
            self._running = False
            self._waker.send(b"x")
            self._thread.join()
            for sock in [*self._watched, self._wake, self._waker]:
                sock.close()
            for link in self._links:
                link.grader.close()
                if link.kernel is not None:
                    link.kernel.close()
            self._selector.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- the thread ----------------------------------------------------------------------
    def _call_soon(self, call: Callable[[], None]) -> None:
        self._calls.append(call)
        self._waker.send(b"x")

    def _loop(self) -> None:
        while self._running:
            ready = self._selector.select(RETRY_SECONDS if self._unconnected else None)
            self._connect_kernels()
            for key, events in ready:
                if key.data is None:
                    self._woken()
                elif isinstance(key.data, _Link):
                    self._serve(key.data, key.fileobj, events)  # type: ignore[arg-type]
                else:
                    self._accept(*key.data)

    def _woken(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake.recv(4096)
        while self._calls:
            self._calls.popleft()()

    def _accept(self, listener: socket.socket, url: str) -> None:
        try:
            grader, _ = listener.accept()
        except BlockingIOError:
            return
        grader.setblocking(False)
        link = _Link(grader, None, url, self.max_message, self.max_frames)
        self._links.add(link)
        self._unconnected.append(link)
        self._connect_kernels()

    def _connect_kernels(self) -> None:
        """Connect each waiting link to its kernel, if the kernel listens by now."""
        for link in list(self._unconnected):
            if link not in self._links:  # dropped meanwhile
                self._unconnected.remove(link)
                continue
            kernel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                kernel.connect(link.url[len("ipc://"):])
            except OSError:  # not listening yet: try again in a moment
                kernel.close()
                self._update(link)
                continue
            kernel.setblocking(False)
            link.kernel = kernel
            self._unconnected.remove(link)
            self._update(link)

    def _serve(self, link: _Link, sock: socket.socket, events: int) -> None:
        try:
            if events & selectors.EVENT_WRITE:
                buf = link.down if sock is link.grader else link.up
                del buf[:sock.send(buf)]
            if events & selectors.EVENT_READ:
                data = sock.recv(CHUNK)
                if not data:
                    raise ConnectionResetError
                if sock is link.kernel:
                    link.down += link.counter.feed(data)
                else:
                    link.up += data
        except BlockingIOError:
            pass
        except OversizeError as over:
            self.cuts.append(Cut(link.url, over.reason, over.size, over.frames))
            self._drop(link)
            return
        except OSError:  # either side went away: so does the other
            self._drop(link)
            return
        self._update(link)

    def _update(self, link: _Link) -> None:
        read, write = selectors.EVENT_READ, selectors.EVENT_WRITE
        self._watch(link.grader, (read if len(link.up) < BACKLOG else 0) |
                    (write if link.down else 0), link)
        if link.kernel is not None:
            self._watch(link.kernel, (read if len(link.down) < BACKLOG else 0) |
                        (write if link.up else 0), link)

    def _watch(self, sock: socket.socket, events: int, data: Any) -> None:
        was = self._watched.get(sock, 0)
        if events == was:
            return
        if not events:
            self._selector.unregister(sock)
            del self._watched[sock]
            return
        if was:
            self._selector.modify(sock, events, data)
        else:
            self._selector.register(sock, events, data)
        self._watched[sock] = events

    def _drop(self, link: _Link) -> None:
        for sock in (link.grader, link.kernel):
            if sock is None:
                continue
            if sock in self._watched:
                self._selector.unregister(sock)
                del self._watched[sock]
            sock.close()
        self._links.discard(link)


class RelayedSocket(zmq.asyncio.Socket):
    """A grader socket that reaches the kernel through its context's relay."""

    kernel_url: str = ""

    def connect(self, addr: str) -> Any:
        self.kernel_url = addr
        assert isinstance(self.context, RelayContext) and self.context.relay is not None
        return super().connect(self.context.relay.route(addr))


class RelayContext(zmq.asyncio.Context):
    """A context of :class:`RelayedSocket`: made by :meth:`MessageRelay.context`."""

    _socket_class = RelayedSocket
    relay: MessageRelay | None = None


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.0f} MB" if size >= 1 << 20 else f"{size >> 10} KB"
