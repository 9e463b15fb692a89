"""Grading one submission end to end, notebooks included."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gradekit.authoring.release import build_starter
from gradekit.course import find_course_root
from gradekit.grading import GradingOptions, grade_submission
from gradekit.packs import AssignmentPack
from gradekit.sandbox.launcher import bwrap_works

COURSE = find_course_root()
NOTEBOOK = "FullyConnectedNets.ipynb"


def quick_pack(tmp_path: Path) -> AssignmentPack:
    """The fc_nets pack with notebook limits of seconds instead of minutes."""
    assert COURSE is not None
    folder = shutil.copytree(COURSE / "assignments" / "fc_nets", tmp_path / "fc_nets")
    toml = folder / "assignment.toml"
    text = toml.read_text()
    for slow, quick in (("cell_timeout = 300", "cell_timeout = 2"),
                        ("timeout = 900", "timeout = 20")):
        assert slow in text
        text = text.replace(slow, quick)
    toml.write_text(text)
    return AssignmentPack.load(folder)


@pytest.mark.slow
def test_a_hostile_notebook_costs_only_the_accuracy_part(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(os.environ.get("GRADEKIT_DATA", COURSE.parent / "shared" / "data"))
    if not (data / "cifar-10-subset").is_dir():
        pytest.skip(f"CIFAR-10 subset not found under {data}; set GRADEKIT_DATA to run this")
    monkeypatch.setenv("GRADEKIT_DATA", str(data))
    pack = quick_pack(tmp_path)
    submission = tmp_path / "submission"
    build_starter(pack, COURSE, submission, keep_solutions=True)
    nbformat.write(new_notebook(cells=[
        new_code_cell("while True:\n    pass"),
        new_code_cell("import os\nos.kill(os.getpid(), 9)"),
        new_code_cell("best_model = None"),
    ]), str(submission / NOTEBOOK))
    options = GradingOptions(course_root=COURSE,
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    result, _ = grade_submission(submission, pack, options)

    by_part: dict[str, list] = {}
    for test in result.tests:
        by_part.setdefault(test.part, []).append(test)
    for part in ("layers", "fc_net", "optim", "normalization", "dropout"):
        lost = [(t.name, t.message) for t in by_part[part] if t.status != "passed"]
        assert lost == [], part
    [accuracy] = by_part["accuracy"]
    assert accuracy.status != "passed" and accuracy.score == 0
    assert "FullyConnectedNets.ipynb stopped early: the kernel died in cell 2" in accuracy.message
    [report] = result.notebooks
    assert report.status == "kernel-died" and report.cells_run == 1
    assert report.message.startswith("the kernel died in cell 2")
    assert report.failed_cells[0].label == "cell 1 (In [1])"
    assert report.failed_cells[0].error.startswith("CellTimeoutError")
