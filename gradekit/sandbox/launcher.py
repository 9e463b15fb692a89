"""Build the command line, environment and limits that start one worker.

Three modes: ``bwrap`` (bubblewrap: read-only root, private /tmp holding a copy of the
submission, no network, own PID namespace, masked instructor paths), ``subprocess`` (rlimits
and an unprivileged uid only, with a loud warning) and ``none`` (no process at all; for a
student checking their own code).

When the grader runs as root, student code runs as ``nobody``, a real uid: bubblewrap runs
as root without a user namespace to build the sandbox, and the worker drops to ``nobody``
before it imports anything of the student's. (A user-namespace uid would map back to root
outside, still owning root's files and exempt from the process limit.)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import site
import stat
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gradekit.sandbox.limits import Limits

MODES = ("auto", "bwrap", "subprocess", "none")
NOBODY = 65534
SANDBOX_TMP = "/tmp"
SANDBOX_ROOT = "/tmp/submission"
PIPE_BYTES = 1 << 20
PASSED_THROUGH_ENV = ("LANG", "LC_ALL", "TZ")
FIXED_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class SandboxUnavailable(RuntimeError):  # noqa: N818 - reads better at the raise site
    """The requested isolation cannot be provided on this machine."""


def bwrap_command(unshare: Sequence[str], mounts: Sequence[str], env: dict[str, str],
                  chdir: str, command: Sequence[str], tmp_bytes: int) -> list[str]:
    """A bubblewrap command line: read-only root, fresh /dev, /proc and /tmp, then ``mounts``."""
    return ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", SANDBOX_TMP,
            "--tmpfs", "/run",  # daemons' unix sockets live there; no network namespace hides them
            *mounts, *unshare,
            "--die-with-parent", "--new-session", "--clearenv",
            *[arg for key, value in env.items() for arg in ("--setenv", key, value)],
            "--chdir", chdir, "--", *command]


def bwrap_unshare() -> list[str]:
    """Namespaces to unshare. As root, no user namespace: the worker drops to ``nobody``
    itself, a real uid, so root-only files stay closed and the process limit applies."""
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try"]
    return common if os.geteuid() == 0 else [*common, "--unshare-user"]


@cache
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can create the namespaces we need here."""
    if shutil.which("bwrap") is None:
        return False
    probe = bwrap_command(bwrap_unshare(), runtime_mounts(), dict(FIXED_ENV), "/",
                          [sys.executable, "-I", "-c", "import gradekit"], Limits().tmp_bytes)
    try:
        done = subprocess.run(probe, env=dict(FIXED_ENV), capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def resolve_mode(requested: str) -> str:
    """Pick the concrete mode for ``requested``; ``auto`` never picks ``none``."""
    if requested not in MODES:
        raise ValueError(f"unknown sandbox {requested!r}: use one of {', '.join(MODES)}")
    if requested == "bwrap" and not bwrap_works():
        raise SandboxUnavailable(
            "bubblewrap is not installed or cannot create namespaces here; install the "
            "'bubblewrap' package, or pass sandbox='subprocess' to accept weaker isolation")
    if requested != "auto":
        return requested
    if bwrap_works():
        return "bwrap"
    warnings.warn(
        "bubblewrap is unavailable: student code runs as a plain subprocess with rlimits "
        "and timeouts only. It can read files and use the network. Install 'bubblewrap' "
        "before grading untrusted submissions.", RuntimeWarning, stacklevel=3)
    return "subprocess"


def runtime_paths() -> list[Path]:
    """Folders the worker needs to read: the interpreter, its packages and gradekit."""
    import gradekit

    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(gradekit.__file__).parent,
             *(Path(p) for p in site.getsitepackages())}
    return sorted(p.resolve() for p in paths)


def private_homes() -> list[Path]:
    """Home folders hidden from the worker (keys, tokens, shell history live there)."""
    homes = {Path.home().resolve(), Path("/root")}
    return sorted(h for h in homes if h.is_dir() and h != Path("/"))


def masked_roots() -> list[Path]:
    """Folders the sandbox replaces by empty tmpfs mounts: homes, /tmp and /run."""
    return [*private_homes(), Path(SANDBOX_TMP), Path("/run")]


def runtime_mounts() -> list[str]:
    """Hide the home folders, then bind back the parts of them, of /tmp and of /run (which
    get fresh tmpfs mounts too) that the runtime lives in: a virtual environment in a CI
    checkout under /tmp, say."""
    args = [arg for home in private_homes() for arg in ("--tmpfs", str(home))]
    masked = masked_roots()
    hidden = [path for path in runtime_paths() if within(path, masked)]
    return args + bind_in_place(hidden, "--ro-bind")


def within(path: Path, roots: Sequence[Path]) -> bool:
    """True when ``path`` lies strictly inside one of ``roots``."""
    return any(path.is_relative_to(root) and path != root for root in roots)


def bind_in_place(paths: Sequence[Path], flag: str) -> list[str]:
    """Bind each path at its own place with ``flag`` (``--bind`` or ``--ro-bind``). Folders
    leading to it inside a masked root are made traversable first, since bubblewrap would
    create them as 0700."""
    masked = masked_roots()
    args: list[str] = []
    created: set[Path] = set()
    for path in paths:
        for folder in reversed(path.parents):
            if within(folder, masked) and folder not in created:
                created.add(folder)
                args += ["--perms", "0755", "--dir", str(folder)]
        args += [flag, str(path), str(path)]
    return args


def reachable_by_others(path: Path) -> bool:
    """True when any uid may traverse every folder up to ``path`` (the o+x bit)."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in (path, *path.parents))


def drop_uid(mode: str) -> int | None:
    """The unprivileged uid student code runs as when the grader is root, else ``None``.

    A plain subprocess can only drop to ``nobody`` if ``nobody`` can reach the interpreter;
    if not (e.g. Python installed under /root), it keeps root and says so loudly.
    """
    if os.geteuid() != 0 or mode == "none":
        return None
    if mode == "subprocess" and not all(reachable_by_others(p) for p in runtime_paths()):
        warnings.warn(
            "the Python installation is not readable by 'nobody', so the subprocess worker "
            "runs as root: student code could signal the grader or fork without limit. Use "
            "bubblewrap, or install Python where every user can read it.",
            RuntimeWarning, stacklevel=3)
        return None
    return NOBODY


def sandbox_env(home: str) -> dict[str, str]:
    """The whole environment of the worker (and of bubblewrap): an allow-list, no secrets."""
    env = {k: os.environ[k] for k in PASSED_THROUGH_ENV if k in os.environ}
    env.update(FIXED_ENV, HOME=home, TMPDIR=SANDBOX_TMP if home == SANDBOX_ROOT else home)
    return env


def count_processes(uid: int) -> int:
    """Processes (threads included by the kernel's count) already owned by ``uid``."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def kernel_limits(limits: Limits, uid: int | None) -> list[tuple[int, int, int]]:
    """``(resource, soft, hard)`` the worker sets on itself before any student code runs.

    The process limit counts every process of the uid, so for a grader that cannot drop to
    ``nobody`` it is what the user already runs plus ``limits.processes``.
    """
    import resource  # POSIX only, like every mode that starts a process

    processes = limits.processes + (0 if uid is not None else count_processes(os.getuid()))
    return [(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),  # SIGXCPU first
            (resource.RLIMIT_AS, limits.address_space, limits.address_space),
            (resource.RLIMIT_FSIZE, limits.file_size, limits.file_size),
            (resource.RLIMIT_NPROC, processes, processes),
            (resource.RLIMIT_CORE, 0, 0)]


@dataclass(frozen=True)
class Launch:
    """Everything :class:`subprocess.Popen` needs to start one worker."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    uid: int | None

    def popen_kwargs(self) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        if self.uid is not None:
            ids = {"user": self.uid, "group": self.uid, "extra_groups": []}
        return {"env": self.env, "cwd": self.cwd, "start_new_session": True, **ids}


def bwrap_masks(hidden: Sequence[Path]) -> list[str]:
    """Arguments hiding each path: an empty tmpfs over folders, /dev/null over files."""
    args: list[str] = []
    for path in hidden:
        path = path.resolve()
        if not path.exists() or path.is_relative_to(SANDBOX_TMP):
            continue  # absent, or already invisible under the private /tmp
        args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    return args


def plan(mode: str, workdir: Path, fds: tuple[int, int], generation: int, limits: Limits,
         caps: list[int], hidden: Sequence[Path], uid: int | None) -> Launch:
    """The worker's launch; ``workdir`` holds the private copy of the submission and ``uid``
    is who student code runs as (see :func:`drop_uid`). The worker confines itself."""
    config = {"root": inside_root(mode, workdir), "request_fd": fds[0], "response_fd": fds[1],
              "generation": generation, "caps": caps, **confinement(mode, limits, uid)}
    worker = [sys.executable, "-I", "-m", "gradekit.sandbox.worker", json.dumps(config)]
    return wrap(mode, worker, workdir, hidden, uid, limits)


def plan_command(mode: str, command: Sequence[str], workdir: Path, limits: Limits,
                 hidden: Sequence[Path], uid: int | None, *, folder: str = ".",
                 shared: Sequence[Path] = (), readable: Sequence[Path] = (),
                 env: dict[str, str] | None = None) -> Launch:
    """Any program (a notebook kernel, say) under the same isolation as the worker.

    Inside, ``workdir`` is at :func:`inside_root`; the program starts in its ``folder``,
    confined by :mod:`gradekit.sandbox.confine` first. ``shared`` folders appear at their own
    path and are writable (a kernel's sockets and connection file), ``readable`` ones
    read-only (a data set in a home folder); ``env`` is added to the allow-listed environment.
    """
    config = json.dumps(confinement(mode, limits, uid))
    shim = [sys.executable, "-I", "-m", "gradekit.sandbox.confine", config, *command]
    binds = [*bind_in_place(shared, "--bind"), *bind_in_place(readable, "--ro-bind")]
    return wrap(mode, shim, workdir, hidden, uid, limits, binds, env or {}, folder)


def inside_root(mode: str, workdir: Path) -> str:
    """Where the program sees its private copy of ``workdir``."""
    return SANDBOX_ROOT if mode == "bwrap" else str(workdir)


def confinement(mode: str, limits: Limits, uid: int | None) -> dict[str, Any]:
    """What the confined process applies to itself. Under bubblewrap (started as root) it
    also drops to ``uid``; a plain subprocess is started as ``uid`` already."""
    return {"rlimits": kernel_limits(limits, uid), "uid": uid if mode == "bwrap" else None}


def wrap(mode: str, argv: list[str], workdir: Path, hidden: Sequence[Path],
         uid: int | None, limits: Limits, binds: Sequence[str] = (),
         extra_env: dict[str, str] | None = None, folder: str = ".") -> Launch:
    """Put ``argv`` in the sandbox of ``mode`` with the allow-listed environment (plus
    ``extra_env``), starting in ``folder`` of the workdir; ``binds`` are further bubblewrap
    mounts."""
    env = {**sandbox_env(inside_root(mode, workdir)), **(extra_env or {})}
    if mode == "bwrap":
        mounts = [*runtime_mounts(), "--bind", str(workdir), SANDBOX_ROOT, *binds,
                  *bwrap_masks(hidden)]
        chdir = os.path.normpath(os.path.join(SANDBOX_ROOT, folder))
        argv = bwrap_command(bwrap_unshare(), mounts, env, chdir, argv, limits.tmp_bytes)
        return Launch(argv, env, str(workdir), None)
    if mode == "subprocess":
        return Launch(argv, env, os.path.normpath(workdir / folder), uid)
    raise ValueError(f"mode {mode!r} does not start a process")


def enlarge_pipe(fd: int) -> None:
    """Give a protocol pipe 1 MB of buffer (fewer wake-ups per large array), if allowed."""
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def prepare_workdir(root: Path, scratch: Path, uid: int | None) -> Path:
    """Copy the submission into ``scratch`` and hand it to ``uid``, the only writer."""
    workdir = scratch / "submission"
    shutil.copytree(root, workdir, symlinks=True)
    if uid is not None:
        for path in (scratch, workdir, *workdir.rglob("*")):
            os.lchown(path, uid, uid)
    return workdir
