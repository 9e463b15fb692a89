"""The theta_nets pack (seed 004: code written in the notebook) end to end, in the sandbox.

The correct example is the solution notebook alone (its define-cells expanded): graded with
the notebook run, it gets every point, and the Keras part is not applicable where
TensorFlow is missing. The starter and the buggy example are graded without notebooks, at
the same time; each bug of the buggy example (the named mutants marked ``example = true``,
edited in the notebook's cells) costs its own part and no other.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from examples.submissions import bugs_of, write_examples

pytestmark = pytest.mark.slow

STUDENT_PARTS = {"layers", "softmax", "two_layer", "three_layer"}


def grading(*args: str) -> subprocess.Popen:
    """``gradekit grade ARGS -a theta_nets --format json`` in a process of its own."""
    return subprocess.Popen([sys.executable, "-m", "gradekit", "grade", *args, "-a",
                             "theta_nets", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def row(process: subprocess.Popen) -> dict:
    """The one row a grading process printed."""
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode in (0, 1), stderr
    [graded] = json.loads(stdout)
    return graded


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("theta_nets")
    correct, starter, buggy = write_examples(folder, "theta_nets")
    # one process each: an example holds only its package folder (the notebook inside it),
    # so a batch of them would name each row after that folder, not after the example
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
    assert training["accuracy"] >= 0.38 and training["credit"] == 1.0
    assert correct["score"] == pytest.approx(correct["max_score"])


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None,
                    reason="TensorFlow is installed: the Keras part is graded")
def test_the_keras_part_is_not_applicable_without_tensorflow(graded):
    part = graded["correct"]["parts"]["frameworks"]
    assert part["max_score"] == 0 and "tensorflow" in part["not_applicable"]
    assert not [t for t in graded["correct"]["tests"] if t["part"] == "frameworks"]
    assert graded["correct"]["max_score"] == 90


def test_the_starter_gets_zero_and_says_not_implemented(graded):
    starter = graded["starter"]
    assert starter["score"] == 0
    tests = [t for t in starter["tests"] if t["part"] in STUDENT_PARTS]
    assert tests and all(t["message"].startswith("not implemented: ") for t in tests), [
        t["message"] for t in tests if not t["message"].startswith("not implemented: ")]


def test_each_bug_costs_exactly_its_part(graded):
    buggy = graded["buggy"]
    lost = {name for name, part in buggy["parts"].items()
            if name in STUDENT_PARTS and part["score"] < part["max_score"]}
    assert lost == STUDENT_PARTS, f"{len(bugs_of('theta_nets'))} bugs, one per part"
    messages = " ".join(t["message"] for t in buggy["tests"] if t["status"] != "passed")
    assert "the third layer's weights are not regularised" in messages
    assert "lacks its factor 0.5" in messages and "reshape it to x's shape" in messages
