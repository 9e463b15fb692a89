"""Turn a solution notebook into the student notebook.

Code cells use the markers of :mod:`gradekit.authoring.strip` and are stripped exactly like a
module, so one rule set covers both. Markdown cells may hold an instructor-only answer::

    <!-- BEGIN SOLUTION -->
    Batchnorm normalises over the batch, so ...
    <!-- END SOLUTION -->

which the student version replaces by :data:`ANSWER_PROMPT`. Both versions leave with outputs
and execution counts cleared, so nothing the instructor ran leaks into the release.

Where students write their code in the notebook itself (a pack's ``[notebook_modules]``), the
solution notebook holds no copy of the reference: a *define-cell* starts with the line::

    # gradekit: define dropout, dropout_der

which :func:`expand_definitions` replaces by those top-level definitions of the reference
module, solution markers included, before the notebook is stripped like any other.

The student version of a release also gets one markdown cell, after the title, saying how to
run the visible checks from a cell (``gradekit.check("layers")``, :func:`check_cell`). It is
markdown on purpose: the graders run every code cell, and a check there would spend the
notebook's time budget grading the student's files a second time.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import nbformat

from gradekit.authoring.strip import StripError, strip_solutions

DEFINE = "# gradekit: define"
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


def definitions(text: str, where: str) -> dict[str, str]:
    """Each top-level function and class of the module ``text``, as its source (decorators
    and the comment lines right above it included, and the indented comments after its last
    statement: a closing ``### END SOLUTION``)."""
    lines = text.splitlines(keepends=True)
    found = {}
    for node in ast.parse(text, where).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            while first > 1 and lines[first - 2].lstrip().startswith("#"):
                first -= 1
            last = node.end_lineno or node.lineno
            while last < len(lines) and (not lines[last].strip() or (
                    lines[last][:1].isspace() and lines[last].lstrip().startswith("#"))):
                last += 1
            found[node.name] = "".join(lines[first - 1:last]).rstrip() + "\n"
    return found


def expand_definitions(notebook: nbformat.NotebookNode, module: str, where: str,
                       name: str = "<notebook>") -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose define-cells hold the named definitions of ``module``
    (the reference module's text, read from ``where``); what follows the marker line in a
    define-cell stays below the definitions."""
    available = definitions(module, where)
    result = nbformat.from_dict(notebook)
    for number, cell in enumerate(result.cells, start=1):
        first, _, rest = cell.source.partition("\n")
        if cell.cell_type != "code" or not first.startswith(DEFINE):
            continue
        names = [n.strip() for n in first[len(DEFINE):].split(",") if n.strip()]
        unknown = [n for n in names if n not in available]
        if not names or unknown:
            raise StripError(f"{name}, cell {number}: {first!r} names "
                             f"{', '.join(unknown) or 'nothing'}; {where} defines "
                             f"{', '.join(available) or 'nothing'}")
        cell.source = "\n\n".join(available[n] for n in names) + (f"\n\n{rest}" if rest else "")
    return result


def check_cell(parts: Sequence[str], *, code_here: bool = False) -> nbformat.NotebookNode:
    """The markdown cell telling a student how to run the visible checks of ``parts`` (the
    pack's part names, the first one in the example) from inside the notebook; ``code_here``
    when the student's code is written in this notebook rather than in ``.py`` files."""
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
        ("It grades the functions of this notebook as last saved on disk, in a separate "
         "process, so save it first; what this kernel has run does not matter. "
         if code_here else
         "It grades your `.py` files as they are saved on disk, in a separate process, so save "
         "them first; what this kernel has imported does not matter. ")
        + "Delete such cells before you hand the notebook in: the graders run every cell, "
        "within the notebook's time budget.",
    ]))


def with_check_cell(notebook: nbformat.NotebookNode, parts: Sequence[str], *,
                    code_here: bool = False) -> nbformat.NotebookNode:
    """``notebook`` with :func:`check_cell` after its title (a first markdown cell), or at
    the top when it has none."""
    result = nbformat.from_dict(notebook)
    at = 1 if result.cells and result.cells[0].cell_type == "markdown" else 0
    result.cells.insert(at, check_cell(parts, code_here=code_here))
    nbformat.validate(result)
    return result


def write_stripped_notebook(source: Path, dest: Path, *, keep_solutions: bool = False,
                            parts: Sequence[str] | None = None,
                            modules: Sequence[Path] = ()) -> Path:
    """Read the solution notebook ``source``, write its stripped version to ``dest``; with
    ``parts`` (a student version's), :func:`with_check_cell` adds how to check them. The
    define-cells get their definitions from the reference ``modules`` written in it."""
    notebook = nbformat.read(source, as_version=4)
    for module in modules:
        notebook = expand_definitions(notebook, module.read_text(encoding="utf-8"),
                                      str(module), str(source))
    stripped = strip_notebook(notebook, str(source), keep_solutions=keep_solutions)
    if parts is not None:
        stripped = with_check_cell(stripped, parts, code_here=bool(modules))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stripped, dest)
    return dest
