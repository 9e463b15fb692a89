"""Two graded submissions, built directly, for the report writers."""

from __future__ import annotations

import pytest

from gradekit.harness.results import Cause, Finding, SubmissionResult, TestResult


@pytest.fixture
def results() -> list[SubmissionResult]:
    alice = SubmissionResult(
        submission="alice",
        assignment="fc_nets",
        tests=[
            TestResult("test_layers.py::test_affine", "layers", 2.0, 2.0, "passed"),
            TestResult("test_layers.py::test_relu", "layers", 0.0, 1.0, "failed",
                       "relu(x): relative error 1.0e+00 exceeds 1e-09 [bold]x[/bold]"),
            TestResult("hidden/test_optim.py::test_adam", "optim", 1.5, 3.0, "partial",
                       "half the steps", "hidden"),
            TestResult("hidden/test_optim.py::test_late", "optim", 0.0, 1.0, "error",
                       "ZeroDivisionError: division by zero", "after_due_date"),
        ],
        findings=[Finding("notebook", "cell 12 raised ValueError")],
        duration=1.25,
        part_points={"layers": 6.0},
    )
    bob = SubmissionResult(
        submission="bob",
        assignment="fc_nets",
        tests=[TestResult("test_layers.py::test_affine", "layers", 0.0, 2.0, "failed",
                          "not implemented: layers.affine_forward",
                          cause=Cause("not-implemented", "layers.affine_forward",
                                      "not implemented: layers.affine_forward"))],
        part_points={"layers": 6.0},
    )
    return [alice, bob]
