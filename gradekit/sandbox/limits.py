"""Resource limits for one submission's worker, with defaults sized for CS231n homework."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1 << 20
GB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    The rlimits (``cpu_seconds``, ``address_space``, ``file_size``, ``processes``) are enforced
    by the kernel on the worker; the timeouts by the grader's clock; the wire caps by the codec
    on both sides of the pipe. Under bubblewrap everything the sandbox can write is memory of a
    fixed size: ``tmp_bytes`` (``/tmp``, which holds the work dir) plus ``shm_bytes``.
    """

    call_seconds: float = 60.0
    submission_seconds: float = 1800.0
    cpu_seconds: int = 1800
    address_space: int = 4 * GB
    file_size: int = 256 * MB
    tmp_bytes: int = 512 * MB  # the private /tmp, work dir included (bubblewrap only)
    shm_bytes: int = 64 * MB  # the private /dev/shm (bubblewrap only)
    processes: int = 64
    output_bytes: int = 1 * MB
    wire_bytes: int = 1 * GB
    string_bytes: int = 16 * MB
    depth: int = 64
    kill_grace_seconds: float = 0.5
