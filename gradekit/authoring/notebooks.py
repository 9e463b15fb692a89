"""Turn a solution notebook into the student notebook.

Code cells use the markers of :mod:`gradekit.authoring.strip` and are stripped exactly like a
module, so one rule set covers both. Markdown cells may hold an instructor-only answer::

    <!-- BEGIN SOLUTION -->
    Batchnorm normalises over the batch, so ...
    <!-- END SOLUTION -->

which the student version replaces by :data:`ANSWER_PROMPT`. Both versions leave with outputs
and execution counts cleared, so nothing the instructor ran leaks into the release.

The student version of a release also gets one markdown cell, after the title, saying how to
run the visible checks from a cell (``gradekit.check("layers")``, :func:`check_cell`). It is
markdown on purpose: the graders run every code cell, and a check there would spend the
notebook's time budget grading the student's files a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat

from gradekit.authoring.strip import StripError, strip_solutions

MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
ANSWER_PROMPT = "*Your answer here.*"


def _strip_markdown(source: str, where: str, *, keep_solutions: bool) -> str:
    """Drop (or unwrap) the answer regions of one markdown cell."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        marker = line.strip()
        if marker == MD_BEGIN:
            if inside:
                raise StripError(f"{where}: nested {MD_BEGIN}")
            inside = True
            if not keep_solutions:
                out.append(ANSWER_PROMPT)
        elif marker == MD_END:
            if not inside:
                raise StripError(f"{where}: {MD_END} without {MD_BEGIN}")
            inside = False
        elif keep_solutions or not inside:
            out.append(line)
    if inside:
        raise StripError(f"{where}: {MD_BEGIN} is never closed")
    return "\n".join(out)


def strip_notebook(notebook: nbformat.NotebookNode, name: str = "<notebook>", *,
                   keep_solutions: bool = False) -> nbformat.NotebookNode:
    """Return a stripped copy of ``notebook``; errors name the notebook and the cell (from 1)."""
    result = nbformat.from_dict(notebook)
    for number, cell in enumerate(result.cells, start=1):
        where = f"{name}, cell {number}"
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, where, keep_solutions=keep_solutions,
                                          magics=True)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = _strip_markdown(cell.source, where, keep_solutions=keep_solutions)
    nbformat.validate(result)
    return result


def check_cell(parts: Sequence[str]) -> nbformat.NotebookNode:
    """The markdown cell telling a student how to run the visible checks of ``parts`` (the
    pack's part names, the first one in the example) from inside the notebook."""
    first = parts[0] if parts else "layers"
    listed = ", ".join(f"`{part}`" for part in parts)
    return nbformat.v4.new_markdown_cell("\n".join([
        "## Checking your work",
        "",
        "Run the visible tests from a cell, with the verdicts `gradekit check` prints in a "
        "terminal:",
        "",
        "```python",
        "import gradekit",
        "",
        f'gradekit.check("{first}")  # one part; gradekit.check() checks every part',
        "```",
        "",
        *([f"The parts are {listed}. "] if parts else []),
        "It grades your `.py` files as they are saved on disk, in a separate process, so save "
        "them first; what this kernel has imported does not matter. Delete such cells before "
        "you hand the notebook in: the graders run every cell, within the notebook's time "
        "budget.",
    ]))


def with_check_cell(notebook: nbformat.NotebookNode,
                    parts: Sequence[str]) -> nbformat.NotebookNode:
    """``notebook`` with :func:`check_cell` after its title (a first markdown cell), or at
    the top when it has none."""
    result = nbformat.from_dict(notebook)
    at = 1 if result.cells and result.cells[0].cell_type == "markdown" else 0
    result.cells.insert(at, check_cell(parts))
    nbformat.validate(result)
    return result


def write_stripped_notebook(source: Path, dest: Path, *, keep_solutions: bool = False,
                            parts: Sequence[str] | None = None) -> Path:
    """Read the solution notebook ``source``, write its stripped version to ``dest``; with
    ``parts`` (a student version's), :func:`with_check_cell` adds how to check them."""
    notebook = nbformat.read(source, as_version=4)
    stripped = strip_notebook(notebook, str(source), keep_solutions=keep_solutions)
    if parts is not None:
        stripped = with_check_cell(stripped, parts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stripped, dest)
    return dest
