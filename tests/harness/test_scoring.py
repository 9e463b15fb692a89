import pytest

from gradekit.harness.results import TestResult
from gradekit.harness.scoring import check_fraction, part_totals, status_for


def result(part, score, max_score, status="passed"):
    return TestResult(f"t::{part}{score}", part, score, max_score, status)


def test_undeclared_parts_sum_their_tests():
    totals = part_totals([result("a", 2, 2), result("a", 0, 3, "failed"), result("b", 1, 1)])
    assert list(totals) == ["a", "b"]
    assert (totals["a"].score, totals["a"].max_score, totals["a"].passed) == (2, 5, 1)
    assert totals["a"].tests == 2 and not totals["a"].declared


def test_declared_parts_scale_to_their_points_and_keep_declaration_order():
    totals = part_totals([result("b", 1, 1), result("a", 1, 4, "partial")], {"a": 20, "c": 5})
    assert list(totals) == ["a", "c", "b"]
    assert totals["a"].score == pytest.approx(5.0) and totals["a"].max_score == 20
    assert (totals["c"].score, totals["c"].max_score, totals["c"].tests) == (0.0, 5, 0)
    assert totals["b"].max_score == 1 and totals["a"].declared


def test_fraction_and_status():
    assert [status_for(f) for f in (0.0, 0.3, 1.0)] == ["failed", "partial", "passed"]
    assert check_fraction(1) == 1.0
    with pytest.raises(ValueError, match=r"between 0 and 1, got -0\.1"):
        check_fraction(-0.1)
