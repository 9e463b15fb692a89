"""Tests for gradekit/gradient_check.py: the notebook semantics students rely on."""

import random

import numpy as np
import pytest

from gradekit.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0]), 0.0),
        (np.array([1.0, 2.0]), np.array([3.0, 2.0]), 0.5),
        (np.array([-1.0]), np.array([1.0]), 1.0),
        # Below |x| + |y| = 1e-8 the denominator is floored, so tiny values do not blow up.
        (np.array([0.0]), np.array([1e-10]), 1e-2),
    ],
)
def test_rel_error_is_the_notebook_formula(x, y, expected) -> None:
    assert rel_error(x, y) == pytest.approx(expected)


def test_numerical_gradient_of_a_cubic() -> None:
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    grad = eval_numerical_gradient(lambda v: np.sum(v**3), x, verbose=False)
    # Central differences are exact for a cubic up to the h^2 term: error h^2 = 1e-10.
    np.testing.assert_allclose(grad, 3 * x**2, atol=1e-8)


def test_perturbs_in_place_so_closures_may_ignore_their_argument() -> None:
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    w_before = w.copy()
    grad = eval_numerical_gradient(lambda _: np.sum(w**2), w, verbose=False)
    np.testing.assert_allclose(grad, 2 * w, rtol=1e-8)
    assert np.array_equal(w, w_before)


def test_verbose_prints_every_entry(capsys) -> None:
    eval_numerical_gradient(lambda v: np.sum(2 * v), np.zeros((2, 2)))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("(0, 0)")


def test_array_gradient_backpropagates_the_upstream_gradient() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    df = rng.standard_normal((3, 2))
    x_before = x.copy()
    dx = eval_numerical_gradient_array(lambda v: v @ w, x, df)
    np.testing.assert_allclose(dx, df @ w.T, rtol=1e-8)
    assert np.array_equal(x, x_before)


def test_grad_check_sparse_reports_small_errors_for_the_true_gradient(capsys) -> None:
    random.seed(0)
    x = np.linspace(0.5, 2, 20).reshape(4, 5)
    errors = grad_check_sparse(lambda v: np.sum(np.sin(v)), x, np.cos(x), num_checks=6)
    assert len(errors) == 6
    assert max(errors) < 1e-8
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_grad_check_sparse_flags_a_wrong_gradient() -> None:
    random.seed(0)
    x = np.linspace(0.5, 2, 20).reshape(4, 5)
    errors = grad_check_sparse(lambda v: np.sum(np.sin(v)), x, -np.cos(x), num_checks=3)
    assert min(errors) == pytest.approx(1.0)
