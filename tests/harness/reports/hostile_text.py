"""What a cheating student writes into every field that reaches a report, and the check that
a report shows it as text only."""

from __future__ import annotations

import re

from gradekit.harness.results import (
    CellFailure,
    Finding,
    NotebookReport,
    SubmissionResult,
    TestResult,
)

#: one of each trick on a terminal or in a viewer
PAYLOADS = {
    "clear screen": "\x1b[2J\x1b[H",
    "fake green score": "\x1b[32mScore: 100/100\x1b[0m",
    "cursor up and erase": "\x1b[1A\x1b[2K",
    "OSC 8 hyperlink": "\x1b]8;;https://evil.invalid/\x1b\\click\x1b]8;;\x1b\\",
    "OSC 52 clipboard": "\x1b]52;c;cm0gLXJmIH4vKgo=\x07",
    "C1 CSI": "\x9b2J\x9b31m",
    "lone CR": "0/100\rScore: 100/100",
    "bidi override": "\u202etxt.exe\u202c",
    "rich markup": "[bold green]Score: 100/100[/]",
}
HOSTILE = "".join(PAYLOADS.values())
#: the part of each payload that must still be readable after cleaning
MARKUP = PAYLOADS["rich markup"]

#: raw characters no report may contain (they would act on a terminal or reorder text)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_inert(text: str, where: str = "report") -> None:
    found = UNSAFE.search(text)
    assert found is None, \
        f"{where} holds {found.group()!r} in {text[max(found.start() - 40, 0):found.end() + 20]!r}"


def hostile_result() -> SubmissionResult:
    """Every student-written field of a result carrying every payload."""
    cell = CellFailure(index=3, execution_count=4, error=f"ValueError: {HOSTILE}",
                       source=f"print('{HOSTILE}')", output=HOSTILE,
                       traceback=f"Traceback (most recent call last):\n{HOSTILE}",
                       dependents=("test_accuracy.py::test_best_model",))
    notebook = NotebookReport("FullyConnectedNets.ipynb", "cell-errors", f"1 cell raised {HOSTILE}",
                              cells_run=5, cells_total=9, failed_cells=(cell,),
                              executed="FullyConnectedNets.ipynb")
    return SubmissionResult(
        submission=f'=HYPERLINK("https://evil.invalid","{HOSTILE}")',
        assignment="fc_nets",
        tests=[
            TestResult("test_layers.py::test_affine", "layers", 2.0, 2.0, "passed"),
            TestResult("test_layers.py::test_relu", "layers", 0.0, 1.0, "failed",
                       f"relu(x) is wrong {HOSTILE}"),
            TestResult("test_layers.py::test_softmax", "layers", 0.0, 1.0, "error",
                       f"ValueError: {HOSTILE}"),
        ],
        findings=[Finding("output", HOSTILE), Finding("syntax-error", f"layers.py:3: {HOSTILE}")],
        part_points={"layers": 10.0},
        notebooks=[notebook],
    )
