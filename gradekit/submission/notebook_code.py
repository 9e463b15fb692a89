"""The module a notebook defines, for courses whose students write their code in its cells.

nbgrader-style courses (the MNIST course's ``Assignment3.ipynb``) have students fill in
functions in notebook cells and hand in the notebook. The grader's tests call those functions
through the worker like any module's, so the loader writes a module from what the cells
*define*: imports, functions, classes and constants, in cell order, so a later definition
replaces an earlier one as it did in the kernel. Everything else (the notebook's own test
cells, data loading, training loops, plots, ``%magics``) is left out: importing the module
must cost nothing and run none of it. A ``.py`` export of the notebook is read the same way.

Imports are kept but guarded: one a notebook makes for a later cell (``import tensorflow``,
a plotting library) must not sink every function when it is missing where the grader runs.
A cell Python cannot parse is left out with a finding that names it; the others still grade.
Nothing here runs student code: cells are parsed, never executed.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gradekit.notebooks.cells import as_python
from gradekit.submission.findings import Finding, FindingKind
from gradekit.submission.limits import is_junk

#: what a module written by this code says first, so a student reading a traceback knows it
HEADER = ("# Written by gradekit from the definitions in {source}: imports, functions,\n"
          "# classes and constants, in cell order. Nothing else of the notebook runs here.\n")


@dataclass(frozen=True)
class BrokenCell:
    """A cell left out of the module because Python cannot parse it."""

    label: str  # "cell 7" (1-based, counting code cells), or "line 12" of a script
    line: int | None  # the line inside the cell
    message: str


@dataclass(frozen=True)
class NotebookCode:
    """The module text, and the cells that could not be part of it."""

    text: str
    broken: list[BrokenCell] = field(default_factory=list)
    defined: list[str] = field(default_factory=list)  # the functions and classes, in order


def _names_bound(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).partition(".")[0] for a in node.names}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t)
            if isinstance(n, ast.Name)}


def _is_constant(node: ast.stmt, known: set[str]) -> bool:
    """An assignment that computes nothing: literals, and names the module already binds
    (``EPS = 1e-5``, ``DTYPE = np.float64``), never a call or a name it would not have."""
    if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name | ast.Tuple) for t in targets):
        return False  # ``params['W'] = ...`` or ``x.attr = ...`` changes something else
    for sub in ast.walk(node.value):
        if isinstance(sub, ast.Call | ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr
                      | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
                      | ast.Subscript):
            return False
        if isinstance(sub, ast.Name) and sub.id not in known:
            return False
    return True


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The source of ``node`` with its decorators, as it stands in the cell."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "".join(lines[first - 1:node.end_lineno])


def _guarded(import_source: str) -> str:
    body = "".join("    " + line for line in import_source.splitlines(keepends=True))
    return f"try:\n{body.rstrip()}\nexcept ImportError:\n    pass\n"


def module_from_cells(cells: Iterable[tuple[str, str]], source: str) -> NotebookCode:
    """The module of ``cells`` (``(label, code)`` in order); ``source`` names the notebook in
    the module's header."""
    blocks = [HEADER.format(source=source)]
    broken: list[BrokenCell] = []
    defined: list[str] = []
    known: set[str] = set()
    for label, code in cells:
        python = as_python(code)
        try:
            tree = ast.parse(python)
        except SyntaxError as exc:
            broken.append(BrokenCell(label, exc.lineno, exc.msg))
            continue
        except (ValueError, RecursionError, MemoryError) as exc:
            broken.append(BrokenCell(label, None, f"it could not be parsed ({type(exc).__name__})"))
            continue
        lines = python.splitlines(keepends=True)
        kept = []
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                kept.append(_guarded(_segment(lines, node)))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                kept.append(_segment(lines, node).rstrip() + "\n")
                defined.append(node.name)
            elif _is_constant(node, known):
                kept.append(_segment(lines, node).rstrip() + "\n")
            else:
                continue
            known |= _names_bound(node)
        if kept:
            blocks.append(f"# --- {label} ---\n" + "\n\n".join(kept))
    return NotebookCode("\n\n".join(blocks), broken, defined)


def module_from_notebook(notebook: object, source: str) -> NotebookCode:
    """The module of a notebook read with :func:`gradekit.notebooks.reading.read_notebook`;
    cells are labelled by their place among the code cells, as the feedback counts them."""
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]  # type: ignore[attr-defined]
    return module_from_cells(((f"cell {n}", c.source) for n, c in enumerate(code_cells, 1)),
                             source)


def module_from_script(text: str, source: str) -> NotebookCode:
    """The module of a ``.py`` export of the notebook (``jupyter nbconvert --to script``):
    one cell per ``# In[ ]:`` marker, or the whole file when it has none."""
    cells: list[tuple[str, str]] = []
    start, current = 1, []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.startswith("# In[") and current:
            cells.append((f"line {start}", "".join(current)))
            start, current = number, []
        current.append(line)
    if current:
        cells.append((f"line {start}", "".join(current)))
    return module_from_cells(cells, source)


def _shallowest(files: Path, name: str) -> Path | None:
    """The file called ``name`` (case aside) nearest the top of the working copy."""
    found = [p for p in files.rglob("*") if p.name.lower() == name.lower() and p.is_file()
             and not is_junk(p.relative_to(files).parts)]
    return min(found, key=lambda p: (len(p.parts), str(p)), default=None)


def _only_notebook(files: Path) -> Path | None:
    notebooks = [p for p in files.rglob("*.ipynb")
                 if p.is_file() and not is_junk(p.relative_to(files).parts)]
    return notebooks[0] if len(notebooks) == 1 else None


def write_notebook_modules(files: Path, modules: Mapping[str, str],
                           from_notebooks: Mapping[str, str]) -> list[Finding]:
    """Write each module of ``from_notebooks`` (module file -> notebook name, as the pack
    declares them) beside the submitted notebook, from what its cells define; ``modules`` is
    the pack's module map (prefix -> file), for the findings' prefixes.

    The notebook is found by its name (case aside; the only notebook of the upload if none
    has it: Jupyter's "Assignment3 (1).ipynb"); without one, a ``.py`` export of that module's
    name is read instead. ``files`` is the loader's working copy, which holds no links.
    """
    from gradekit.notebooks.reading import NotebookError, read_notebook

    prefix_of = {rel: prefix for prefix, rel in modules.items()}
    findings: list[Finding] = []
    for rel, notebook_name in from_notebooks.items():
        module_name = posixpath.basename(rel)
        prefix = prefix_of.get(rel)
        notebook = _shallowest(files, notebook_name) or _only_notebook(files)
        if notebook is not None:
            shown = "/".join(notebook.relative_to(files).parts)
            try:
                code = module_from_notebook(read_notebook(notebook), notebook.name)
            except NotebookError as exc:
                findings.append(Finding(FindingKind.SYNTAX_ERROR, shown,
                                        f"{exc}, so none of its functions can be tested.",
                                        prefix))
                continue
            target = notebook.with_name(module_name)
        else:
            script = _shallowest(files, module_name)
            if script is None:
                continue  # the loader's missing-module finding names what to submit
            shown = "/".join(script.relative_to(files).parts)
            code = module_from_script(script.read_text(encoding="utf-8", errors="replace"),
                                      script.name)
            target = script
        if target.exists():
            target.unlink()  # a .py export beside the notebook: the notebook is what counts
        target.write_text(code.text, encoding="utf-8")
        for cell in code.broken:
            where = f"{shown} {cell.label}" + (f" line {cell.line}" if cell.line else "")
            findings.append(Finding(
                FindingKind.SYNTAX_ERROR, shown,
                f"{where}: {cell.message}. Python cannot parse this cell, so the functions it "
                "defines are not graded.", prefix, cell.line))
    return findings
