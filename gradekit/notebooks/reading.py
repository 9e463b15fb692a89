"""Read a submitted notebook without trusting it: size, JSON, nbformat 4, Python, sane cells.

Every refusal says what is wrong and what the student can do about it. Outputs saved in the
submission are dropped: the grader's executed copy is the only one that counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

MAX_NOTEBOOK_BYTES = 50 << 20
PYTHON_NAMES = {"python", "python2", "python3", "ipython", "ipython3"}
CELL_TYPES = {"code", "markdown", "raw"}


class NotebookError(ValueError):
    """The file is not a notebook gradekit can run; the message says why and what to do."""


def read_notebook(path: Path) -> NotebookNode:
    """The notebook at ``path`` as nbformat 4 with outputs cleared, or :class:`NotebookError`."""
    return read_submitted(path)[0]


def read_submitted(path: Path) -> tuple[NotebookNode, tuple[int, int] | None]:
    """:func:`read_notebook`, and the first place its saved execution counts go backwards
    (``(11, 2)``: the cell saved as In [11] comes before In [2]), ``None`` if they never do.

    The counts say how the student last ran it: out of order, its saved outputs need not be
    what a run from the top gives (the grader's run, which is the one that counts)."""
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is {size >> 20} MB, over the {MAX_NOTEBOOK_BYTES >> 20}"
                            " MB limit; clear its outputs (Kernel > Restart & Clear Output) "
                            "and save it again")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(f"{path.name} is not valid JSON ({exc}); was it saved by Jupyter? "
                            "Re-download it from Jupyter or Colab and submit that file") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no list of cells)")
    version = data.get("nbformat")
    if version != 4:
        raise NotebookError(f"{path.name} is nbformat {version!r}, not 4; open it in a current "
                            "Jupyter and save it again, which writes version 4")
    _check_language(path.name, data.get("metadata"))
    backwards = None
    last = 0
    for number, cell in enumerate(data["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES or not \
                isinstance(cell.get("source", ""), str | list):
            raise NotebookError(f"{path.name}: cell {number} is malformed (needs a cell_type of "
                                f"{', '.join(sorted(CELL_TYPES))} and a source)")
        if cell["cell_type"] == "code":
            count = cell.get("execution_count")
            if type(count) is int and count > 0:
                if count < last and backwards is None:
                    backwards = (last, count)
                last = count
            cell["outputs"], cell["execution_count"] = [], None
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)  # joins list-of-lines sources
        nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path.name} does not follow the notebook format: "
                            f"{exc.message}") from exc
    return notebook, backwards


def _check_language(name: str, metadata: object) -> None:
    """Refuse notebooks written for another language; a Python kernel's name is not checked
    (students' kernels are called 'cs231n', 'conda-env-py', ...) and never picks what runs."""
    if not isinstance(metadata, dict):
        return
    kernel = metadata.get("kernelspec") or {}
    info = metadata.get("language_info") or {}
    language = (kernel.get("language") if isinstance(kernel, dict) else None) or \
        (info.get("name") if isinstance(info, dict) else None)
    if isinstance(language, str) and language.lower() not in PYTHON_NAMES:
        kernel_name = kernel.get("name", "?") if isinstance(kernel, dict) else "?"
        raise NotebookError(f"{name} is written for {language} (kernel {kernel_name!r}); this "
                            "assignment runs Python 3 notebooks: switch the kernel to Python 3 "
                            "(Kernel > Change kernel) and submit again")
