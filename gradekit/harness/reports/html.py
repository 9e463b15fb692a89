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

from gradekit.harness.reports.causes import cause_summary, shared_cause
from gradekit.harness.reports.feedback import LineItem, line_items, points
from gradekit.harness.results import SubmissionResult
from gradekit.harness.scoring import PartTotal

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    """Built on first use: every report format is registered at import, few runs write HTML."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("gradekit.harness.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["points"] = points
    return environment


@dataclass(frozen=True)
class FailureGroup:
    """Failed checks that share one cause, shown once above them."""

    summary: str          # the cause, in words; "" for a check that fails on its own
    items: list[LineItem]

    @property
    def lost(self) -> float:
        return sum(item.lost for item in self.items)


@dataclass(frozen=True)
class PartView:
    """One row of the score table and what its part's checks found."""

    name: str
    title: str
    total: PartTotal
    failures: list[FailureGroup]
    passed: list[LineItem]
    not_applicable: str = ""  # why the part is not in this version, if it is not


def part_views(result: SubmissionResult) -> list[PartView]:
    """Every part with its failed checks grouped by cause (biggest loss first) and its passed
    checks, in the order of the score table."""
    items = line_items(result)
    views = []
    for part, total in result.parts.items():
        mine = [item for item in items if item.part == part]
        groups: dict[object, list[LineItem]] = {}
        for item in mine:
            if not item.passed and item.applicable:
                key = shared_cause(item.test) if item.test is not None else None
                groups.setdefault(key or len(groups), []).append(item)
        failures = [FailureGroup(cause_summary([m.test for m in members if m.test])
                                 if isinstance(key, tuple) else "", members)
                    for key, members in groups.items()]
        failures.sort(key=lambda group: -group.lost)
        views.append(PartView(part, result.title_of(part), total, failures,
                              [item for item in mine if item.passed],
                              result.not_applicable.get(part, "")))
    return views


def render_html(results: Sequence[SubmissionResult]) -> str:
    """The page for ``results``: one section per submission."""
    sections = []
    for result in results:
        views = part_views(result)
        sections.append({"result": result, "parts": views,
                         "lost": any(view.failures for view in views),
                         "accuracy": [t for t in result.tests if "accuracy" in t.details]})
    return _environment().get_template("feedback.html.j2").render(sections=sections)


def write_html(results: Sequence[SubmissionResult], out: TextIO) -> None:
    out.write(render_html(results))
