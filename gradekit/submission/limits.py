"""Caps on what a submission may unpack to, shared by zip extraction and folder copies.

Homework is a few dozen source files and notebooks; the defaults leave room for saved
weights and plots while keeping a hostile upload from filling the grader's disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MiB = 1024 * 1024
_CHUNK = 1 * MiB
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)

#: Names that editors, OS archivers and Python leave behind; never graded, never copied.
JUNK_NAMES = frozenset(
    {"__MACOSX", ".DS_Store", "Thumbs.db", "__pycache__", ".ipynb_checkpoints", ".git"}
)


def is_junk(parts: tuple[str, ...]) -> bool:
    """True for paths inside OS/editor clutter (``__MACOSX/``, ``.DS_Store``, caches)."""
    return any(part in JUNK_NAMES or part.startswith("._") for part in parts)


class UnpackError(Exception):
    """The submission as a whole cannot be unpacked (too big, unreadable); says why."""


@dataclass(frozen=True)
class Limits:
    """How much a submission may unpack to.

    ``max_entries`` caps a zip's directory (folders and clutter included) before Python
    reads it into memory. ``max_ratio`` guards against compression bombs: a zip member that
    inflates more than ``max_ratio`` times is refused once it is larger than ``ratio_floor``
    (small files of zeros legitimately compress very well).
    """

    max_files: int = 2000
    max_entries: int = 10_000
    max_bytes: int = 200 * MiB
    max_ratio: float = 100.0
    ratio_floor: int = 1 * MiB


class Budget:
    """Counts files and bytes as they are written and stops at the :class:`Limits`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.files = 0
        self.bytes = 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise UnpackError(
                f"it holds more than {self.limits.max_files} files; submit only your code "
                "and notebooks (no data sets or virtual environments)"
            )

    def add_bytes(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.limits.max_bytes:
            raise UnpackError(
                f"it unpacks to more than {self.limits.max_bytes // MiB} MB; leave data "
                "sets and saved outputs out of the submission"
            )

    def write(self, stream: BinaryIO, target: Path) -> None:
        """Copy ``stream`` into the new file ``target``, counting it against the budget.

        The file must not exist yet and is never reached through a symlink; a partial file
        is removed when the copy fails.
        """
        self.add_file()
        fd = os.open(target, _NEW_FILE, 0o644)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    self.add_bytes(len(chunk))
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
