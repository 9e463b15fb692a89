"""Numerical gradient helpers, given to students with the assignments' semantics.

All helpers use centred differences and perturb ``x`` IN PLACE, restoring each entry
afterwards. The notebooks rely on this: they pass closures such as
``lambda _: model.loss(X, y)[0]`` that ignore their argument and read the parameter
array directly, which only works if that very array is perturbed.
"""

from collections.abc import Callable
from random import randrange
from typing import Any

import numpy as np


def rel_error(x: np.ndarray | float, y: np.ndarray | float) -> float:
    """Largest elementwise relative error, ``max(|x - y| / max(1e-8, |x| + |y|))``."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _evaluate_around(
    f: Callable[[np.ndarray], Any], x: np.ndarray, index: tuple[int, ...], h: float
) -> tuple[Any, Any]:
    """Return ``(f(x + h e_i), f(x - h e_i))`` for one index i, restoring ``x[i]`` afterwards."""
    original = x[index]
    x[index] = original + h
    plus = np.copy(f(x))
    x[index] = original - h
    minus = np.copy(f(x))
    x[index] = original
    return plus, minus


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function ``f`` at ``x``; prints each entry if verbose."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = _evaluate_around(f, x, index, h)
        grad[index] = (plus - minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of ``sum(f(x) * df)``, i.e. backpropagation of upstream ``df``."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = _evaluate_around(f, x, index, h)
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
) -> list[float]:
    """Compare ``analytic_grad`` with numerical slopes at ``num_checks`` random entries of x.

    Cheap enough for large parameter arrays. Prints one line per entry and returns the
    relative errors in the order printed. Entries are drawn with :mod:`random`, as in
    the notebooks, so seeding NumPy does not change which entries are checked.
    """
    errors = []
    for _ in range(num_checks):
        index = tuple(randrange(size) for size in x.shape)
        plus, minus = _evaluate_around(f, x, index, h)
        numerical = float((plus - minus) / (2 * h))
        analytic = float(analytic_grad[index])
        error = rel_error(numerical, analytic)
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {error:e}")
        errors.append(error)
    return errors
