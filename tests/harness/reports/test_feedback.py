"""Line items: readable check names, one number format, points that sum to the grade."""

from __future__ import annotations

import pytest

from gradekit.harness.reports.feedback import NO_TEST, describe, line_items, points
from gradekit.harness.results import SubmissionResult, TestResult


@pytest.mark.parametrize(("name", "described"), [
    ("test_layers.py::test_affine_forward_matches_reference[shape0]",
     "affine forward matches reference (shape0)"),
    ("hidden/test_fc.py::test_fc_net_matches_reference[batchnorm-0.7]",
     "fc net matches reference (batchnorm, 0.7)"),
    ("test_optim.py::TestAdam::test_first_step", "first step"),
    ("test_dropout.py", "dropout.py"),
])
def test_describe_reads_like_a_sentence(name: str, described: str) -> None:
    assert describe(name) == described


@pytest.mark.parametrize(("value", "shown"), [(4.0, "4"), (4.5, "4.5"), (0.4783, "0.48"),
                                              (68.456, "68.46"), (-0.001, "0"), (0, "0")])
def test_points_has_one_format(value: float, shown: str) -> None:
    assert points(value) == shown


def test_line_items_sum_to_the_total_whatever_the_scaling() -> None:
    tests = [TestResult("t.py::test_a", "layers", 1.0, 1.0, "passed"),
             TestResult("t.py::test_b", "layers", 0.0, 3.0, "failed"),
             TestResult("t.py::test_acc", "accuracy", 0.478, 1.0, "partial"),
             TestResult("t.py::test_free", "extra", 2.0, 2.0, "passed")]
    result = SubmissionResult("s", "fc_nets", tests,
                              part_points={"layers": 20.0, "accuracy": 10.0, "dropout": 10.0})
    items = line_items(result)
    assert sum(i.score for i in items) == pytest.approx(result.score)
    assert sum(i.max_score for i in items) == pytest.approx(result.max_score) == 42
    assert [(i.score, i.max_score) for i in items] == [
        (5.0, 5.0), (0.0, 15.0), (pytest.approx(4.78), 10.0), (0, 10.0), (2.0, 2.0)]
    assert items[3].description == NO_TEST and items[3].test is None
    assert items[1].lost == 15.0
