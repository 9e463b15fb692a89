"""Frames over real pipes: large arrays, deadlines, a closed peer, a lying header."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from gradekit.sandbox.channel import Channel, ChannelClosedError, write_all
from gradekit.sandbox.codec import HEADER, Caps, Encoder
from gradekit.sandbox.errors import WireError

CAPS = Caps(wire_bytes=64 << 20, string_bytes=1 << 20, depth=16)


@pytest.fixture
def pipe_pair() -> Iterator[tuple[Channel, Channel]]:
    """Two channels joined back to back: ``a`` writes what ``b`` reads and vice versa."""
    a_to_b, b_to_a = os.pipe(), os.pipe()
    a = Channel(b_to_a[0], a_to_b[1], CAPS)
    b = Channel(a_to_b[0], b_to_a[1], CAPS)
    yield a, b
    for fd in (*a_to_b, *b_to_a):
        os.close(fd)


def test_a_large_array_crosses_a_pipe_intact(pipe_pair: tuple[Channel, Channel]) -> None:
    a, b = pipe_pair
    array = np.random.default_rng(0).normal(size=(1250, 1000))  # 10 MB, far above pipe size
    pieces = Encoder(CAPS, lambda obj: None).encode({"x": array, "tag": "big"})
    sender = threading.Thread(target=write_all, args=(a.write_fd, pieces))
    sender.start()
    received = b.receive(time.monotonic() + 10)
    sender.join()
    assert received["tag"] == "big" and np.array_equal(received["x"], array)


def test_reading_past_the_deadline_times_out(pipe_pair: tuple[Channel, Channel]) -> None:
    _, b = pipe_pair
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        b.receive(started + 0.2)
    assert 0.15 < time.monotonic() - started < 2


def test_a_closed_writer_is_reported() -> None:
    read_fd, write_fd = os.pipe()
    channel = Channel(read_fd, write_fd, CAPS)
    os.close(write_fd)
    with pytest.raises(ChannelClosedError):
        channel.receive(time.monotonic() + 1)
    os.close(read_fd)


def test_an_oversized_header_is_refused_without_reading_on(
        pipe_pair: tuple[Channel, Channel]) -> None:
    a, b = pipe_pair
    write_all(a.write_fd, [HEADER.pack(16, 10 << 30)])
    with pytest.raises(WireError, match="more than"):
        b.receive(time.monotonic() + 1)


def test_writing_to_a_reader_that_stopped_reading_times_out() -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        write_all(write_fd, [bytes(4 << 20)], started + 0.2)
    assert time.monotonic() - started < 2
    os.close(read_fd)
    os.close(write_fd)
