"""Shared set-up for harness tests: a plugin manager with a tiny reference and submission.

The reference and the student package are written to ``tmp_path`` under names unique to
each test, so the in-process imports of one test never leak into another.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import pluggy
import pytest

from gradekit import hookspecs
from gradekit.harness import builtins
from gradekit.providers import ModuleProvider

REFERENCE_LAYERS = """
import numpy as np

def scale(x):
    return 2.0 * x

def relu(x):
    return np.maximum(0, x)

def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

def divide(x):
    return x / 2.0
"""

_counter = itertools.count()


def write_module(root: Path, package: str, module: str, source: str) -> str:
    """Write ``package/module.py`` under ``root`` and return its dotted name."""
    folder = root / package
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").touch()
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return f"{package}.{module}"


@pytest.fixture
def make_pm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], pluggy.PluginManager]:
    """``make_pm(student_layers_source)`` -> a plugin manager grading that submission."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(student_source: str) -> pluggy.PluginManager:
        n = next(_counter)
        pm = pluggy.PluginManager("gradekit")
        pm.add_hookspecs(hookspecs)
        pm.register(builtins, name="gradekit.harness")
        reference = write_module(tmp_path, f"teacher_{n}", "layers", REFERENCE_LAYERS)
        pm.register(ModuleProvider("cs231n", {"layers": reference}), name="reference")
        student = write_module(tmp_path, f"student_{n}", "layers", student_source)
        pm.register(ModuleProvider("cs231n", {"layers": student}), name="submission:alice")
        return pm

    return make


@pytest.fixture
def write_tests(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_tests("test_layers.py", source)`` -> the folder holding the test module."""
    folder = tmp_path / "graded_tests"
    folder.mkdir(exist_ok=True)

    def write(filename: str, source: str) -> Path:
        (folder / filename).write_text(textwrap.dedent(source))
        return folder

    return write
