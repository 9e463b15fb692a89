"""What grading produces: one :class:`TestResult` per test, one :class:`SubmissionResult` per
submission.

These are plain data so that every report format (table, JSON, CSV, Gradescope) renders the
same facts; :meth:`SubmissionResult.to_dict` is the documented JSON shape
(``schemas/result.schema.json`` next to this package's reports).

Their text comes from student code, notebooks and uploads, so every text field is made inert
(:mod:`gradekit.harness.inert`) as the value is built: no report, and no writer a course adds,
can show a terminal escape sequence from a submission.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from gradekit.harness.inert import inert, inert_data
from gradekit.harness.scoring import PartTotal, part_totals

Status = Literal["passed", "failed", "error", "skipped", "partial"]
Visibility = Literal["visible", "hidden", "after_due_date"]
NotebookStatus = Literal["completed", "cell-errors", "timed-out", "kernel-died", "invalid",
                         "missing", "not-run"]

CauseKind = Literal[
    "not-implemented",  # the starter's stub still raises, or the component is not there
    "import-failed",    # the module that should define the component did not import
    "wrong-result",     # a check of what the code returned failed
    "student-error",    # the student's code raised, crashed or broke the sandbox protocol
    "timeout",          # the test, a call or the submission's time budget ran out
    "missing-artifact", # the notebook did not leave what the test needs (best_model, ...)
    "data-missing",     # the grader could not find a data set: the course staff's to fix
    "grader-error",     # the test itself is broken: the course staff's to fix
]

NOT_IMPLEMENTED = "not implemented: "  # how a not-implemented cause reads, before its names

STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped", "partial")
VISIBILITIES: tuple[Visibility, ...] = ("visible", "hidden", "after_due_date")


class _InertText:
    """Base of the frozen result types: every string in every field is inert once built."""

    def __post_init__(self) -> None:
        for f in fields(self):  # only dataclasses derive from this class
            value = getattr(self, f.name)
            cleaned = inert_data(value)
            if cleaned is not value:
                object.__setattr__(self, f.name, cleaned)


@dataclass(frozen=True)
class Cause(_InertText):
    """Why a test lost its points, as fields: reports group tests that share one.

    ``subject`` is what the cause is about (``layers.affine_forward``, ``cs231n/layers.py``,
    ``best_model``); ``summary`` says it in words, the same for every test it hits.
    """

    kind: CauseKind
    subject: str = ""
    summary: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class TestResult(_InertText):
    """The outcome of one test: points earned out of points possible, and why.

    ``output`` is what the student's code printed while the test ran (capped).
    """

    __test__ = False  # a data class, not something for pytest to collect

    name: str
    part: str
    score: float
    max_score: float
    status: Status
    message: str = ""
    visibility: Visibility = "visible"
    duration: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)  # e.g. accuracy, rubric, credit
    cause: Cause | None = None  # set for every test that lost points
    output: str = ""
    components: tuple[str, ...] = ()  # the submission's components the test asked for
    isolated: bool = False  # they ran with the reference standing in for their other modules

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "components": list(self.components)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        cause = data.get("cause")
        return cls(**{**data, "cause": Cause(**cause) if cause else None,
                      "components": tuple(data.get("components", ()))})


@dataclass(frozen=True)
class Finding(_InertText):
    """Something worth reporting that is not a test, e.g. a notebook cell that failed."""

    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class CellFailure(_InertText):
    """A notebook cell that raised, timed out or was running when its kernel died.

    ``source``, ``output`` and ``traceback`` come from the student's notebook: untrusted text,
    inert once here, that the HTML report still escapes.
    """

    index: int                   # position in the notebook, from 0
    execution_count: int | None  # the ``In [n]`` number, when the kernel gave one
    error: str                   # "ValueError: shapes (2,3) and (4,) not aligned", ...
    source: str = ""             # the cell's code
    output: str = ""             # what the cell printed before failing (capped)
    traceback: str = ""          # plain text, colour codes removed (capped)
    dependents: tuple[str, ...] = ()  # tests that needed a value this cell defines

    @property
    def label(self) -> str:
        """How a student finds the cell: ``cell 12 (In [9])``."""
        count = f" (In [{self.execution_count}])" if self.execution_count else ""
        return f"cell {self.index + 1}{count}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "dependents": list(self.dependents)}


@dataclass(frozen=True)
class NotebookReport(_InertText):
    """How one notebook of a submission ran: its status, its failed cells, its executed copy."""

    name: str                    # as the pack lists it, e.g. "FullyConnectedNets.ipynb"
    status: NotebookStatus
    message: str = ""            # why, for every status but ``completed``
    duration: float = 0.0        # seconds from kernel start to the last cell
    cells_run: int = 0
    cells_total: int = 0
    failed_cells: tuple[CellFailure, ...] = ()
    executed: str | None = None  # file name of the executed copy in the output folder
    # (11, 2): as submitted, the cell saved as In [11] came before In [2]; () if in order
    saved_out_of_order: tuple[int, ...] = ()

    @property
    def order_note(self) -> str:
        """What the saved execution counts say about how the student ran it, or ''."""
        if not self.saved_out_of_order:
            return ""
        before, after = self.saved_out_of_order
        return (f"as submitted, In [{before}] comes before In [{after}]: its cells were last "
                "run out of order, so the outputs it was saved with may not be what a run "
                "from the top gives; the grader ran every cell from the top")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed_cells": [c.to_dict() for c in self.failed_cells],
                "saved_out_of_order": list(self.saved_out_of_order)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookReport:
        cells = tuple(CellFailure(**{**c, "dependents": tuple(c.get("dependents", ()))})
                      for c in data.get("failed_cells", ()))
        known = {f.name for f in fields(cls)} - {"failed_cells", "saved_out_of_order"}
        return cls(**{k: v for k, v in data.items() if k in known}, failed_cells=cells,
                   saved_out_of_order=tuple(data.get("saved_out_of_order", ())))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    notebooks: list[NotebookReport] = field(default_factory=list)
    part_titles: dict[str, str] = field(default_factory=dict)  # from the pack, for feedback
    not_applicable: dict[str, str] = field(default_factory=dict)  # part -> why, worth nothing
    graded_at: str = field(default_factory=_now)  # ISO 8601, when the result was made

    def __setattr__(self, name: str, value: Any) -> None:
        """The submission id comes from an upload's file name: inert, even when reassigned."""
        super().__setattr__(name, inert(value) if isinstance(value, str) else value)

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
            "graded_at": self.graded_at,
            "parts": {name: {**total.to_dict(), **_title(self.part_titles, name),
                             **({"not_applicable": self.not_applicable[name]}
                                if name in self.not_applicable else {})}
                      for name, total in self.parts.items()},
            "tests": [t.to_dict() for t in self.tests],
            "findings": [f.to_dict() for f in self.findings],
            "notebooks": [n.to_dict() for n in self.notebooks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        """Rebuild a result from :meth:`to_dict` output (totals are recomputed, not trusted)."""
        declared = {name: part["max_score"] for name, part in data.get("parts", {}).items()
                    if part.get("declared")}
        return cls(
            submission=data["submission"],
            assignment=data["assignment"],
            tests=[TestResult.from_dict(t) for t in data["tests"]],
            findings=[Finding(**f) for f in data.get("findings", [])],
            duration=data.get("duration", 0.0),
            part_points=declared,
            notebooks=[NotebookReport.from_dict(n) for n in data.get("notebooks", [])],
            part_titles={name: part["title"] for name, part in data.get("parts", {}).items()
                         if part.get("title")},
            graded_at=data.get("graded_at", ""),
            not_applicable={name: part["not_applicable"]
                            for name, part in data.get("parts", {}).items()
                            if part.get("not_applicable")},
        )

    def title_of(self, part: str) -> str:
        """The part's title for students, its name when the pack gives none."""
        return self.part_titles.get(part) or part


def _title(titles: dict[str, str], part: str) -> dict[str, str]:
    return {"title": titles[part]} if part in titles else {}
