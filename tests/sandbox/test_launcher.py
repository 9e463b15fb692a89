"""The launch plan: environment allow-list, masks, namespaces and kernel limits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from sandbox_helpers import TIGHT

from gradekit.sandbox import launcher


def test_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADEKIT_TEST_SECRET", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    env = launcher.sandbox_env(launcher.SANDBOX_ROOT)
    assert set(env) <= {*launcher.PASSED_THROUGH_ENV, *launcher.FIXED_ENV, "HOME", "TMPDIR"}
    assert env["HOME"] == launcher.SANDBOX_ROOT and env["OPENBLAS_NUM_THREADS"] == "1"


def test_masks_cover_folders_and_files_but_skip_the_private_tmp(tmp_path: Path) -> None:
    file = Path(os.__file__).resolve()  # the standard library: never under /tmp
    folder = file.parent
    args = launcher.bwrap_masks([folder, file, tmp_path, Path("/no/such/path")])
    assert args == ["--tmpfs", str(folder), "--ro-bind", "/dev/null", str(file)]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of auto, bwrap, subprocess, none"):
        launcher.resolve_mode("docker")


def test_bwrap_plan_isolates_and_passes_only_the_allow_list(tmp_path: Path) -> None:
    plan = launcher.plan("bwrap", tmp_path, (5, 6), 0, TIGHT, [1, 2, 3], [Path("/var")],
                         uid=launcher.NOBODY)
    argv = plan.argv
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session",
                 "--clearenv"):
        assert flag in argv
    assert argv[argv.index("--bind") + 1:argv.index("--bind") + 3] == [
        str(tmp_path), launcher.SANDBOX_ROOT]
    assert argv[argv.index("--ro-bind") + 1:argv.index("--ro-bind") + 3] == ["/", "/"]
    config = json.loads(argv[-1])
    assert config["uid"] == launcher.NOBODY and config["root"] == launcher.SANDBOX_ROOT
    assert plan.env == launcher.sandbox_env(launcher.SANDBOX_ROOT)


def test_process_limit_counts_what_the_user_already_runs() -> None:
    assert launcher.count_processes(os.getuid()) >= 1


@pytest.mark.skipif(os.geteuid() != 0, reason="only root drops to nobody")
def test_root_grader_runs_student_code_as_nobody() -> None:
    assert launcher.drop_uid("bwrap") == launcher.NOBODY
    assert launcher.drop_uid("none") is None


PROBE = """
import json, os, resource, socket
with socket.socket() as sock:
    sock.settimeout(1)
    reached = sock.connect_ex(("127.0.0.1", int(os.sys.argv[1]))) == 0
print(json.dumps([os.getuid(), resource.getrlimit(resource.RLIMIT_AS)[0], os.getcwd(), reached,
                  sorted(os.environ)]))
"""


def test_any_command_runs_confined_like_the_worker(mode: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        uid = launcher.drop_uid(mode)
    (tmp_path / "source").mkdir()
    workdir = launcher.prepare_workdir(tmp_path / "source", tmp_path / "scratch", uid)
    with socket.create_server(("127.0.0.1", 0)) as server:
        command = [sys.executable, "-I", "-c", PROBE, str(server.getsockname()[1])]
        launch = launcher.plan_command(mode, command, workdir, TIGHT, [], uid)
        done = subprocess.run(launch.argv, capture_output=True, text=True, timeout=30,
                              check=True, **launch.popen_kwargs())
    seen_uid, address_space, cwd, reached, env = json.loads(done.stdout)
    assert address_space == TIGHT.address_space
    assert cwd == launcher.inside_root(mode, workdir)
    allowed = {*launcher.PASSED_THROUGH_ENV, *launcher.FIXED_ENV, "HOME", "TMPDIR", "PWD"}
    assert set(env) <= allowed  # PWD: bubblewrap sets it for --chdir
    assert seen_uid == (uid if uid is not None else os.getuid())
    assert reached is (mode == "subprocess")  # only bubblewrap takes the network away


def test_a_runtime_under_tmp_is_bound_back_over_the_private_tmp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    venv = Path("/tmp/checkout/.venv")
    monkeypatch.setattr(launcher, "runtime_paths", lambda: [venv, Path("/usr")])
    args = launcher.runtime_mounts()
    bind = args.index("--ro-bind")
    assert args[bind:bind + 3] == ["--ro-bind", str(venv), str(venv)]
    made = args.index("/tmp/checkout")
    assert args[made - 3:made + 1] == ["--perms", "0755", "--dir", "/tmp/checkout"]
    assert "/usr" not in args  # the read-only root already shows it
