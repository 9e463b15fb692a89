"""Gradescope's ``results.json`` (the autograder specification's "Output format").

Top level: ``score``, ``execution_time`` (seconds), ``output`` (text shown for the whole
submission), ``visibility``, ``stdout_visibility`` and ``tests``; each test has ``score``,
``max_score``, ``status`` (``passed``/``failed``), ``name``, ``number``, ``output``,
``tags`` and ``visibility``. Hidden tests keep ``visibility: "hidden"`` and
after-due-date tests ``"after_due_date"``, so Gradescope shows them accordingly.

Every string here can carry student text (a test's message, a finding, a file name), so the
document asks Gradescope to show all of it as plain text (``output_format``,
``test_output_format``, ``test_name_format``: ``"text"``), never as HTML, Markdown or ANSI
colours; the text itself is already inert (:mod:`gradekit.harness.inert`).

Gradescope grades one submission per container, so this writer takes exactly one result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from gradekit.harness.reports.feedback import line_items, points
from gradekit.harness.results import SubmissionResult, TestResult


def _summary(result: SubmissionResult) -> str:
    lines = [f"{result.assignment or 'Assignment'}: {points(result.score)} / "
             f"{points(result.max_score)}"]
    lines += [f"{result.title_of(part)}: {points(total.score)} / {points(total.max_score)}"
              for part, total in result.parts.items()]
    lines += [f"[{finding.kind}] {finding.message}" for finding in result.findings]
    return "\n".join(lines)


def to_gradescope(result: SubmissionResult, *, stdout_visibility: str = "hidden") -> dict[str, Any]:
    """The ``results.json`` document for one submission.

    Each test's ``score`` and ``max_score`` are what it adds to the grade after its part is
    scaled (:func:`~gradekit.harness.reports.feedback.line_items`), so they sum to ``score``.
    Tests are numbered ``<part>.<test>`` in the order parts first appear, named by what they
    check, and tagged with their part. The grader's own stdout stays hidden from students
    unless asked.
    """
    part_numbers = {part: i for i, part in enumerate(result.parts, start=1)}
    counters = dict.fromkeys(part_numbers, 0)
    tests = []
    for item in line_items(result):
        counters[item.part] += 1
        test = item.test
        tests.append({
            "score": item.score,
            "max_score": item.max_score,
            # a part the version lacks costs nothing: never shown as a failure
            "status": "passed" if item.passed or not item.applicable else "failed",
            "name": f"{result.title_of(item.part)}: {item.description}",
            "number": f"{part_numbers[item.part]}.{counters[item.part]}",
            "output": _output(test) if test is not None else item.description,
            "tags": [item.part],
            "visibility": test.visibility if test is not None else "visible",
        })
    return {
        "score": result.score,
        "execution_time": round(result.duration, 3),
        "output": _summary(result),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": stdout_visibility,
        "tests": tests,
    }


def _output(test: TestResult) -> str:
    """The test's message, then the check's own name (what staff search the tests for)."""
    return f"{test.message or test.status}\n\ncheck: {test.name}"


def write_gradescope(results: Sequence[SubmissionResult], out: TextIO) -> None:
    if len(results) != 1:
        raise ValueError(f"Gradescope's results.json holds one submission, got {len(results)}; "
                         "write one file per submission (an output folder per submission)")
    json.dump(to_gradescope(results[0]), out, indent=2)
    out.write("\n")
