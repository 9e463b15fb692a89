"""The conv_nets pack (seed 002's course, package CV7062610) end to end, in the sandbox.

The correct example is graded with its two notebooks run (the Colab-only setup cell fails
off Colab and the run goes on); the starter and the buggy example without them. The buggy
example also ships the course's own Cython-backed ``fast_layers.py``, unbuilt: the grader
grades the course's copy in its place.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from examples.submissions import bugs_of, write_examples

pytestmark = pytest.mark.slow

MODULE_PARTS = {"layers", "fc_net", "conv", "cnn"}
NOT_APPLICABLE = {"normalization", "dropout", "optim"}
UNBUILT_FAST_LAYERS = '''try:
    from .im2col_cython import col2im_cython, im2col_cython
except ImportError:
    print("run the following from the CV7062610 directory and try again:")
    print("python setup.py build_ext --inplace")


def conv_forward_fast(x, w, b, conv_param):
    return im2col_cython(x, w, b, conv_param)
'''


def grading(*args: str) -> subprocess.Popen:
    """``gradekit grade ARGS --format json`` in a process of its own, as staff run it."""
    return subprocess.Popen([sys.executable, "-m", "gradekit", "grade", *args, "--format",
                             "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(process: subprocess.Popen) -> dict[str, dict]:
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode in (0, 1), stderr
    return {row["submission"]: row for row in json.loads(stdout)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict, dict[str, dict]]:
    """The correct example with its notebooks, and at the same time the starter and the buggy
    example without them."""
    folder = tmp_path_factory.mktemp("conv_nets")
    correct, starter, buggy = write_examples(folder, "conv_nets")
    (buggy / "CV7062610" / "fast_layers.py").write_text(UNBUILT_FAST_LAYERS)
    with_notebooks = grading(str(correct))
    without_notebooks = grading(str(starter), str(buggy), "--no-notebooks")
    return rows(with_notebooks)["correct"], rows(without_notebooks)


@pytest.fixture(scope="module")
def correct(graded) -> dict:
    return graded[0]


@pytest.fixture(scope="module")
def without_notebooks(graded) -> dict[str, dict]:
    return graded[1]


def test_the_correct_submission_gets_full_marks_with_its_notebooks_run(correct):
    failures = [(t["name"], t["message"]) for t in correct["tests"] if t["status"] != "passed"]
    assert failures == []
    assert correct["assignment"] == "conv_nets"
    assert correct["score"] == pytest.approx(100) and correct["max_score"] == 100
    for notebook in correct["notebooks"]:
        # the setup cell imports google.colab; every cell after it still ran
        assert notebook["cells_run"] == notebook["cells_total"], notebook
        assert [cell["error"].split(":")[0] for cell in notebook["failed_cells"]] == [
            "ModuleNotFoundError"], notebook["failed_cells"]
    accuracy = {t["part"]: t["details"] for t in correct["tests"]
                if t["part"] in ("training", "accuracy")}
    assert accuracy["training"]["accuracy"] >= 0.30
    assert accuracy["accuracy"]["accuracy"] >= 0.40
    assert "the notebook's 40% (section 11)" in accuracy["accuracy"]["rubric"]
    assert "applied to held-out images" in accuracy["training"]["rubric"]


def test_parts_the_course_lacks_are_reported_not_applicable(correct):
    for name in NOT_APPLICABLE:
        part = correct["parts"][name]
        assert part["max_score"] == 0 and "part 2 of this course" in part["not_applicable"]
    names = " ".join(t["name"] for t in correct["tests"])
    assert "batchnorm" not in names and "dropout" not in names and "adam" not in names


def test_the_starter_gets_zero_and_says_not_implemented(without_notebooks):
    starter = without_notebooks["starter"]
    assert starter["score"] == 0
    graded = [t for t in starter["tests"] if t["part"] in MODULE_PARTS]
    assert graded and all(t["message"].startswith("not implemented: ") for t in graded), [
        t["message"] for t in graded if not t["message"].startswith("not implemented: ")]


def test_each_bug_costs_its_own_part_and_the_course_fast_layers_are_graded(
        without_notebooks):
    buggy = without_notebooks["buggy"]
    lost = {name for name, part in buggy["parts"].items()
            if name in MODULE_PARTS and part["score"] < part["max_score"]}
    assert lost == {"conv", "cnn"}, f"{len(bugs_of('conv_nets'))} bugs: conv x2, cnn x1"
    [supplied] = [f for f in buggy["findings"] if f["kind"] == "supplied"]
    assert "CV7062610/fast_layers.py (the course's copy is always graded)" in supplied["message"]
    messages = " ".join(t["message"] for t in buggy["tests"] if t["status"] != "passed")
    assert "tied maxima" in messages and "stride" in messages
