"""Fixtures for notebook tests: a sandbox-mode switch and runs over fresh submission folders."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from notebook_helpers import KERNEL_LIMITS, NAME, needs_bwrap, write_notebook

from gradekit.notebooks.execution import NotebookRun
from gradekit.packs import NotebookSpec
from gradekit.sandbox.confinement import new_confinement
from gradekit.sandbox.limits import Limits


@pytest.fixture(params=[pytest.param("bwrap", marks=needs_bwrap), "subprocess"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Callable[..., NotebookRun]]:
    """Build a :class:`NotebookRun` the way ``prepare_notebooks`` does, over a submission
    holding ``files`` and a notebook of ``sources``; every run is closed afterwards."""
    runs: list[NotebookRun] = []
    confinements = ExitStack()

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
            confinement = confinements.enter_context(
                new_confinement(mode, limits, hidden=[root, *hidden]))
        spec = NotebookSpec(notebook_path, cell_timeout, timeout, artifacts)
        run = NotebookRun(spec, root / notebook_path, root, scratch, confinement)
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.close()
    confinements.close()
