"""The CSV gradebook: one row per submission, one column per part, then the total.

Part columns are the union of every submission's parts, in first-seen order, so a class
graded in one batch lines up even if one submission crashed before some parts ran.

Submission ids come from uploads, and a spreadsheet runs a cell that starts like a formula
(``=HYPERLINK(...)``, ``@SUM(...)``), so every text cell goes through :func:`spreadsheet_text`;
the score cells are written by gradekit and stay plain numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from gradekit.harness.results import SubmissionResult

#: first characters that make Excel, LibreOffice or Google Sheets read a cell as a formula
#: (OWASP's list, plus LF and the full-width forms some locales also take for an operator)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_text(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` (the OWASP advice) when it
    would start a formula, also after leading spaces, which some spreadsheets skip."""
    return "'" + cell if cell.lstrip(" ").startswith(FORMULA_STARTS) else cell


def _points(value: float) -> str:
    """``4`` rather than ``4.0``, ``0.8696`` rather than ``0.8695652173913043``."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def gradebook_columns(results: Sequence[SubmissionResult]) -> list[str]:
    parts = list(dict.fromkeys(part for r in results for part in r.parts))
    return ["submission", "assignment", *parts, "score", "max_score"]


def write_csv(results: Sequence[SubmissionResult], out: TextIO) -> None:
    columns = gradebook_columns(results)
    parts = columns[2:-2]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_text(name) for name in columns])
    for result in results:
        totals = result.parts
        cells = [_points(totals[p].score) if p in totals else "" for p in parts]
        writer.writerow([spreadsheet_text(result.submission), spreadsheet_text(result.assignment),
                         *cells, _points(result.score), _points(result.max_score)])
