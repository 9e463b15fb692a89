"""What a bubblewrap sandbox sees: an allow-list of host paths, and nothing else of the host.

Inside, the file system is built from nothing: the system's ``/usr`` (and the merged-``/usr``
links or folders ``/bin``, ``/lib``, ...), the Python runtime the worker and the kernel import
(interpreter, standard library, site-packages, gradekit), a few files of ``/etc`` plus a
generated ``passwd``, fresh ``/dev`` and ``/proc``, the read-only folders a
:class:`~gradekit.sandbox.confinement.Confinement` names (a data set), and a private ``/tmp``
of a fixed size that holds the submission's work dir. No course repository, no ``.git``, no
other submission, no grader output or temp folder, no home folder: they are simply not there.

The in-sandbox layout (:data:`WORK`, :data:`UPLOAD`, :data:`INBOX`) is the same for the worker
and the kernel. The root and ``/dev`` are remounted read-only, so the only writable places are
the sized ``/tmp`` and ``/dev/shm``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

#: The submission's private, writable copy (also ``HOME``), inside the sized ``/tmp``.
WORK = "/tmp/submission"
#: The submission as the loader prepared it, read-only; copied to :data:`WORK` at start.
UPLOAD = "/.gradekit/upload"
#: What the grader hands in (a kernel's connection file, images to predict on), read-only.
INBOX = "/.gradekit/inbox"
#: Top-level system folders bound read-only (or re-created as the links they are on a
#: merged-``/usr`` system).
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
#: What the dynamic loader and the clock read from ``/etc``; nothing else of it is needed.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime")


#: ``python -I``'s ``sys.path``, asked once per process or told by :func:`interpreter_path_known`
_ASKED: dict[str, tuple[Path, ...]] = {}


def interpreter_path() -> tuple[Path, ...]:
    """``sys.path`` of ``python -I`` (how the worker and the kernel start), resolved: what
    the standard library and the ``.pth`` files of site-packages put there. Asking starts an
    interpreter, so a process asks once, or takes a batch's answer."""
    if "path" not in _ASKED:
        _ASKED["path"] = _ask_interpreter_path()
    return _ASKED["path"]


def interpreter_path_known(path: tuple[Path, ...]) -> None:
    """Take the answer :func:`interpreter_path` gave in the batch that started this grading
    process (same interpreter, same site-packages)."""
    _ASKED["path"] = path


def _ask_interpreter_path() -> tuple[Path, ...]:
    done = subprocess.run([sys.executable, "-I", "-c", "import json, sys; print(json.dumps("
                           "sys.path))"], capture_output=True, text=True, check=True, timeout=60)
    return tuple(Path(entry).resolve() for entry in json.loads(done.stdout)
                 if entry and os.path.isabs(entry) and os.path.exists(entry))


@cache
def runtime_paths() -> tuple[Path, ...]:
    """Host folders the Python runtime lives in, outermost only, outside the system folders
    (which are bound anyway)."""
    import gradekit

    wanted = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix),
              Path(gradekit.__file__).parent, *interpreter_path()}
    resolved = {p.resolve() for p in wanted if p.exists()}
    return tuple(sorted(p for p in resolved if not within_any(p, resolved - {p})
                        and not within_any(p, system_roots())))


def system_roots() -> set[Path]:
    return {Path("/", name) for name in SYSTEM_DIRS}


def within_any(path: Path, roots: Iterable[Path]) -> bool:
    """True when ``path`` is one of ``roots`` or lies inside one."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def with_parents(destination: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing parent of ``destination``, traversable by any uid (bubblewrap
    would make them ``0700``, closed to the student uid)."""
    args: list[str] = []
    for parent in reversed(Path(destination).parents):
        folder = str(parent)
        if folder != "/" and folder not in made:
            made.add(folder)
            args += ["--perms", "0755", "--dir", folder]
    return args


def bind(source: Path | str, destination: str, made: set[str],
         flag: str = "--ro-bind") -> list[str]:
    """Bind ``source`` at ``destination``, its parents made first."""
    made.add(destination)
    return [*with_parents(destination, made), flag, str(source), destination]


def system_mounts(made: set[str]) -> list[str]:
    """``/usr`` and friends: links stay links (``/bin -> usr/bin``), folders are bound."""
    args: list[str] = []
    for name in SYSTEM_DIRS:
        host = Path("/", name)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
            made.add(str(host))
        elif host.is_dir():
            args += bind(host, str(host), made)
    return args


def etc_mounts(made: set[str]) -> list[str]:
    args: list[str] = []
    for name in ETC_FILES:
        host = Path("/etc", name)
        if host.exists():
            args += bind(host.resolve(), str(host), made)
    return args


def identity_files(uid: int | None) -> dict[str, str]:
    """A ``passwd`` and ``group`` naming only root, ``nobody`` and the student (so that
    ``getpass.getuser()`` and friends work), instead of the host's list of users."""
    student = os.getuid() if uid is None else uid
    passwd = ["root:x:0:0:root:/root:/usr/sbin/nologin",
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"]
    group = ["root:x:0:", "nogroup:x:65534:"]
    if student not in (0, 65534):
        passwd.append(f"student:x:{student}:{student}:student:{WORK}:/usr/sbin/nologin")
        group.append(f"student:x:{student}:")
    return {"/etc/passwd": "\n".join(passwd) + "\n", "/etc/group": "\n".join(group) + "\n"}


def masks(never_visible: Sequence[Path], bound: Sequence[Path], made: set[str]) -> list[str]:
    """Hide each never-visible path that a bound folder would show, then bind back the
    runtime folders that lie inside it (a virtual environment inside the course checkout)."""
    args: list[str] = []
    for path in never_visible:
        if not (path.exists() and within_any(path, bound)):
            continue
        if path.is_dir():
            args += ["--perms", "0755", "--tmpfs", str(path)]
            for inner in runtime_paths():
                if inner != path and inner.is_relative_to(path):
                    args += bind(inner, str(inner), made)
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    return args


def allow_list(*, readable: Sequence[Path], never_visible: Sequence[Path], tmp_bytes: int,
               shm_bytes: int, extra: Sequence[tuple[Path, str]] = (),
               data: Sequence[tuple[int, str]] = ()) -> list[str]:
    """The bubblewrap mount arguments of one sandbox: everything it can see.

    ``readable`` folders appear read-only at their own path; ``extra`` binds more host paths
    read-only at the given in-sandbox paths (the upload, an inbox); ``data`` are files whose
    content bubblewrap reads from a descriptor (the generated ``/etc/passwd``).
    """
    made: set[str] = {"/dev", "/proc", "/tmp"}
    args = [*system_mounts(made), "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(shm_bytes), "--tmpfs", "/dev/shm"]
    runtime = [p for p in runtime_paths() if not within_any(p, readable)]
    for path in (*runtime, *readable):  # after /tmp: a checkout may live under it
        args += bind(path, str(path), made)
    args += etc_mounts(made)
    for source, destination in extra:
        args += bind(source, destination, made)
    shown = [*system_roots(), *runtime_paths(), *readable]
    args += masks(never_visible, shown, made)
    for fd, destination in data:
        args += [*with_parents(destination, made), "--ro-bind-data", str(fd), destination]
    return [*args, "--remount-ro", "/dev", "--remount-ro", "/"]
