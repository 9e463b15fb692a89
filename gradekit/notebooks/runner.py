"""All the notebooks of one submission: find them, run them in the sandbox, hand tests their
artifacts, and report which tests each failed cell cost.

The kernels stay up while the tests run (tests ask artifacts for predictions) and stop when
the :class:`SubmissionNotebooks` is closed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gradekit.data.locate import ENV_VAR
from gradekit.data.view import sandbox_views
from gradekit.harness.results import NotebookReport, TestResult
from gradekit.notebooks import ArtifactError
from gradekit.notebooks.execution import NotebookRun, read_saved_arrays
from gradekit.packs import AssignmentPack, NotebookSpec
from gradekit.sandbox.beneath import FilesBeneath
from gradekit.sandbox.confinement import Confinement

SKIPPED_DIRS = {".ipynb_checkpoints", "__MACOSX"}
NOT_RUN = ("notebooks were not run ('gradekit grade' runs them unless --no-notebooks is given; "
           "'gradekit check --notebooks' runs them too)")


def find_notebook(root: Path, spec: NotebookSpec) -> Path | None:
    """The submitted copy of ``spec``: at its path, else the shallowest file of that name."""
    exact = root / spec.path
    if exact.is_file() and not exact.is_symlink():
        return exact
    found = [p for p in root.rglob(spec.name) if p.is_file() and not p.is_symlink()
             and not SKIPPED_DIRS & set(p.relative_to(root).parts)]
    return min(found, key=lambda p: (len(p.parts), str(p)), default=None)


def data_for_kernel() -> tuple[list[Path], dict[str, str]]:
    """Data folders the kernel may read (read-only), and ``GRADEKIT_DATA`` listing them:
    the grader's view of each installed data set (built once per data set version), which
    holds what the notebook trains and tunes on and never the images that earn accuracy
    credit (:mod:`gradekit.data.view`); no data folder itself."""
    roots = [view.root for view in sandbox_views()]
    return roots, ({ENV_VAR: os.pathsep.join(map(str, roots))} if roots else {})


class SubmissionNotebooks:
    """The pack's notebooks for one submission, executed (or not) and their kernels."""

    def __init__(self, runs: Sequence[NotebookRun], executed: bool = True) -> None:
        self.runs = list(runs)
        self.executed = executed
        self.needed_by: dict[str, set[str]] = {}  # artifact -> tests that asked for it
        self.current_test = ""  # set by the ``notebook`` fixture for each test

    def run_with(self, artifact: str) -> NotebookRun:
        for run in self.runs:
            if artifact in run.spec.artifacts:
                return run
        raise ArtifactError(f"no notebook of this assignment exports {artifact!r}; list it "
                            "under artifacts of a [[notebooks]] entry in the pack")

    def require(self, artifact: str) -> None:
        """Raise :class:`ArtifactError` now when ``artifact`` cannot be asked for (notebooks
        not run, or its notebook stopped), so a test need not load a data set to find out."""
        self.needed_by.setdefault(artifact, set()).add(self.current_test)
        if not self.executed:
            raise ArtifactError(f"{artifact} is not available: {NOT_RUN}")
        self.run_with(artifact).require(artifact)

    def predict(self, artifact: str, images: np.ndarray, batch_size: int = 100) -> np.ndarray:
        """Scores of the artifact model on ``images`` (see :meth:`NotebookRun.predict`)."""
        self.require(artifact)
        return self.run_with(artifact).predict(artifact, images, batch_size)

    def labels(self, artifact: str, images: np.ndarray, via: str, *,
               features_first: bool = False, batch_size: int | None = None) -> np.ndarray:
        """The labels ``via(X, artifact)`` gives ``images`` (see :meth:`NotebookRun.labels`)."""
        self.require(artifact)
        return self.run_with(artifact).labels(artifact, images, via,
                                              features_first=features_first,
                                              batch_size=batch_size)

    def accuracy(self, artifact: str, images: np.ndarray, labels: np.ndarray,
                 batch_size: int | None = 100, *, via: str | None = None,
                 features_first: bool = False) -> float:
        """The fraction of ``images`` the artifact labels right; the labels stay here. The
        artifact is a model whose ``loss(X)`` gives scores, or with ``via`` what the function
        of that name takes with the images (``classify(X, parameters)``: see :meth:`labels`)."""
        truth = np.asarray(labels).reshape(-1)
        if via is None:
            predicted = self.predict(artifact, images, batch_size or len(images)).argmax(axis=1)
        else:
            predicted = self.labels(artifact, images, via, features_first=features_first,
                                    batch_size=batch_size)
        return float(np.mean(predicted == truth))

    def saved_arrays(self, filename: str) -> dict[str, np.ndarray]:
        """Arrays a notebook saved next to itself (``np.savez("best_model.npz", ...)``), or
        the submitted file of that name: for packs that grade a params file plus the
        student's model class. Read without unpickling anything."""
        self.needed_by.setdefault(filename, set()).add(self.current_test)
        for run in self.runs:
            if run.files is not None:  # what the notebook saved, in its own sandbox
                path = run.kernel_path(filename)
                if run.files.exists(path):  # a link too: refused when read
                    return read_saved_arrays(run.files, path)
        for run in self.runs:
            folder = run.path.parent if run.path is not None else run.source
            if os.path.lexists(folder / filename):  # the loader's copy: links already refused
                submitted = FilesBeneath.of_folder(folder)
                try:
                    return read_saved_arrays(submitted, str(folder / filename))
                finally:
                    submitted.close()
        ran = "" if self.executed else " (notebooks were not run)"
        raise ArtifactError(f"{filename} was not found next to the notebook{ran}; save the "
                            f"trained parameters with np.savez({filename!r}, ...)")

    def execute(self) -> None:
        for run in self.runs:
            run.execute()

    def reports(self, results: Sequence[TestResult] = (),
                executed_files: dict[str, str] | None = None) -> list[NotebookReport]:
        """One report per notebook; a failed cell lists the tests that needed what it defines
        and lost points."""
        lost = {t.name for t in results if t.status != "passed"}
        needed = {artifact: tests & lost for artifact, tests in self.needed_by.items()}
        files = executed_files or {}
        return [run.report(needed, files.get(run.spec.name)) for run in self.runs]

    def close(self) -> None:
        for run in self.runs:
            run.close()

    def __enter__(self) -> SubmissionNotebooks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prepare_notebooks(pack: AssignmentPack, root: Path, scratch: Path,
                      confinement: Confinement) -> SubmissionNotebooks:
    """One :class:`NotebookRun` per pack notebook over the submission at ``root``; each
    kernel gets a private copy of it (what a notebook writes stays in its own sandbox).
    Nothing runs yet."""
    runs = []
    for number, spec in enumerate(pack.notebooks):
        own = scratch / f"notebook-{number}"
        own.mkdir(parents=True)
        runs.append(NotebookRun(spec, find_notebook(root, spec), root, own, confinement))
    return SubmissionNotebooks(runs)
