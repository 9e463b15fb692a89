"""What grading produces: one :class:`TestResult` per test, one :class:`SubmissionResult` per
submission.

These are plain data so that every report format (table, JSON, CSV, Gradescope) renders the
same facts; :meth:`SubmissionResult.to_dict` is the documented JSON shape
(``schemas/result.schema.json`` next to this package's reports).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gradekit.harness.scoring import PartTotal, part_totals

Status = Literal["passed", "failed", "error", "skipped", "partial"]
Visibility = Literal["visible", "hidden", "after_due_date"]

STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped", "partial")
VISIBILITIES: tuple[Visibility, ...] = ("visible", "hidden", "after_due_date")


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test: points earned out of points possible, and why."""

    __test__ = False  # a data class, not something for pytest to collect

    name: str
    part: str
    score: float
    max_score: float
    status: Status
    message: str = ""
    visibility: Visibility = "visible"
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """Something worth reporting that is not a test, e.g. a notebook cell that failed."""

    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class SubmissionResult:
    """All test results of one submission, with totals per part and overall.

    ``part_points`` holds the points a pack declares for its parts; a declared part is worth
    exactly that many points whatever its tests weigh (see :mod:`gradekit.harness.scoring`).
    """

    submission: str
    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    duration: float = 0.0
    part_points: dict[str, float] = field(default_factory=dict)

    @property
    def parts(self) -> dict[str, PartTotal]:
        """Totals per part, in the order parts first appear (declared parts first)."""
        return part_totals(self.tests, self.part_points)

    @property
    def score(self) -> float:
        return sum(total.score for total in self.parts.values())

    @property
    def max_score(self) -> float:
        return sum(total.max_score for total in self.parts.values())

    def failures(self) -> list[TestResult]:
        """Tests that did not earn all their points, for feedback."""
        return [t for t in self.tests if t.status in ("failed", "error", "partial")]

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of this submission (documented in ``result.schema.json``)."""
        return {
            "submission": self.submission,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "duration": self.duration,
            "parts": {name: total.to_dict() for name, total in self.parts.items()},
            "tests": [t.to_dict() for t in self.tests],
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        """Rebuild a result from :meth:`to_dict` output (totals are recomputed, not trusted)."""
        declared = {name: part["max_score"] for name, part in data.get("parts", {}).items()
                    if part.get("declared")}
        return cls(
            submission=data["submission"],
            assignment=data["assignment"],
            tests=[TestResult(**t) for t in data["tests"]],
            findings=[Finding(**f) for f in data.get("findings", [])],
            duration=data.get("duration", 0.0),
            part_points=declared,
        )
