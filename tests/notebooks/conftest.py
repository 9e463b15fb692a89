"""Fixtures for notebook tests: notebooks written from cell sources, runs over fresh folders."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gradekit.notebooks.execution import NotebookRun
from gradekit.packs import NotebookSpec
from gradekit.sandbox.launcher import bwrap_works, drop_uid, prepare_workdir
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


@pytest.fixture(params=[pytest.param("bwrap", marks=needs_bwrap), "subprocess"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Callable[..., NotebookRun]]:
    """Build a :class:`NotebookRun` the way ``prepare_notebooks`` does, over a submission
    holding ``files`` and a notebook of ``sources``; every run is closed afterwards."""
    runs: list[NotebookRun] = []

    def make(*sources: str, mode: str = "subprocess", files: dict[str, str] | None = None,
             cell_timeout: float = 3, timeout: float = 20, artifacts: tuple[str, ...] = (),
             limits: Limits = KERNEL_LIMITS, hidden: tuple[Path, ...] = (),
             notebook_path: str = NAME) -> NotebookRun:
        root = tmp_path / f"submission{len(runs)}"
        for relative, text in (files or {}).items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text)
        write_notebook(root / notebook_path, *sources)
        scratch = tmp_path / f"scratch{len(runs)}"
        scratch.mkdir()
        with warnings.catch_warnings():  # the weak-isolation warning has its own test
            warnings.simplefilter("ignore", RuntimeWarning)
            uid = drop_uid(mode)
        workdir = prepare_workdir(root, scratch, uid)
        spec = NotebookSpec(notebook_path, cell_timeout, timeout, artifacts)
        run = NotebookRun(spec, workdir / notebook_path, workdir, scratch, mode=mode,
                          limits=limits, hidden=hidden, uid=uid)
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.close()
