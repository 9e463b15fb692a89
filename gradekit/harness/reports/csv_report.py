"""The CSV gradebook: one row per submission, one column per part, then the total.

Part columns are the union of every submission's parts, in first-seen order, so a class
graded in one batch lines up even if one submission crashed before some parts ran.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from gradekit.harness.results import SubmissionResult


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
    writer.writerow(columns)
    for result in results:
        totals = result.parts
        cells = [_points(totals[p].score) if p in totals else "" for p in parts]
        writer.writerow([result.submission, result.assignment, *cells,
                         _points(result.score), _points(result.max_score)])
