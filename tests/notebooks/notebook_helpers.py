"""Helpers for notebook tests: notebooks written from cell sources, limits for test kernels."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gradekit.sandbox.launcher import bwrap_works
from gradekit.sandbox.limits import GB, MB, Limits

NAME = "Homework.ipynb"
#: Small enough that a memory bomb fails fast, big enough for numpy and ipykernel.
KERNEL_LIMITS = Limits(cpu_seconds=60, address_space=2 * GB, file_size=64 * MB,
                       tmp_bytes=64 * MB, processes=64)
needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not available")


def notebook_of(*sources: str) -> nbformat.NotebookNode:
    """A Python 3 notebook with one code cell per source ("# md: ..." makes a markdown cell)."""
    cells = [new_markdown_cell(s[len("# md:"):]) if s.startswith("# md:") else new_code_cell(s)
             for s in sources]
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})


def write_notebook(path: Path, *sources: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook_of(*sources), str(path))
    return path
