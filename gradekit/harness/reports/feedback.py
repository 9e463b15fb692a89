"""What every student-facing report says about a test: a readable description, and the points
it is worth once its part is scaled, so that the tests of a report always sum to its total.

A pack may declare a part's points (the tests then only weigh each other), so a test's own
``score`` / ``max_score`` are not what it adds to the grade; :func:`line_items` gives what it
does. A declared part with no test that ran still counts in the total, so it gets an item of
its own that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gradekit.harness.results import SubmissionResult, TestResult

NO_TEST = "no test of this part ran"
NOT_APPLICABLE = "not applicable in this version"


@dataclass(frozen=True)
class LineItem:
    """One line of a grade: a test (or a part none of whose tests ran) and its points."""

    part: str
    description: str
    score: float
    max_score: float
    test: TestResult | None = None  # None for a part without tests
    applicable: bool = True  # False: the part is not in this version (worth nothing)

    @property
    def lost(self) -> float:
        return max(0.0, self.max_score - self.score)

    @property
    def passed(self) -> bool:
        return self.test is not None and self.test.status == "passed"


def points(value: float) -> str:
    """The one number format of the reports: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def describe(name: str) -> str:
    """A check's name as a student reads it: ``test_layers.py::test_affine_forward[shape0]``
    becomes ``affine forward (shape0)``."""
    _, _, inside = name.rpartition("::")
    function, _, params = (inside or name).partition("[")
    words = re.sub(r"^test_?", "", function).replace("_", " ").strip() or function
    params = params.rstrip("]").replace("-", ", ")
    return f"{words} ({params})" if params else words


def line_items(result: SubmissionResult) -> list[LineItem]:
    """Every test with the points it adds to the grade, parts in the order of the score
    table; the items' scores sum to ``result.score`` and their maxima to ``result.max_score``."""
    totals = result.parts
    items = []
    for part, total in totals.items():
        members = [t for t in result.tests if t.part == part]
        for test in members:
            score, max_score = total.points_of(test)
            items.append(LineItem(part, describe(test.name), score, max_score, test))
        if part in result.not_applicable:
            items.append(LineItem(part, f"{NOT_APPLICABLE}: {result.not_applicable[part]}",
                                  0.0, 0.0, applicable=False))
        elif not members or total.scale == 0:  # the part's points, carried by no test
            items.append(LineItem(part, NO_TEST, total.score, total.max_score))
    return items
