"""Generated mutants: one realistic change each, only in what students write."""

from __future__ import annotations

import ast

import pytest

from gradekit.authoring.validate.operators import mutate, solution_lines

SOURCE = '''\
import numpy as np


def given(x):
    return x + 1


def layer(x, w, dout, mode):
    """Docstring 0.5 + 1 is never mutated."""
    ### BEGIN SOLUTION
    if x is None:
        raise ValueError("x + 1")
    out = 0.5 * x.dot(w.T)
    total = x.sum(axis=0, keepdims=True)
    acc = np.zeros(3, dtype=np.float64)
    acc += out
    scaled = dout * 2
    if mode == "train":
        out = out - total
    ### END SOLUTION
    return out, acc, scaled
'''


@pytest.fixture(scope="module")
def candidates():
    return mutate(SOURCE, ["layer"])


def test_only_lines_inside_solution_regions_change(candidates):
    region = solution_lines(SOURCE)
    assert candidates
    for candidate in candidates:
        before, after = SOURCE.splitlines(), candidate.source.splitlines()
        changed = {i + 1 for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b}
        assert changed and min(changed) in region, candidate.what
        ast.parse(candidate.source)  # every mutant is valid Python
        assert candidate.definition == "layer"


def test_raise_messages_docstrings_and_other_functions_are_left_alone(candidates):
    for candidate in candidates:
        assert '"""Docstring 0.5 + 1 is never mutated."""' in candidate.source
        assert 'raise ValueError("x + 1")' in candidate.source
        assert "    return x + 1\n" in candidate.source


@pytest.mark.parametrize(("operator", "before", "after"), [
    ("dropped-factor", "out = 0.5 * x.dot(w.T)", "out = x.dot(w.T)"),
    ("transpose", "x.dot(w.T)", "x.dot(w)"),
    ("axis", "x.sum(axis=0, keepdims=True)", "x.sum(axis=1, keepdims=True)"),
    ("keepdims", "x.sum(axis=0, keepdims=True)", "x.sum(axis=0)"),
    ("dtype", "np.zeros(3, dtype=np.float64)", "np.zeros(3)"),
    ("swapped-name", "np.zeros(3, dtype=np.float64)", "np.zeros(3, dtype=np.float32)"),
    ("overwrite", "acc += out", "acc = out"),
    ("in-place", "scaled = dout * 2", "dout *= 2\n    scaled = dout"),
    ("mode-switch", 'if mode == "train":', "if True:"),
    ("dropped-term", "out = out - total", "out = out"),
    ("comparison", "if x is None:", "if x is not None:"),
    ("arithmetic", "out = out - total", "out = out + total"),
])
def test_each_operator_makes_its_change(candidates, operator, before, after):
    made = [c for c in candidates if c.operator == operator]
    assert any(c.source == SOURCE.replace(before, after, 1) for c in made), \
        [c.what for c in made]


def test_nothing_outside_the_named_definitions_is_mutated():
    assert mutate(SOURCE, ["given"]) == []
