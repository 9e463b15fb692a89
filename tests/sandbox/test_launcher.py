"""The launch plan: environment allow-list, namespaces, the first confined steps, limits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_helpers import TIGHT

from gradekit.sandbox import launcher, mounts
from gradekit.sandbox.confinement import Confinement


def test_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADEKIT_TEST_SECRET", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    env = launcher.sandbox_env(mounts.WORK)
    assert set(env) <= {*launcher.PASSED_THROUGH_ENV, *launcher.FIXED_ENV, "HOME", "TMPDIR"}
    assert env["HOME"] == mounts.WORK and env["TMPDIR"] == "/tmp"
    assert env["OPENBLAS_NUM_THREADS"] == "1"


def test_a_grading_process_takes_the_batchs_host_facts_and_asks_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch asks once; each grading process it starts would otherwise pay a sandbox start
    and an interpreter start to ask the same."""
    facts = launcher.HostFacts(bwrap=False, interpreter_path=(Path("/nowhere/lib"),))
    monkeypatch.setattr(launcher, "_PROBED", {})
    monkeypatch.setattr(mounts, "_ASKED", {})

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a grading process started a process to ask what it was told")

    monkeypatch.setattr(subprocess, "run", no_process)
    launcher.adopt_host_facts(facts)
    assert launcher.host_facts() == facts
    assert launcher.bwrap_works() is False
    assert mounts.interpreter_path() == (Path("/nowhere/lib"),)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of auto, bwrap, subprocess, none"):
        launcher.resolve_mode("docker")


def test_bwrap_plan_isolates_and_passes_only_the_allow_list(tmp_path: Path) -> None:
    confinement = Confinement("bwrap", TIGHT, uid=1234)
    plan = launcher.plan_worker(confinement, tmp_path, tmp_path, (5, 6), 0, [1, 2, 3])
    try:
        argv = plan.argv
        for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session",
                     "--clearenv"):
            assert flag in argv
        assert ["--ro-bind", "/", "/"] not in [argv[i:i + 3] for i in range(len(argv))]
        upload = argv.index(mounts.UPLOAD)
        assert argv[upload - 2:upload] == ["--ro-bind", str(tmp_path)]
        assert argv[argv.index("/tmp") - 1] == "--tmpfs"
        assert argv[argv.index("/tmp") - 2] == str(TIGHT.tmp_bytes)
        config = json.loads(argv[-1])["confine"]
        assert config["uid"] == 1234 and config["populate"] == [mounts.UPLOAD, mounts.WORK]
        assert config["chdir"] == mounts.WORK
        assert plan.env == launcher.sandbox_env(mounts.WORK)
        assert set(plan.pass_fds) >= {5, 6}
    finally:
        plan.close()


def test_a_shared_uid_counts_what_it_already_runs_an_own_uid_starts_from_zero() -> None:
    import resource

    def nproc(confinement: Confinement) -> int:
        return dict((r, soft) for r, soft, _ in launcher.kernel_limits(confinement))[
            resource.RLIMIT_NPROC]

    assert nproc(Confinement("subprocess", TIGHT)) > TIGHT.processes
    assert nproc(Confinement("subprocess", TIGHT, uid=1234)) == TIGHT.processes
    assert nproc(Confinement("bwrap", TIGHT)) == TIGHT.processes  # its own user namespace


PROBE = """
import json, os, resource, socket
with socket.socket() as sock:
    sock.settimeout(1)
    reached = sock.connect_ex(("127.0.0.1", int(os.sys.argv[1]))) == 0
print(json.dumps([os.getuid(), resource.getrlimit(resource.RLIMIT_AS)[0], os.getcwd(), reached,
                  sorted(os.environ), sorted(os.listdir("."))]))
"""


def test_any_command_runs_confined_like_the_worker(mode: str, tmp_path: Path,
                                                   confined) -> None:
    source = tmp_path / "source"
    (source / "homework").mkdir(parents=True)
    (source / "homework" / "notes.txt").write_text("mine")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    confinement = confined(mode, TIGHT)
    with socket.create_server(("127.0.0.1", 0)) as server:
        command = [sys.executable, "-I", "-c", PROBE, str(server.getsockname()[1])]
        launch = launcher.plan_command(confinement, command, source, scratch,
                                       folder="homework")
        try:
            done = subprocess.run(launch.argv, capture_output=True, text=True, timeout=30,
                                  check=True, **launch.popen_kwargs())
        finally:
            launch.close()
    seen_uid, address_space, cwd, reached, env, listed = json.loads(done.stdout)
    assert address_space == TIGHT.address_space
    assert cwd == f"{launcher.inside_workdir(confinement, scratch)}/homework"
    assert listed == ["notes.txt"]
    allowed = {*launcher.PASSED_THROUGH_ENV, *launcher.FIXED_ENV, "HOME", "TMPDIR", "PWD"}
    assert set(env) <= allowed  # PWD: the shell-less exec keeps bubblewrap's
    assert seen_uid == (confinement.uid if confinement.uid is not None else os.getuid())
    assert reached is (mode == "subprocess")  # only bubblewrap takes the network away


def test_a_plain_subprocess_gets_a_fresh_copy_its_scratch_stays_the_graders(
        tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.py").write_text("x = 1\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    workdir = launcher.prepare_workdir(source, scratch, None)
    (workdir / "left-over").write_text("from an earlier run")
    workdir = launcher.prepare_workdir(source, scratch, None)
    assert sorted(p.name for p in workdir.iterdir()) == ["a.py"]
    assert scratch.stat().st_mode & 0o777 == 0o711
    if os.geteuid() == 0:
        workdir = launcher.prepare_workdir(source, scratch, 4321)
        assert {p.lstat().st_uid for p in (workdir, workdir / "a.py")} == {4321}
        assert scratch.stat().st_uid == 0
