"""What the grader reads out of an executed notebook: failed cells, and which cell defines what.

The source of a cell is parsed, never run, to find the cells that assign an artifact
(``best_model = ...``); when such a cell failed, the tests that needed the artifact are its
dependents in the report.
"""

from __future__ import annotations

import ast

from nbformat import NotebookNode

from gradekit.harness.inert import strip_sequences
from gradekit.harness.results import CellFailure

MAX_TEXT = 4000


def plain(text: str, limit: int = MAX_TEXT) -> str:
    """Escape sequences (IPython's colours, and any other) removed, capped at ``limit``
    characters (keeping the end, where the error is)."""
    text = strip_sequences(text)
    return text if len(text) <= limit else "…" + text[-limit:]


def stream_text(cell: NotebookNode) -> str:
    """Everything the cell printed."""
    return "".join(o.get("text", "") for o in cell.get("outputs", ())
                   if o.get("output_type") == "stream")


def failed_cells(notebook: NotebookNode) -> list[CellFailure]:
    """Every code cell whose outputs hold an error, in notebook order."""
    failures = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", ()):
            if output.get("output_type") == "error":
                failures.append(CellFailure(
                    index=index,
                    execution_count=cell.get("execution_count"),
                    error=plain(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}",
                                500),
                    source=plain(cell.source),
                    output=plain(stream_text(cell)),
                    traceback=plain("\n".join(output.get("traceback", ()))),
                ))
                break
    return failures


def defining_cells(notebook: NotebookNode, name: str) -> list[int]:
    """Indices of the code cells that bind ``name`` at the top level of the kernel."""
    return [index for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and name in _bound_names(cell.source)]


def as_python(source: str) -> str:
    """A code cell as the kernel runs it: IPython's ``%magic`` and ``!shell`` lines become
    ``get_ipython()`` calls (a ``%`` that continues an expression stays the operator)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _bound_names(source: str) -> set[str]:
    code = as_python(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:  # like ast.walk, but not into function and class bodies (their scope)
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).partition(".")[0])
        pending.extend(ast.iter_child_nodes(node))
    return names
