"""Turn a solution notebook into the student notebook.

Code cells use the markers of :mod:`gradekit.authoring.strip` and are stripped exactly like a
module, so one rule set covers both. Markdown cells may hold an instructor-only answer::

    <!-- BEGIN SOLUTION -->
    Batchnorm normalises over the batch, so ...
    <!-- END SOLUTION -->

which the student version replaces by :data:`ANSWER_PROMPT`. Both versions leave with outputs
and execution counts cleared, so nothing the instructor ran leaks into the release.
"""

from __future__ import annotations

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


def write_stripped_notebook(source: Path, dest: Path, *, keep_solutions: bool = False) -> Path:
    """Read the solution notebook ``source``, write its stripped version to ``dest``."""
    notebook = nbformat.read(source, as_version=4)
    stripped = strip_notebook(notebook, str(source), keep_solutions=keep_solutions)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stripped, dest)
    return dest
