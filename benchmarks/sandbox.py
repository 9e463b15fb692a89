"""Sandbox overhead: worker start, small-call round trip, 10 MB array throughput.

Measured for the bubblewrap and plain-subprocess workers against a bare peer: a Python
subprocess that echoes length-prefixed bytes over a pipe (no codec, no isolation), which is
the floor any process boundary pays. Run with ``python benchmarks/sandbox.py``.

Targets (DESIGN.md / issue 4): start to first call <= 0.5 s, small round trip <= 0.5 ms,
10 MB float64 each way >= 500 MB/s.
"""

from __future__ import annotations

import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.launcher import bwrap_works

SMALL_CALLS = 2000
ARRAY = np.random.default_rng(0).normal(size=10 * 2**20 // 8)  # 10 MiB of float64
ARRAY_REPEATS = 20
ECHO_MODULE = "def echo(x):\n    return x\n"
BARE_PEER = """
import os, struct, sys
read, write = sys.stdin.buffer.raw, sys.stdout.buffer.raw
def exact(n):
    buf = bytearray(n); view = memoryview(buf); got = 0
    while got < n:
        got += read.readinto(view[got:])
    return buf
while True:
    head = read.read(8)
    if not head:
        break
    body = exact(struct.unpack("!Q", head)[0])
    write.write(head); view = memoryview(body); sent = 0
    while sent < len(body):
        sent += write.write(view[sent:])
"""


def best(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(action: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return best(samples)


def measure_worker(mode: str, root: Path) -> dict[str, float]:
    starts = []
    for _ in range(5):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            client = WorkerClient(root, {"bench": "pkg.bench"}, sandbox=mode)
        client.call("bench.echo", 1)
        starts.append(time.perf_counter() - started)
        client.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        client = WorkerClient(root, {"bench": "pkg.bench"}, sandbox=mode)
    try:
        client.call("bench.echo", ARRAY)  # warm up
        started = time.perf_counter()
        for i in range(SMALL_CALLS):
            client.call("bench.echo", i)
        round_trip = (time.perf_counter() - started) / SMALL_CALLS
        echo = timed(lambda: client.call("bench.echo", ARRAY), ARRAY_REPEATS)
    finally:
        client.close()
    return {"start": best(starts), "round_trip": round_trip, "array": echo}


def measure_bare_peer() -> dict[str, float]:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-I", "-c", BARE_PEER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, bufsize=0)

    def echo(peer: subprocess.Popen[bytes], payload: bytes | memoryview) -> None:
        peer.stdin.write(struct.pack("!Q", len(payload)))
        peer.stdin.write(payload)
        size = struct.unpack("!Q", peer.stdout.read(8))[0]
        got = bytearray(size)
        view, n = memoryview(got), 0
        while n < size:
            n += peer.stdout.readinto(view[n:])

    starts = []
    for _ in range(5):
        started = time.perf_counter()
        peer = start()
        echo(peer, b"1")
        starts.append(time.perf_counter() - started)
        peer.stdin.close()
        peer.wait()
    peer = start()
    payload = memoryview(ARRAY).cast("B")
    started = time.perf_counter()
    for _ in range(SMALL_CALLS):
        echo(peer, b"1")
    round_trip = (time.perf_counter() - started) / SMALL_CALLS
    array = timed(lambda: echo(peer, payload), ARRAY_REPEATS)
    peer.stdin.close()
    peer.wait()
    return {"start": best(starts), "round_trip": round_trip, "array": array}


def report(name: str, figures: dict[str, float], peer: dict[str, float]) -> None:
    throughput = 2 * ARRAY.nbytes / figures["array"] / 1e6
    print(f"{name:<11} start to first call {figures['start'] * 1e3:7.1f} ms "
          f"({figures['start'] / peer['start']:4.1f}x)   "
          f"round trip {figures['round_trip'] * 1e3:6.3f} ms "
          f"({figures['round_trip'] / peer['round_trip']:4.1f}x)   "
          f"10 MB each way {throughput:6.0f} MB/s "
          f"({peer['array'] / figures['array']:4.2f}x of bare)")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pkg").mkdir()
        (root / "pkg" / "__init__.py").write_text("")
        (root / "pkg" / "bench.py").write_text(ECHO_MODULE)
        peer = measure_bare_peer()
        report("bare peer", peer, peer)
        modes = ["bwrap", "subprocess"] if bwrap_works() else ["subprocess"]
        for mode in modes:
            report(mode, measure_worker(mode, root), peer)
    print("targets: start <= 500 ms, round trip <= 0.5 ms, 10 MB each way >= 500 MB/s")


if __name__ == "__main__":
    main()
