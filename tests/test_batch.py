"""Class grading: every submission gets its row whatever happens to another one's grading
process, ids never clash, bad input says what it is, and a stopped batch resumes.

Submissions here are the pack's starter code (every test fails fast, "not implemented") and
the modules-only grade (no notebooks), so a batch of three takes seconds per row.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradekit.authoring.release import build_starter
from gradekit.batch import BYTECODE, DATA, JOURNAL, Batch, _keep_to_a_cpu, _shared_folder
from gradekit.cli import main
from gradekit.course import find_course_root
from gradekit.grading import GradingOptions
from gradekit.packs import get_pack
from gradekit.sandbox import launcher
from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.launcher import bwrap_works

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("starter") / "starter"
    build_starter(get_pack("fc_nets"), find_course_root(), folder)
    return folder


def _class(folder: Path, starter: Path, names: list[str]) -> Path:
    for name in names:
        shutil.copytree(starter, folder / name)
    return folder


def _options(out: Path | None = None) -> GradingOptions:
    return GradingOptions(course_root=find_course_root(), notebooks=False, output_dir=out)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_killed_grading_process_costs_only_its_own_row(tmp_path, starter, jobs):
    submissions = sorted(_class(tmp_path / "class", starter, ["ann", "ben", "cat"]).iterdir())
    batch = Batch(submissions, get_pack("fc_nets"), _options())

    def started(entry, pid: int) -> None:
        if entry.id == "ben":
            os.kill(pid, signal.SIGKILL)

    rows = {done.entry.id: done.result for done in batch.grade(jobs, on_start=started)}
    assert sorted(rows) == ["ann", "ben", "cat"]
    [died] = rows["ben"].findings
    assert died.kind == "grader-error"
    assert died.message.startswith("grading process died: killed by signal 9 (SIGKILL)")
    for sid in ("ann", "cat"):
        assert rows[sid].tests and not any(f.kind == "grader-error" for f in rows[sid].findings)


def test_a_batch_killed_midway_keeps_its_reports_and_regrades_only_what_is_missing(
        tmp_path, starter):
    folder = _class(tmp_path / "class", starter, ["ann", "ben", "cat", "dan"])
    out = tmp_path / "out"
    command = [sys.executable, "-m", "gradekit", "grade", str(folder), "-a", "fc_nets",
               "--no-notebooks", "--format", "json", "--out", str(out)]
    environment = {**os.environ, "GRADEKIT_COURSE": str(find_course_root())}
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    journal = out / JOURNAL
    deadline = time.monotonic() + 600
    while len(list(journal.glob("*.json"))) < 2:  # two rows kept, the rest not yet
        assert process.poll() is None and time.monotonic() < deadline, "batch ended early"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(journal.glob("*.json")))
    assert 2 <= finished < 4
    # each row's own reports are written as it arrives, before the next row is kept
    reported = [row for row in out.iterdir() if row.is_dir() and row != journal
                and all((row / name).is_file() for name in
                        ("report.txt", "result.json", "results.json", "feedback.html"))]
    assert len(reported) >= finished - 1

    rerun = subprocess.run(command, env=environment, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{finished} of 4 already graded (kept in {out}); grading {4 - finished}" \
        in rerun.stderr
    rows = json.loads(rerun.stdout)
    assert [row["submission"] for row in rows] == ["ann", "ben", "cat", "dan"]
    assert len({row["score"] for row in rows}) == 1  # kept rows equal the regraded ones


def test_a_changed_submission_is_graded_again(tmp_path, starter):
    folder = _class(tmp_path / "class", starter, ["ann", "ben"])
    out = tmp_path / "out"
    pack = get_pack("fc_nets")
    first = Batch(sorted(folder.iterdir()), pack, _options(out))
    list(first.grade())
    (folder / "ben" / "cs231n" / "layers.py").write_text("# rewritten\n")
    again = Batch(sorted(folder.iterdir()), pack, _options(out))
    assert [e.id for e in again.kept] == ["ann"] and [e.id for e in again.pending] == ["ben"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_upload_and_a_folder_of_the_same_name_get_their_own_rows_and_folders(
        tmp_path, starter, jobs):
    folder = _class(tmp_path / "class", starter, ["alice"])
    with zipfile.ZipFile(folder / "alice.zip", "w") as archive:
        for path in starter.rglob("*"):
            archive.write(path, path.relative_to(starter))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "fc_nets", "-j", jobs,
                                       "--no-notebooks", "--format", "json", "--out", str(out)])
    rows = json.loads(result.stdout)
    assert sorted(row["submission"] for row in rows) == ["alice", "alice.zip"]
    assert (out / "alice" / "result.json").is_file()
    assert (out / "alice.zip" / "result.json").is_file()
    ids = {json.loads((out / name / "result.json").read_text())[0]["submission"]
           for name in ("alice", "alice.zip")}
    assert ids == {"alice", "alice.zip"}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bad_input_says_what_it_is_first_and_grade_exits_1(tmp_path, starter, jobs):
    folder = _class(tmp_path / "class", starter, ["good"])
    (folder / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (folder / "empty").mkdir()
    (folder / "notes").mkdir()
    (folder / "notes" / "essay.txt").write_text("I did the homework on paper.")
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "fc_nets", "-j", jobs,
                                       "--no-notebooks", "--format", "json"])
    assert result.exit_code == 1
    rows = {row["submission"]: row for row in json.loads(result.stdout)}
    assert sorted(rows) == ["corrupt", "empty", "good", "notes"]
    for sid in ("corrupt", "empty", "notes"):
        first = rows[sid]["findings"][0]
        assert first["kind"] != "grader-error", first
        assert rows[sid]["tests"] == [], f"{sid}: a wall of not-implemented tests"
        assert f"warning: {sid} needs a look" in result.stderr
    assert rows["good"]["tests"]


def test_a_folder_holding_a_notebook_a_pack_writes_its_code_in_is_one_submission(tmp_path):
    from gradekit.batch import find_submissions
    from gradekit.packs import get_pack

    for student in ("ann", "ben"):
        package = tmp_path / "class" / student / "theta_nets"
        package.mkdir(parents=True)
        (package / "MultiLayerNeuralNets.ipynb").write_text("{}")
    found = find_submissions([tmp_path / "class"], [get_pack("theta_nets")])
    assert [p.name for p in found] == ["ann", "ben"]


# -- data sets shared by a batch's processes ---------------------------------------------------

PLANT = '''

def plant(folder):
    import os
    try:
        with open(os.path.join(folder, "layers.cpython-311.pyc"), "wb") as file:
            file.write(b"planted")
        return "planted"
    except OSError as exc:
        return type(exc).__name__
'''

SNOOP = '''
def read(path):
    try:
        with open(path, "rb") as file:
            return file.read().decode()
    except OSError as exc:
        return type(exc).__name__
'''


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not available")
def test_the_batchs_shared_folder_is_private_and_out_of_the_sandboxs_reach(tmp_path):
    folder = _shared_folder(GradingOptions(sandbox="auto"))
    assert folder is not None
    try:
        for each in (folder, folder / DATA, folder / BYTECODE):
            assert stat.S_IMODE(each.stat().st_mode) == 0o700
        (folder / DATA / "y_held_out.npy").write_text("the labels")
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "snoop.py").write_text(SNOOP + PLANT)
        with WorkerClient(tmp_path, {"snoop": "pkg.snoop"}, sandbox="bwrap",
                          hidden_paths=[folder]) as client:
            assert client.call("snoop.read", str(folder / DATA / "y_held_out.npy")) in (
                "FileNotFoundError", "PermissionError")
            assert client.call("snoop.plant", str(folder / BYTECODE)) in (
                "FileNotFoundError", "PermissionError", "OSError")
        assert not list((folder / BYTECODE).iterdir())
    finally:
        shutil.rmtree(folder)


def test_a_plain_subprocess_batch_shares_nothing(monkeypatch):
    """Its student code may run as the grader's own user, who could rewrite the arrays, or
    plant compiled code for the next grading process to run."""
    assert _shared_folder(GradingOptions(sandbox="subprocess")) is None
    monkeypatch.setattr(launcher, "bwrap_works", lambda: False)
    assert _shared_folder(GradingOptions(sandbox="auto")) is None


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not available")
def test_a_batch_compiles_the_course_code_once_for_all_its_grading_processes(
        tmp_path, starter, monkeypatch):
    """The reference and the hidden tests, as pytest rewrites them, are compiled by the
    first grading process into the batch's folder and read from there by the next one,
    which writes nothing; the folder goes with the batch."""
    import gradekit.batch as batch_module

    made = []

    def kept(options):
        made.append(_shared_folder(options))
        return made[-1]

    monkeypatch.setattr(batch_module, "_shared_folder", kept)
    folder = _class(tmp_path / "class", starter, ["ann", "ben"])
    course = find_course_root()
    compiled = {}

    def written() -> dict[Path, int]:
        prefix = made[0] / BYTECODE
        return {Path("/", p.relative_to(prefix)): p.stat().st_mtime_ns
                for p in prefix.rglob("*.pyc")}

    def started(entry, pid: int) -> None:
        if entry.id == "ben":  # ann's process has sent its row
            compiled.update(written())

    batch = Batch(sorted(folder.iterdir()), get_pack("fc_nets"), _options())
    rows = {}
    for done in batch.grade(1, on_start=started):
        rows[done.entry.id] = done.result
        if done.entry.id == "ben":
            assert written() == compiled  # read back, nothing compiled again
    assert rows["ann"].score == rows["ben"].score
    assert {p.relative_to(course).parts[0] for p in compiled} <= {
        "reference", "hidden_tests", "assignments"}
    assert {"layers", "fc_net"} <= {p.name.split(".")[0] for p in compiled}
    assert any("-pytest-" in p.name and p.parent.name == "fc_nets" for p in compiled)
    assert not made[0].exists()


WHERE = """
import os


def cpus():
    return sorted(os.sched_getaffinity(0))
"""


def _kept(taken: frozenset[int], root: Path,
          results: multiprocessing.connection.Connection) -> None:
    from threadpoolctl import threadpool_info

    chosen = multiprocessing.RawValue("i", -1)
    _keep_to_a_cpu(taken, chosen)
    with WorkerClient(root, {"where": "pkg.where"}) as client:
        results.send((sorted(os.sched_getaffinity(0)), client.call("where.cpus"), chosen.value,
                      {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}))


IMPORTS_OF_A_GRADING = """
import json, sys
from pathlib import Path
import gradekit.fork_server_imports  # as the fork server does
from gradekit.course import find_course_root
from gradekit.grading import GradingOptions, grade_submission
from gradekit.packs import get_pack
before = set(sys.modules)
grade_submission(Path(sys.argv[1]), get_pack("fc_nets"),
                 GradingOptions(course_root=find_course_root(), notebooks=False))
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_a_grading_process_imports_nothing_the_fork_server_could_have(starter, tmp_path):
    """Whatever a grading imports beyond the fork server's preload, each grading process of
    a batch imports again; only the course's reference, found once the course is, is left."""
    done = subprocess.run([sys.executable, "-c", IMPORTS_OF_A_GRADING, str(starter)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          check=True)
    imported = json.loads(done.stdout.splitlines()[-1])
    assert imported, "the grading imported nothing: the course's reference is missing"
    beyond = [name for name in imported if name.split(".")[0] != "reference"]
    assert not beyond, f"add these to gradekit.fork_server.PRELOAD: {beyond}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pinning is Linux's")
def test_a_grading_process_keeps_to_its_cpu_and_its_worker_with_it(tmp_path):
    """The two take turns over a pipe: on one CPU a turn is a context switch, not a wake-up
    of another CPU. BLAS in the grading process goes down to one thread to match. A CPU
    another grading process of the batch keeps to is left to it."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "where.py").write_text(WHERE)
    cpus = sorted(os.sched_getaffinity(0))
    context = multiprocessing.get_context("fork")
    for taken, expected in [(frozenset(), None), (frozenset(cpus[:-1]), cpus[-1])]:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_kept, args=(taken, tmp_path, send))
        child.start()
        try:
            assert receive.poll(60), "the grading process sent nothing"
            grader, worker, chosen, blas_threads = receive.recv()
        finally:
            child.join(30)
        assert grader == worker == [chosen]
        assert chosen in cpus
        if expected is not None:
            assert chosen == expected
        assert blas_threads <= {1}
