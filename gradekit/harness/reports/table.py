"""The terminal report (rich): a class overview, then each submission's parts and the tests
that lost points, with the reason.

Messages come from student code and notebooks, so every cell and header is a rich ``Text``:
rich would read ``[bold green]...[/]`` in a plain string as markup. (Control characters are
already gone: the result types hold inert text, see :mod:`gradekit.harness.inert`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from gradekit.harness.reports.causes import by_cause, cause_summary
from gradekit.harness.reports.csv_report import gradebook_columns
from gradekit.harness.reports.feedback import points
from gradekit.harness.results import NotebookReport, SubmissionResult

STATUS_STYLES = {"passed": "green", "partial": "yellow", "failed": "red", "error": "magenta",
                 "skipped": "dim"}


def _points(score: float, max_score: float) -> str:
    return f"{points(score)} / {points(max_score)}"


def _add_row(table: Table, *cells: str | Text) -> None:
    """A row of literal text, whatever brackets its strings hold."""
    table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in cells))


def overview(results: Sequence[SubmissionResult]) -> Table:
    """One row per submission, one column per part, then the total."""
    parts = gradebook_columns(results)[2:-2]
    table = Table(title="Grades", title_justify="left")
    table.add_column("submission", overflow="fold")  # wrapped, never cut: it tells rows apart
    for part in parts:
        table.add_column(Text(part), justify="right")
    table.add_column("total", justify="right", style="bold")
    for result in results:
        totals = result.parts
        cells = ["n/a" if p in result.not_applicable else points(totals[p].score)
                 if p in totals else "–" for p in parts]
        _add_row(table, result.submission, *cells, _points(result.score, result.max_score))
    return table


def submission_detail(result: SubmissionResult) -> Table:
    """Parts with their points, and every test that did not earn full points."""
    title = f"{result.submission} · {result.assignment} · " \
            f"{_points(result.score, result.max_score)}"
    table = Table(title=Text(title), title_justify="left", show_lines=False)
    table.add_column("part / test", overflow="fold")
    table.add_column("points", justify="right")
    table.add_column("status")
    table.add_column("why", overflow="fold")
    for part, total in result.parts.items():
        if part in result.not_applicable:
            _add_row(table, Text(part, style="dim"), "–", "not applicable",
                     result.not_applicable[part])
            continue
        _add_row(table, Text(part, style="bold"), _points(total.score, total.max_score),
                 f"{total.passed}/{total.tests} passed", "")
        failures = [t for t in result.failures() if t.part == part]
        for key, tests in by_cause(failures):
            if key is not None:  # one cause, one line (starter code: one line per part)
                status = tests[0].status
                _add_row(table, f"  {len(tests)} test" + "s" * (len(tests) != 1), "",
                         Text(status, style=STATUS_STYLES[status]), cause_summary(tests))
                continue
            [test] = tests
            _add_row(table, f"  {test.name}", _points(test.score, test.max_score),
                     Text(test.status, style=STATUS_STYLES[test.status]), test.message)
    for notebook in result.notebooks:
        _add_row(table, f"[notebook] {notebook.name}", "",
                 f"{notebook.cells_run}/{notebook.cells_total} cells ran",
                 notebook_summary(notebook))
    for finding in result.findings:
        _add_row(table, f"[{finding.kind}]", "", "", finding.message)
    return table


def notebook_summary(notebook: NotebookReport, shown: int = 3) -> str:
    """The status, then the first failed cells with their errors."""
    lines = [notebook.status + (f": {notebook.message}" if notebook.message else "")]
    lines += [f"{cell.label}: {cell.error}" for cell in notebook.failed_cells[:shown]]
    lines += [notebook.order_note] if notebook.order_note else []
    hidden = len(notebook.failed_cells) - shown
    if hidden > 0:
        lines.append(f"… and {hidden} more failed cell" + "s" * (hidden != 1))
    return "\n".join(lines)


def render(results: Sequence[SubmissionResult]) -> RenderableType:
    """The whole report as one rich renderable (print it on any Console)."""
    details = [submission_detail(r) for r in results]
    return Group(overview(results), *details) if len(results) > 1 else Group(*details)


def write_table(results: Sequence[SubmissionResult], out: TextIO) -> None:
    Console(file=out, width=120 if not out.isatty() else None).print(render(results))
