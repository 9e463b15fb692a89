"""Points: from a test's credit to its score, and from test scores to part totals.

A test is worth its ``points`` marker (1 by default) and earns ``fraction * points``. A part's
total is the sum of its tests, unless the pack declares the part's points: then the tests
only weigh each other and the part is scaled to exactly the declared points. That lets an
instructor add a hidden test without re-balancing the whole assignment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradekit.harness.results import Status, TestResult


def check_fraction(fraction: float) -> float:
    """Validate a credit fraction; anything outside [0, 1] is a bug in the test."""
    value = float(fraction)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"credit must be a fraction between 0 and 1, got {fraction!r}")
    return value


def status_for(fraction: float) -> Status:
    """``passed`` for full credit, ``failed`` for none, ``partial`` in between."""
    if fraction >= 1.0:
        return "passed"
    return "failed" if fraction <= 0.0 else "partial"


@dataclass(frozen=True)
class PartTotal:
    """Points earned and possible in one part, and how many of its tests passed."""

    score: float
    max_score: float
    passed: int
    tests: int
    declared: bool
    scale: float = 1.0  # what one point of a test's own weight is worth in this part

    def to_dict(self) -> dict[str, float | int | bool]:
        return asdict(self)

    def points_of(self, test: TestResult) -> tuple[float, float]:
        """The test's score and maximum as the part counts them: they sum to the part's."""
        return test.score * self.scale, test.max_score * self.scale


def part_totals(
    tests: Iterable[TestResult], declared: Mapping[str, float] | None = None
) -> dict[str, PartTotal]:
    """Sum test scores per part, scaling parts whose points the pack declares."""
    declared = dict(declared or {})
    raw: dict[str, list[TestResult]] = {name: [] for name in declared}
    for test in tests:
        raw.setdefault(test.part, []).append(test)
    totals = {}
    for part, members in raw.items():
        score = sum(t.score for t in members)
        max_score = sum(t.max_score for t in members)
        scale = 1.0
        if part in declared:
            scale = declared[part] / max_score if max_score else 0.0
            score, max_score = score * scale, declared[part]
        passed = sum(t.status == "passed" for t in members)
        totals[part] = PartTotal(score, max_score, passed, len(members), part in declared, scale)
    return totals
