"""Grading on a Dask cluster (``--cluster local:N``): the same rows as local processes, the
same journal, a killed worker costing only its submission, course material out of reach."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradekit.authoring.release import build_starter
from gradekit.batch import Batch
from gradekit.cli import main
from gradekit.cluster import (
    ClusterError,
    _outcome,
    course_material,
    pack_upload,
    parse_local,
    unpack_upload,
)
from gradekit.course import find_course_root
from gradekit.grading import GradingOptions
from gradekit.packs import get_pack

pytest.importorskip("distributed", reason="pip install 'gradekit[cluster]'")

#: a submission that looks for the worker's copy of the course and prints what it found
SNOOP = '''
import glob as _glob, tempfile as _tempfile
_found = _glob.glob(_tempfile.gettempdir() + "/gradekit-course-*/**", recursive=True)
print("SNOOPED", sorted(p for p in _found if p.endswith(".py"))[:3])
'''


def _row(result) -> dict:
    """A row without its clock readings (when, how long), which differ between any runs."""
    def timeless(value):
        if isinstance(value, dict):
            return {k: timeless(v) for k, v in value.items() if k not in ("duration", "graded_at")}
        return [timeless(v) for v in value] if isinstance(value, list) else value
    return timeless(result.to_dict())


def test_local_addresses_are_parsed() -> None:
    assert parse_local("local:2") == 2
    assert parse_local("tcp://10.0.0.1:8786") is None
    for wrong in ("local:", "local:0", "local:x"):
        with pytest.raises(ClusterError, match="local:N"):
            parse_local(wrong)


def test_an_upload_travels_with_its_links_as_links(tmp_path: Path) -> None:
    upload = tmp_path / "alice"
    (upload / "cs231n").mkdir(parents=True)
    (upload / "cs231n" / "layers.py").write_text("x = 1\n")
    (upload / "secret").symlink_to("/etc/passwd")
    there = unpack_upload(pack_upload(upload), tmp_path / "worker")
    assert there == tmp_path / "worker" / "alice"
    assert (there / "cs231n" / "layers.py").read_text() == "x = 1\n"
    assert (there / "secret").is_symlink() and os.readlink(there / "secret") == "/etc/passwd"


def test_the_course_material_is_the_course_and_not_gradekit() -> None:
    pack = get_pack("fc_nets")
    material = course_material(pack, find_course_root())
    names = zipfile.ZipFile(io.BytesIO(material)).namelist()
    assert "reference/__init__.py" in names
    assert "assignments/fc_nets/assignment.toml" in names
    assert any(n.startswith("hidden_tests/fc_nets/") for n in names)
    assert not any(n.startswith(("gradekit/", "course/")) for n in names)
    assert material == course_material(pack, find_course_root())  # same bytes each time


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    pack, course = get_pack("fc_nets"), find_course_root()
    folder = tmp_path_factory.mktemp("class")
    build_starter(pack, course, folder / "correct", keep_solutions=True)
    build_starter(pack, course, folder / "starter")
    shutil.copytree(folder / "starter", folder / "snoop")
    with (folder / "snoop" / "cs231n" / "layers.py").open("a") as layers:
        layers.write(SNOOP)
    return sorted(folder.iterdir())


def _options(out: Path | None = None) -> GradingOptions:
    return GradingOptions(course_root=find_course_root(), notebooks=False, output_dir=out)


@pytest.mark.slow
def test_a_cluster_grades_the_rows_local_processes_do_and_resumes(submissions, tmp_path):
    pack = get_pack("fc_nets")
    local = {g.entry.id: _row(g.result) for g in Batch(submissions, pack, _options()).grade(2)}
    out = tmp_path / "out"
    graded = CliRunner().invoke(main, ["grade", *map(str, submissions), "-a", "fc_nets",
                                       "--no-notebooks", "--cluster", "local:2", "--out",
                                       str(out), "--format", "csv"])
    assert graded.exit_code == 0, graded.output
    again = Batch(submissions, pack, _options(out))  # the cluster's rows, from the journal
    assert [e.id for e in again.kept] == ["correct", "snoop", "starter"] and not again.pending
    on_cluster = {g.entry.id: _row(g.result) for g in again.grade()}
    assert on_cluster == local
    assert (out / "correct" / "result.json").is_file()
    assert local["correct"]["score"] > local["starter"]["score"]
    [snooped] = [f for f in on_cluster["snoop"]["findings"] if f["kind"] == "output"]
    assert "SNOOPED []" in snooped["message"]  # the worker's course copy is out of reach


@pytest.mark.slow
@pytest.mark.parametrize("cluster", ["local:1", "local:2"])
def test_a_worker_killed_mid_task_costs_only_its_submission(submissions, tmp_path, cluster):
    folder = tmp_path / "class"
    for name in ("ann", "ben"):
        shutil.copytree(submissions[-1], folder / name)  # the starter
    starts: list[str] = []

    def started(entry, pid: int) -> None:
        starts.append(entry.id)
        if entry.id == "ben":
            os.kill(pid, signal.SIGKILL)  # the worker grading ben, each time it tries

    batch = Batch(sorted(folder.iterdir()), get_pack("fc_nets"), _options())
    # on one worker, ann has finished there and must not be charged for its death; on two,
    # ben's retry must not wait for a worker that holds something it needs
    rows = {g.entry.id: g.result for g in batch.grade(cluster=cluster, on_start=started)}
    assert starts.count("ben") == 2  # one retry
    [died] = rows["ben"].findings
    assert died.kind == "grader-error"
    assert died.message.startswith("grading process died: the Dask worker grading it died, "
                                   "2 times in all")
    assert rows["ann"].tests and not any(f.kind == "grader-error" for f in rows["ann"].findings)


def test_without_dask_the_error_says_what_to_install(monkeypatch) -> None:
    from contextlib import ExitStack

    from gradekit.cluster import connect

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with ExitStack() as stack, pytest.raises(ClusterError, match=r"gradekit\[cluster\]"):
        connect("local:1", stack)


def test_cluster_and_jobs_together_are_a_usage_error(submissions) -> None:
    result = CliRunner().invoke(main, ["grade", str(submissions[0]), "-a", "fc_nets",
                                       "--cluster", "local:1", "-j", "2"])
    assert result.exit_code == 2 and "leave out -j" in result.output


class _LostFuture:
    """A task that finished, whose result the client can no longer fetch."""

    status = "finished"

    def result(self) -> str:
        from distributed.client import FutureCancelledError

        raise FutureCancelledError("gradekit-ann", reason="scheduler connection lost")


def test_a_result_lost_on_the_way_back_is_an_error_row_not_a_crash():
    """The batch goes on; the row says why and is graded again next run (grader-error)."""
    from gradekit.batch import RETRIED, Entry

    pack = get_pack("fc_nets")
    result, timings = _outcome(Entry("ann", Path("ann"), ""), pack, _LostFuture(), None)
    [finding] = result.findings
    assert finding.kind == "grader-error" and finding.kind in RETRIED
    assert "FutureCancelledError" in finding.message and timings is None
