"""How one submission's code is confined: one value, built once per submission.

A :class:`Confinement` says which isolation runs (bubblewrap, a plain subprocess, or none),
the limits, the uid student code runs as, the read-only data folders it may see and the host
paths it must never see. The submission's worker and every one of its notebook kernels are
launched from the same value, so they cannot drift apart.

Every submission gets its own uid when the grader is root. The kernel counts
``RLIMIT_NPROC`` over all processes of a uid on the machine, so with one shared uid (say
``nobody``) one submission's threads could keep another submission's worker from starting;
a uid of its own makes the process limit a budget of that submission alone. A grader that is
not root runs bubblewrap in a user namespace of its own per sandbox, where the kernel counts
the processes of each namespace apart.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gradekit.sandbox.limits import Limits

#: Student uids: ``UID_BASE + pid * SLOTS_PER_PROCESS + slot``. Process ids are unique among
#: live grading processes, so two of them never hand out the same uid at the same time.
UID_BASE = 1 << 30
SLOTS_PER_PROCESS = 32

_lock = threading.Lock()
_taken: set[int] = set()


class TooManySandboxes(RuntimeError):  # noqa: N818 - reads better at the raise site
    """One grading process asked for more live sandboxes than it has uids for."""


def _allocate_slot() -> int:
    with _lock:
        for slot in range(SLOTS_PER_PROCESS):
            if slot not in _taken:
                _taken.add(slot)
                return slot
    raise TooManySandboxes(f"more than {SLOTS_PER_PROCESS} submissions are confined at once in "
                           "one process; close finished ones first")


def _release_slot(slot: int) -> None:
    with _lock:
        _taken.discard(slot)


def student_uid(slot: int) -> int:
    """The uid of ``slot`` in this process, unused by any other live grading process."""
    return UID_BASE + (os.getpid() % pid_space()) * SLOTS_PER_PROCESS + slot


def pid_space() -> int:
    """How many process ids the kernel hands out (``/proc/sys/kernel/pid_max``)."""
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return 1 << 22  # the largest the kernel allows


@dataclass(frozen=True)
class Confinement:
    """The isolation of one submission (see the module docstring).

    ``readable`` folders appear read-only at their own path (a data set); ``env`` is added to
    the allow-listed environment; ``never_visible`` are host paths hidden even when they lie
    inside a folder the runtime needs (an output folder under ``/usr``, say).
    """

    mode: str
    limits: Limits = field(default_factory=Limits)
    uid: int | None = None
    readable: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    never_visible: tuple[Path, ...] = ()

    @property
    def isolated(self) -> bool:
        """True when student code runs in a process of its own."""
        return self.mode != "none"


def instructor_paths() -> list[Path]:
    """The course repository: never visible to student code. A misconfigured
    ``GRADEKIT_COURSE`` raises rather than hiding nothing."""
    from gradekit.course import find_course_root

    root = find_course_root()
    return [root] if root is not None else []


@contextmanager
def new_confinement(sandbox: str = "auto", limits: Limits | None = None, *,
            readable: Iterable[Path] = (), env: Mapping[str, str] | None = None,
            hidden: Iterable[Path] = ()) -> Iterator[Confinement]:
    """A :class:`Confinement` for one submission, its uid given back afterwards.

    ``sandbox`` is ``auto`` (bubblewrap, else a plain subprocess with a warning), ``bwrap``,
    ``subprocess`` or ``none``; ``hidden`` adds host paths to the course repository that must
    never be visible (the grader's output folder, the batch of submissions).
    """
    from gradekit.sandbox.launcher import resolve_mode, student_can_run

    mode = resolve_mode(sandbox)
    slot = uid = None
    if os.geteuid() == 0 and mode != "none":
        slot = _allocate_slot()
        uid = student_uid(slot)
        if mode == "subprocess" and not student_can_run():
            warnings.warn(
                "the Python installation is not readable by other users, so the subprocess "
                "worker runs as root: student code could signal the grader or fork without "
                "limit. Use bubblewrap, or install Python where every user can read it.",
                RuntimeWarning, stacklevel=3)
            _release_slot(slot)
            slot = uid = None
    never = tuple(dict.fromkeys(p.resolve() for p in (*instructor_paths(), *hidden)))
    try:
        yield Confinement(mode, limits or Limits(), uid, tuple(p.resolve() for p in readable),
                          dict(env or {}), never)
    finally:
        if slot is not None:
            _release_slot(slot)
