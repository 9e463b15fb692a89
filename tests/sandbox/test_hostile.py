"""The hostile corpus: each case is contained, and the honest part of the same submission
still grades.

Every submission holds an honest ``cs231n/layers.py`` and one hostile ``cs231n/attack.py``
from ``hostile/``. A case says how the attack is triggered (at import, or by calling
``attack.run``) and what containment looks like: the error a student would read, or a
returned value that proves nothing leaked. After the attack, ``layers.affine_forward`` must
still get its "pass" verdict from the same client.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sandbox_helpers import HONEST_LAYERS, TIGHT, affine_verdict

import gradekit
from gradekit.course import find_course_root
from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.errors import CallTimeout, StudentError, WireError, WorkerCrashed
from gradekit.sandbox.limits import Limits

HOSTILE = Path(__file__).parent / "hostile"
SECRET = "s3cr3t-value-the-student-must-never-see"


@dataclass
class Context:
    """What the attacks aim at, on the grader's side."""

    course_root: Path
    output_dir: Path
    listening_port: int

    @property
    def secret_file(self) -> Path:
        return self.output_dir / "grades.csv"


def pid_namespace(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/pid")


def processes_in(namespace: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "pid") == namespace:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def worker_namespace(client: WorkerClient) -> str:
    """The PID namespace of the sandboxed worker: bubblewrap's deepest descendant."""
    pid = client.pid
    while children := Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pid = int(children[0])
    return pid_namespace(pid)


@dataclass(frozen=True)
class Case:
    """One hostile submission and what containment means for it."""

    module: str | None  # a file in hostile/; None: the module map names a missing module
    args: Callable[[Context], tuple] | None = None  # None: the attack fires at import
    raises: type[Exception] | None = None
    match: str = ""  # must appear in the error, or in the reason the module is unavailable
    returns: Callable[[Any, Context], bool] | None = None
    bwrap_only: bool = False
    source: str | None = None  # inline source, for what cannot live in a .py file
    checks_after: tuple[str, ...] = field(default=())
    #: limits other than TIGHT: work that is slow on a loaded machine (zero-filling 512 MB)
    limits: Limits | None = None


def no_args(context: Context) -> tuple:
    return ()


def instructor_targets(context: Context) -> tuple:
    root = context.course_root
    return ([str(root / "hidden_tests"), str(root / "reference"),
             str(root / "reference" / "__init__.py"), str(context.output_dir),
             str(context.secret_file)],)


def write_targets(context: Context) -> tuple:
    return ([str(Path(gradekit.__file__).parent / "owned.txt"),
             str(Path(np.__file__).parent / "owned.txt"),
             str(context.course_root / "owned.txt"), str(context.output_dir / "owned.txt"),
             str(context.output_dir.with_name(context.output_dir.name + "-owned.txt")),
             "/usr/owned.txt"],)  # the next-to-last is in a world-writable folder: only the
                                  # read-only root stops it


#: Where a sandbox might write: its work dir and /tmp share one budget, /dev/shm has its own,
#: everything else is read-only.
FILL_TARGETS = {"/tmp/submission": "No space left on device", "/tmp": "No space left on device",
                "/dev/shm": "No space left on device", "/": "Read-only file system",
                "/dev": "Read-only file system", "/.gradekit/upload": "Read-only file system"}


def fill_targets(context: Context) -> tuple:
    return (list(FILL_TARGETS),)


def budgets_held(stopped: dict[str, str]) -> bool:
    return all(stopped[folder].startswith(why) for folder, why in FILL_TARGETS.items())


def network_targets(context: Context) -> tuple:
    return ([("127.0.0.1", context.listening_port), ("192.0.2.1", 80)],)


def after_the_worker_stopped(context: Context) -> tuple:
    time.sleep(1.5)  # self_stop.py stops its worker 0.5 s after import
    return (np.zeros(2 << 20),)  # 16 MB: more than a pipe holds, so the grader must wait


CASES = {
    "infinite loop at import": Case("import_loop", match="did not finish within 2 s"),
    "exception at import": Case("import_error", match="RuntimeError: broken at import"),
    "sys.exit at import": Case("import_exit", match="SystemExit: bye from import"),
    "syntax error": Case(None, source="def run(:\n    pass\n", match="SyntaxError"),
    "missing module": Case(None, match="No module named 'cs231n.not_there'"),
    "infinite loop in a function": Case("call_loop", no_args, CallTimeout,
                                        "did not finish within 2 s"),
    "memory bomb": Case("memory_bomb", no_args, StudentError,
                        "MemoryError: (the memory limit is 512 MB of address space)",
                        limits=replace(TIGHT, call_seconds=30)),
    "disk filler": Case("disk_filler", no_args, StudentError, "File too large"),
    "/tmp filler": Case("tmp_filler", no_args, StudentError, "No space left on device",
                        bwrap_only=True),
    "filling every writable place": Case(
        "fill_everywhere", fill_targets, returns=lambda stopped, _: budgets_held(stopped),
        bwrap_only=True),
    "fork bomb": Case("fork_bomb", no_args, CallTimeout, "did not finish", bwrap_only=True,
                      checks_after=("no process survives",)),
    "thread that never ends": Case("thread_forever", no_args,
                                   returns=lambda count, _: count >= 2,
                                   checks_after=("closes promptly",)),
    "worker stops reading (SIGSTOP)": Case("self_stop", after_the_worker_stopped, CallTimeout,
                                           "did not finish within 2 s"),
    "sys.exit in a function": Case("sys_exit", no_args, StudentError, "SystemExit"),
    "os._exit": Case("os_exit", no_args, WorkerCrashed, "exited with code 9"),
    "kill of the parent": Case("kill_parent", no_args,  # the worker answers afterwards
                               returns=lambda outcome, _: outcome in ("refused", "sent"),
                               bwrap_only=True),
    "SIGTERM ignored": Case("sigterm_ignored", no_args, CallTimeout, "did not finish"),
    "stdout flood": Case("stdout_flood", no_args, returns=lambda value, _: value == 42,
                         checks_after=("output is capped",)),
    "reading hidden tests, reference and grader output": Case(
        "read_files", instructor_targets, returns=lambda found, _: found == {},
        bwrap_only=True),
    "writing outside the work dir": Case(
        "write_files", write_targets, returns=lambda written, _: written == [],
        bwrap_only=True, checks_after=("nothing was written",)),
    "network connect": Case("network", network_targets,
                            returns=lambda connected, _: connected == [], bwrap_only=True),
    "secrets in the environment": Case(
        "environment", no_args, returns=lambda seen, _: SECRET not in seen
        and "GRADEKIT_TEST_SECRET" not in seen),
    "patched numpy and builtins": Case(
        "patch_equality", no_args,
        returns=lambda v, _: v[1] is True and not np.allclose(v[0], np.ones(3))),
    "ndarray subclass": Case(
        "ndarray_subclass", no_args,
        returns=lambda v, _: type(v) is np.ndarray and not (v == 1).any()),
    "object array": Case("object_array", no_args, WireError, "dtype object"),
    "forged 10 GB array": Case("huge_claim", no_args, WireError, "claims 10000000000 bytes"),
    "NaN and inf": Case("nan_inf", no_args,
                        returns=lambda v, _: np.isnan(v[0]) and np.isinf(v[1:]).all()
                        and not np.allclose(v, [0.0, 1.0, 2.0])),
    "wrong shape and dtype": Case("wrong_shape_dtype", no_args,
                                  returns=lambda v, _: v.shape == (3, 2) and v.dtype == np.int32),
    "recursive structure": Case("recursive", no_args, WireError, "nested more than"),
    "exception that cannot print": Case(
        "unprintable_error", no_args, StudentError,
        "UnprintableError: <a UnprintableError that cannot be printed>"),
    "number that cannot convert": Case("bad_number", no_args, WireError,
                                       "could not be prepared for sending (ValueError)"),
}


@pytest.fixture
def context(monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("GRADEKIT_TEST_SECRET", SECRET)
    course_root = find_course_root()
    assert course_root is not None
    base = "/var/tmp" if Path("/var/tmp").is_dir() else None  # outside the private /tmp
    with tempfile.TemporaryDirectory(dir=base) as output_dir, \
            socket.create_server(("127.0.0.1", 0)) as server:
        context = Context(course_root, Path(output_dir), server.getsockname()[1])
        context.secret_file.write_text(SECRET)
        yield context


def after_attack(check: str, client: WorkerClient, context: Context, namespace: str) -> None:
    if check == "no process survives":
        deadline = time.monotonic() + 3
        while processes_in(namespace) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_in(namespace) == []
    elif check == "closes promptly":
        started = time.monotonic()
        client.close()
        assert time.monotonic() - started < 2
    elif check == "output is capped":
        output = client.output()
        assert len(output) < TIGHT.output_bytes + 200 and "bytes of output were discarded" in output
    elif check == "nothing was written":
        assert not any(Path(p).exists() for p in write_targets(context)[0])
    else:
        raise AssertionError(f"unknown check {check!r}")


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_submission_is_contained(case: Case, mode: str, context: Context,
                                         make_client) -> None:
    if case.bwrap_only and mode != "bwrap":
        pytest.skip("only bubblewrap contains this attack")
    files = {"cs231n/layers.py": HONEST_LAYERS}
    if case.module is not None or case.source is not None:
        source = case.source if case.source is not None else (
            HOSTILE / f"{case.module}.py").read_text()
        files["cs231n/attack.py"] = source
    attack_module = "cs231n.attack" if "cs231n/attack.py" in files else "cs231n.not_there"
    client = make_client(files, {"layers": "cs231n.layers", "attack": attack_module},
                         sandbox=mode, hidden_paths=[context.output_dir],
                         limits=case.limits or TIGHT)

    if case.args is None:
        assert not any(name.startswith("attack.") for name in client.available())
        failure = client.unavailable()["attack"]
        assert case.match in f"{failure.summary}\n{failure.traceback}"
    else:
        namespace = worker_namespace(client) if mode == "bwrap" else ""
        if case.raises is not None:
            with pytest.raises(case.raises, match=re.escape(case.match)):
                client.call("attack.run", *case.args(context))
        else:
            assert case.returns(client.call("attack.run", *case.args(context)), context)
        for check in case.checks_after:
            after_attack(check, client, context, namespace)
        if "closes promptly" in case.checks_after:
            return
    assert affine_verdict(client) == "pass"
