"""The dlvc_a3 pack (seed 003: the functions written in Assignment3.ipynb) end to end, in
the sandbox.

The correct example is the solution notebook (define-cells expanded): graded with its run,
it gets every point, the trained ``parameters`` scored through its ``classify`` on the
held-out MNIST images. The starter and the buggy example are graded without notebooks, at
the same time; each bug of the buggy example (the named mutants marked ``example = true``)
costs its own part and no other.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from examples.submissions import bugs_of, write_examples

pytestmark = pytest.mark.slow

STUDENT_PARTS = {"dropout", "batchnorm", "initialization", "adam", "network", "classify"}
BUGGY_PARTS = {"dropout", "batchnorm", "adam", "network", "classify"}


def grading(*args: str) -> subprocess.Popen:
    """``gradekit grade ARGS -a dlvc_a3 --format json`` in a process of its own."""
    return subprocess.Popen([sys.executable, "-m", "gradekit", "grade", *args, "-a",
                             "dlvc_a3", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def row(process: subprocess.Popen) -> dict:
    """The one row a grading process printed."""
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode in (0, 1), stderr
    [graded] = json.loads(stdout)
    return graded


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("dlvc_a3")
    correct, starter, buggy = write_examples(folder, "dlvc_a3")
    processes = {"correct": grading(str(correct)),
                 "starter": grading(str(starter), "--no-notebooks"),
                 "buggy": grading(str(buggy), "--no-notebooks")}
    return {name: row(process) for name, process in processes.items()}


def test_the_correct_notebook_gets_full_marks(graded):
    correct = graded["correct"]
    failures = [(t["name"], t["message"]) for t in correct["tests"] if t["status"] != "passed"]
    assert failures == []
    [notebook] = correct["notebooks"]
    assert notebook["failed_cells"] == [] and notebook["cells_run"] == notebook["cells_total"]
    [training] = [t["details"] for t in correct["tests"] if t["part"] == "training"]
    assert training["accuracy"] >= 0.95 and training["credit"] == 1.0
    assert correct["score"] == pytest.approx(correct["max_score"]) == pytest.approx(100)


def test_the_starter_gets_zero_and_says_not_implemented(graded):
    starter = graded["starter"]
    assert starter["score"] == 0
    tests = [t for t in starter["tests"] if t["part"] in STUDENT_PARTS]
    assert tests and all(t["message"].startswith("not implemented: ") for t in tests), [
        t["message"] for t in tests if not t["message"].startswith("not implemented: ")]


def test_each_bug_costs_exactly_its_part(graded):
    buggy = graded["buggy"]
    lost = {name for name, part in buggy["parts"].items()
            if part["max_score"] and part["score"] < part["max_score"]}
    # graded without its notebook (the training part then has no model to score)
    assert lost - {"training"} == BUGGY_PARTS, f"{len(bugs_of('dlvc_a3'))} bugs, one per part"
    assert buggy["parts"]["initialization"]["score"] == buggy["parts"]["initialization"][
        "max_score"]
