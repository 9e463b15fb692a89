"""The HTML feedback page: one self-contained page a student can open offline.

Everything shown (messages, test names, notebook cells, tracebacks) comes from the
submission, so the template autoescapes it all (no ``|safe`` anywhere), and the one link, to
the executed notebook, is percent-encoded so it can only be a relative file name; the page
carries no script and no external URL, and its Content-Security-Policy blocks both should
escaping ever be bypassed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, TextIO

from gradekit.harness.reports.table import not_implemented_line, split_not_implemented
from gradekit.harness.results import SubmissionResult, TestResult

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    """Built on first use: every report format is registered at import, few runs write HTML."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("gradekit.harness.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class PartFeedback:
    """One part's lost points: the folded not-implemented line and the other failing tests."""

    name: str
    missing_count: int
    missing_line: str
    tests: list[TestResult]


def part_feedback(result: SubmissionResult) -> list[PartFeedback]:
    """Parts that lost points, each with what to fix, in the order of the score table."""
    feedback = []
    for part in result.parts:
        missing, others = split_not_implemented([t for t in result.failures() if t.part == part])
        if missing or others:
            line = not_implemented_line(missing) if missing else ""
            feedback.append(PartFeedback(part, len(missing), line, others))
    return feedback


def render_html(results: Sequence[SubmissionResult]) -> str:
    """The page for ``results``: one section per submission."""
    sections = [{"result": r, "feedback": part_feedback(r),
                 "accuracy": [t for t in r.tests if "accuracy" in t.details]}
                for r in results]
    return _environment().get_template("feedback.html.j2").render(sections=sections)


def write_html(results: Sequence[SubmissionResult], out: TextIO) -> None:
    out.write(render_html(results))
