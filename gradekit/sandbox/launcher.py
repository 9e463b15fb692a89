"""Build the command line, environment and descriptors that start one sandboxed program.

Three modes: ``bwrap`` (bubblewrap: an allow-list file system, see
:mod:`gradekit.sandbox.mounts`; no network; own PID, IPC and UTS namespaces; a sized private
``/tmp`` holding the work dir), ``subprocess`` (rlimits and an unprivileged uid only, with a
loud warning) and ``none`` (no process at all; for a student checking their own code).

Under bubblewrap started by root there is no user namespace: the program's first, trusted
step (:mod:`gradekit.sandbox.confine`) copies the submission into the sized ``/tmp``, sets the
kernel limits and drops to the submission's own uid for good. A grader that is not root runs
bubblewrap in a fresh user namespace per sandbox instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradekit.sandbox import mounts
from gradekit.sandbox.confinement import Confinement
from gradekit.sandbox.limits import Limits

MODES = ("auto", "bwrap", "subprocess", "none")
PIPE_BYTES = 1 << 20
PASSED_THROUGH_ENV = ("LANG", "LC_ALL", "TZ")
FIXED_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
#: How long a sandbox may take to come up before the grader gives up on it.
READY_SECONDS = 60.0


class SandboxUnavailable(RuntimeError):  # noqa: N818 - reads better at the raise site
    """The requested isolation cannot be provided on this machine."""


def bwrap_unshare() -> list[str]:
    """Namespaces to unshare. As root, no user namespace: the program drops to the
    submission's uid itself, a real uid, so root-only files stay closed and the process
    limit counts that submission alone."""
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try"]
    return common if os.geteuid() == 0 else [*common, "--unshare-user"]


def bwrap_command(mount_args: Sequence[str], env: dict[str, str], command: Sequence[str],
                  info_fd: int | None = None) -> list[str]:
    """A bubblewrap command line over ``mount_args``; ``info_fd`` receives the sandbox's
    process id as JSON."""
    info = ["--info-fd", str(info_fd)] if info_fd is not None else []
    return ["bwrap", *mount_args, *bwrap_unshare(), "--die-with-parent", "--new-session",
            "--clearenv", *[arg for key, value in env.items() for arg in ("--setenv", key, value)],
            *info, "--chdir", "/", "--", *command]


#: what the probe of :func:`bwrap_works` found, once per process
_PROBED: dict[str, bool] = {}


def bwrap_works() -> bool:
    """True when bubblewrap is installed and can build our sandbox here (probed once per
    process, or told by :func:`adopt_host_facts`)."""
    if "bwrap" not in _PROBED:
        _PROBED["bwrap"] = _probe_bwrap()
    return _PROBED["bwrap"]


@dataclass(frozen=True)
class HostFacts:
    """What a batch learns about its host once and tells each grading process it starts:
    whether bubblewrap works here, and ``python -I``'s ``sys.path``. Asking costs a
    process a sandbox start (0.07-0.1 s) and an interpreter start (0.03 s)."""

    bwrap: bool
    interpreter_path: tuple[Path, ...]


def host_facts() -> HostFacts:
    """This process's answers, asked now if not yet."""
    return HostFacts(bwrap_works(), mounts.interpreter_path())


def adopt_host_facts(facts: HostFacts) -> None:
    """Take the answers of the batch that started this grading process."""
    _PROBED["bwrap"] = facts.bwrap
    mounts.interpreter_path_known(facts.interpreter_path)


def _probe_bwrap() -> bool:
    if shutil.which("bwrap") is None:
        return False
    limits = Limits()
    mount_args = mounts.allow_list(readable=(), never_visible=(), tmp_bytes=limits.tmp_bytes,
                                   shm_bytes=limits.shm_bytes)
    probe = bwrap_command(mount_args, dict(FIXED_ENV),
                          [sys.executable, "-I", "-c", "import gradekit"])
    try:
        done = subprocess.run(probe, env=dict(FIXED_ENV), capture_output=True, timeout=30)
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


def reachable_by_others(path: Path) -> bool:
    """True when any uid may traverse every folder up to ``path`` (the o+x bit)."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in (path, *path.parents))


def student_can_run() -> bool:
    """True when an unprivileged uid can start the interpreter (a plain subprocess has no
    bind mounts to make it reachable)."""
    return all(reachable_by_others(p) for p in mounts.runtime_paths())


def sandbox_env(home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of the program (and of bubblewrap): an allow-list, no secrets."""
    env = {k: os.environ[k] for k in PASSED_THROUGH_ENV if k in os.environ}
    tmp = "/tmp" if home == mounts.WORK else home
    env.update(FIXED_ENV, HOME=home, TMPDIR=tmp, **(extra or {}))
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


def kernel_limits(confinement: Confinement) -> list[tuple[int, int, int]]:
    """``(resource, soft, hard)`` the program sets on itself before any student code runs.

    The process limit counts every process of the uid in its user namespace. A sandbox with
    a uid or a user namespace of its own starts from zero; a plain subprocess that keeps the
    grader's uid gets what that uid already runs plus ``limits.processes``.
    """
    import resource  # POSIX only, like every mode that starts a process

    limits = confinement.limits
    shares_uid = confinement.uid is None and confinement.mode == "subprocess"
    processes = limits.processes + (count_processes(os.getuid()) if shares_uid else 0)
    return [(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),  # SIGXCPU first
            (resource.RLIMIT_AS, limits.address_space, limits.address_space),
            (resource.RLIMIT_FSIZE, limits.file_size, limits.file_size),
            (resource.RLIMIT_NPROC, processes, processes),
            (resource.RLIMIT_CORE, 0, 0)]


@dataclass
class Launch:
    """Everything :class:`subprocess.Popen` needs to start one sandboxed program, and the
    descriptors the grader keeps to learn where the sandbox's files are."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    uid: int | None
    pass_fds: tuple[int, ...] = ()
    child_ends: list[int] = field(default_factory=list)  # ours to close once it started
    info_fd: int | None = None
    ready_fd: int | None = None

    def popen_kwargs(self) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        if self.uid is not None:
            ids = {"user": self.uid, "group": self.uid, "extra_groups": []}
        return {"env": self.env, "cwd": self.cwd, "start_new_session": True,
                "pass_fds": self.pass_fds, **ids}

    def started(self) -> None:
        """Close the grader's copies of what the child inherited (it has its own now)."""
        for fd in self.child_ends:
            os.close(fd)
        self.child_ends.clear()

    def sandbox_root(self, timeout: float = READY_SECONDS) -> int | None:
        """A descriptor of the sandbox's root folder, once its first step says it is set up
        (bubblewrap only; ``None`` otherwise). The descriptor keeps naming that sandbox's
        files however its processes come and go."""
        if self.info_fd is None or self.ready_fd is None:
            return None
        try:
            info = json.loads(_read_to_end(self.info_fd, timeout))
            if _read_within(self.ready_fd, timeout, 1) != b"1":
                raise RuntimeError("the sandbox ended before it was ready")
            pid = int(info["child-pid"])
            root = os.open(f"/proc/{pid}/root", os.O_PATH | os.O_DIRECTORY)
            if os.stat(f"/proc/{pid}/ns/mnt").st_ino != info["mnt-namespace"]:
                os.close(root)  # the process id was taken by someone else meanwhile
                raise RuntimeError("the sandbox ended before it was ready")
            return root
        finally:
            self.close()

    def close(self) -> None:
        self.started()
        for name in ("info_fd", "ready_fd"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)


def _read_to_end(fd: int, timeout: float) -> bytes:
    """Everything written to ``fd`` until its writer closes it (bubblewrap's info)."""
    chunks = []
    while chunk := _read_within(fd, timeout, 4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_within(fd: int, timeout: float, size: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        raise TimeoutError(f"the sandbox did not come up within {timeout:g} s")
    return os.read(fd, size)


def inside_workdir(confinement: Confinement, scratch: Path) -> str:
    """Where the program sees its private copy of the submission."""
    return mounts.WORK if confinement.mode == "bwrap" else str(scratch / "submission")


def plan_worker(confinement: Confinement, source: Path, scratch: Path, fds: tuple[int, int],
                generation: int, caps: list[int]) -> Launch:
    """The worker's launch over the submission at ``source`` (see
    :mod:`gradekit.sandbox.worker`); it confines itself before reading anything of it."""
    config = {"request_fd": fds[0], "response_fd": fds[1], "generation": generation,
              "caps": caps, "confine": steps(confinement, scratch)}
    worker = [sys.executable, "-I", "-m", "gradekit.sandbox.worker", json.dumps(config)]
    return wrap(confinement, worker, source, scratch, pass_fds=fds)


def plan_command(confinement: Confinement, command: Sequence[str], source: Path,
                 scratch: Path, *, folder: str = ".", inbox: Path | None = None,
                 dirs: Sequence[str] = (), env: dict[str, str] | None = None) -> Launch:
    """Any program (a notebook kernel, say) under the same isolation as the worker, started
    by ``python -I -m gradekit.sandbox.confine``.

    It starts in ``folder`` of its work dir; ``inbox`` is a grader-owned folder shown
    read-only at :data:`~gradekit.sandbox.mounts.INBOX`; ``dirs`` are folders made for it
    (sticky and world-writable, like ``/tmp``) before its code runs; ``env`` is added to the
    allow-listed environment. Under bubblewrap the launch reports the sandbox's root
    (:meth:`Launch.sandbox_root`).
    """
    ready_read = ready_write = None
    if confinement.mode == "bwrap":
        ready_read, ready_write = os.pipe()
    config = steps(confinement, scratch, folder=folder, dirs=dirs, ready_fd=ready_write)
    shim = [sys.executable, "-I", "-m", "gradekit.sandbox.confine", json.dumps(config),
            *command]
    fds = () if ready_write is None else (ready_write,)
    launch = wrap(confinement, shim, source, scratch, pass_fds=fds, inbox=inbox, env=env,
                  report_root=True)
    if ready_read is not None:
        launch.ready_fd = ready_read
        launch.child_ends.append(ready_write)
    return launch


def steps(confinement: Confinement, scratch: Path, *, folder: str = ".",
          dirs: Sequence[str] = (), ready_fd: int | None = None) -> dict[str, Any]:
    """What the program's first, trusted step does (see :func:`gradekit.sandbox.confine.
    prepare`). Under bubblewrap (started as root) it also drops to the submission's uid; a
    plain subprocess is started as that uid already."""
    work = inside_workdir(confinement, scratch)
    populate = [mounts.UPLOAD, work] if confinement.mode == "bwrap" else None
    return {"rlimits": kernel_limits(confinement),
            "uid": confinement.uid if confinement.mode == "bwrap" else None,
            "populate": populate, "dirs": list(dirs), "ready_fd": ready_fd,
            "chdir": os.path.normpath(os.path.join(work, folder))}


def wrap(confinement: Confinement, argv: list[str], source: Path, scratch: Path, *,
         pass_fds: tuple[int, ...] = (), inbox: Path | None = None,
         env: dict[str, str] | None = None, report_root: bool = False) -> Launch:
    """Put ``argv`` in the sandbox of ``confinement`` over the submission at ``source``."""
    home = inside_workdir(confinement, scratch)
    env = sandbox_env(home, {**confinement.env, **(env or {})})
    if confinement.mode == "subprocess":
        prepare_workdir(source, scratch, confinement.uid)
        return Launch(argv, env, str(scratch), confinement.uid, pass_fds)
    if confinement.mode != "bwrap":
        raise ValueError(f"mode {confinement.mode!r} does not start a process")
    identity = [(data_pipe(text), path) for path, text in
                mounts.identity_files(confinement.uid).items()]
    extra = [(source, mounts.UPLOAD)] + ([(inbox, mounts.INBOX)] if inbox is not None else [])
    limits = confinement.limits
    mount_args = mounts.allow_list(readable=confinement.readable,
                                   never_visible=confinement.never_visible,
                                   tmp_bytes=limits.tmp_bytes, shm_bytes=limits.shm_bytes,
                                   extra=extra, data=identity)
    info_read = info_write = None
    if report_root:
        info_read, info_write = os.pipe()
    argv = bwrap_command(mount_args, env, argv, info_write)
    data_fds = tuple(fd for fd, _ in identity)
    launch = Launch(argv, env, str(scratch), None,
                    (*pass_fds, *data_fds, *(() if info_write is None else (info_write,))),
                    child_ends=[*data_fds, *(() if info_write is None else (info_write,))],
                    info_fd=info_read)
    return launch


def data_pipe(text: str) -> int:
    """A pipe's read end holding ``text`` (small enough for the pipe's buffer)."""
    read, write = os.pipe()
    try:
        os.write(write, text.encode())
    finally:
        os.close(write)
    return read


def enlarge_pipe(fd: int) -> None:
    """Give a protocol pipe 1 MB of buffer (fewer wake-ups per large array), if allowed."""
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def prepare_workdir(source: Path, scratch: Path, uid: int | None) -> Path:
    """A fresh copy of the submission at ``scratch/submission``, handed to ``uid``, the only
    writer (a plain subprocess has no private ``/tmp`` to copy it into). ``scratch`` itself
    stays the grader's: traversable, not writable, so nothing can be planted beside it."""
    workdir = scratch / "submission"
    if workdir.exists():
        shutil.rmtree(workdir)  # a restart starts from the submission again
    scratch.chmod(0o711)
    shutil.copytree(source, workdir, symlinks=True)
    if uid is not None:
        for path in (workdir, *workdir.rglob("*")):
            os.lchown(path, uid, uid)
    return workdir
