"""Reading an executed notebook: which cells failed (labelled as a student finds them, plain
text, capped) and which cells bind an artifact's name at the kernel's top level."""

from __future__ import annotations

import nbformat
import pytest
from notebook_helpers import notebook_of

from gradekit.notebooks.cells import MAX_TEXT, defining_cells, failed_cells, plain


def error(ename: str, evalue: str, traceback: list[str] | None = None) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=traceback or [])


def printed(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_failed_cells_are_labelled_with_their_position_and_in_number() -> None:
    notebook = notebook_of("# md: Intro", "x = 1", "y = x @ z", "print(y)")
    notebook.cells[1].execution_count = 1
    notebook.cells[2].execution_count = 2
    notebook.cells[2].outputs = [printed("about to multiply\n"),
                                 error("NameError", "name 'z' is not defined",
                                       ["\x1b[0;31mNameError\x1b[0m Traceback", "y = x @ z"])]
    [failure] = failed_cells(notebook)
    assert failure.index == 2 and failure.label == "cell 3 (In [2])"
    assert failure.error == "NameError: name 'z' is not defined"
    assert failure.source == "y = x @ z"
    assert failure.output == "about to multiply\n"
    assert failure.traceback == "NameError Traceback\ny = x @ z"  # colour codes gone


def test_a_cell_that_never_ran_has_no_in_number() -> None:
    notebook = notebook_of("boom()")
    notebook.cells[0].outputs = [error("CellTimeoutError", "")]
    assert failed_cells(notebook)[0].label == "cell 1"


def test_cells_without_errors_are_not_failures_and_each_failure_counts_once() -> None:
    notebook = notebook_of("print(1)", "a()", "b()")
    notebook.cells[0].outputs = [printed("1\n")]
    notebook.cells[1].outputs = [error("ValueError", "first"), error("ValueError", "second")]
    notebook.cells[2].outputs = [error("TypeError", "third")]
    failures = failed_cells(notebook)
    assert [(f.index, f.error) for f in failures] == [(1, "ValueError: first"),
                                                      (2, "TypeError: third")]


def test_long_output_and_errors_are_capped_keeping_the_end() -> None:
    notebook = notebook_of("flood()")
    notebook.cells[0].outputs = [printed("x" * (3 * MAX_TEXT) + "LAST LINE"),
                                 error("RuntimeError", "e" * 2000 + " the cause")]
    [failure] = failed_cells(notebook)
    assert len(failure.output) == MAX_TEXT + 1 and failure.output.endswith("LAST LINE")
    assert failure.output.startswith("…")
    assert len(failure.error) == 501 and failure.error.endswith(" the cause")


def test_plain_strips_colour_codes_before_capping() -> None:
    assert plain("\x1b[1;32mok\x1b[0m done") == "ok done"
    assert plain("abcdef", 3) == "…def"


@pytest.mark.parametrize("source", [
    "best_model = model",
    "best_model: object = None\nbest_model = train()",
    "for best_model in candidates:\n    pass",
    "import solver as best_model",
    "from cs231n import solver as best_model",
    "best_model, best_val = pick(results)",
    "%matplotlib inline\nbest_model = model",
    "with open('x') as best_model:\n    pass",
    "if (best_model := train()) is None:\n    pass",
])
def test_defining_cells_find_top_level_bindings(source: str) -> None:
    notebook = notebook_of("import numpy as np", source, "print(best_model)")
    assert defining_cells(notebook, "best_model") == [1]


@pytest.mark.parametrize("source", [
    "def train():\n    best_model = 1\n    return best_model",
    "class Search:\n    best_model = None",
    "print(best_model)",
    "best_model.loss(X)",
    "best_model = (",  # a syntax error binds nothing
    "# best_model = model",
])
def test_defining_cells_ignore_what_does_not_bind_at_top_level(source: str) -> None:
    assert defining_cells(notebook_of(source), "best_model") == []


def test_defining_cells_skip_markdown_and_list_every_binding_cell() -> None:
    notebook = notebook_of("# md: best_model = model", "best_model = None",
                           "x = 1", "for best_model in models:\n    pass")
    assert defining_cells(notebook, "best_model") == [1, 3]
