"""The fork server a batch forks its grading processes from.

It is multiprocessing's fork server: an interpreter of its own that imports, once, every
module a grading imports (:func:`preload`, run by importing
:mod:`gradekit.fork_server_imports`), then forks one process per submission on request.
Each grading process starts warm, yet none inherits the caller's state (a test session, the
threads of a progress display). The imports take about half a second, so ``gradekit grade``
starts the server before it imports anything else: the two then run side by side.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from multiprocessing.context import BaseContext

#: what the fork server imports once, so that no grading process pays for it: all a grading
#: imports but the course's reference, the student's code and pytest's built-in plugins
#: (:func:`preloaded`)
PRELOAD = (
    "gradekit.grading", "gradekit.harness.session", "gradekit.harness.rubrics",
    "gradekit.harness.builtins", "gradekit.harness.checks", "gradekit.harness.models",
    "gradekit.sandbox.client", "gradekit.sandbox.plugin", "gradekit.plugin_manager",
    "gradekit.notebooks.runner", "gradekit.submission.version_fit", "gradekit.authoring.release",
    "gradekit.goldens", "gradekit.gradient_check", "gradekit.solver", "gradekit.provided",
    "gradekit.fast_layers", "gradekit.data.cifar10", "gradekit.data.digits",
    "gradekit.data.mnist", "gradekit.data.shared",
    "threadpoolctl", "numpy.random", "numpy.typing", "tomli_w", "unittest", "pdb", "readline",
    "secrets", "gzip", "resource", "faulthandler", "xml.etree.ElementTree", "encodings.cp437",
    "encodings.unicode_escape", "_pytest._argcomplete",
)


def start() -> BaseContext:
    """The fork server's context, the server running (started now if it is not yet). It
    starts in an empty folder: the interpreter that becomes the server imports
    ``multiprocessing`` with its working directory first on ``sys.path``, and the grader's
    may hold student files. It is told only to import :mod:`gradekit.fork_server_imports`,
    so the caller need not import pytest to name pytest's plugins."""
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["gradekit.fork_server_imports"])
    with tempfile.TemporaryDirectory(prefix="gradekit-") as empty, _working_directory(empty):
        forkserver.ensure_running()
    return context


def preloaded() -> list[str]:
    """What the fork server imports: :data:`PRELOAD` and the built-in plugins that pytest,
    as installed, imports into each session."""
    from _pytest.config import default_plugins

    return [*PRELOAD, *(f"_pytest.{name}" for name in default_plugins)]


def preload() -> None:
    """Import :func:`preloaded`, skipping a name that does not import here (``readline``
    on a Python built without it)."""
    for name in preloaded():
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


@contextlib.contextmanager
def _working_directory(folder: str) -> Iterator[None]:
    here = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)
