"""Layer test cases and the generic checks every forward/backward pair must pass.

A :class:`LayerCase` builds a layer's arguments from a seeded generator. The leading
arguments are the arrays the backward pass returns gradients for, in order, which
lets one checker compare every layer with central differences.

ReLU and max kinks are kept away by construction rather than by loose thresholds:
biases put the ReLU threshold in the widest gap of the pre-activations, and pooled
inputs are distinct values spaced far wider than the finite-difference step.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradekit.gradient_check import eval_numerical_gradient_array, rel_error

Args = tuple[Any, ...]


@dataclass(frozen=True)
class LayerCase:
    """One forward/backward pair with inputs; ``zero_grads`` names gradients that are exactly 0."""

    name: str
    forward: Callable[..., tuple[np.ndarray, Any]]
    backward: Callable[[np.ndarray, Any], Any]
    make_args: Callable[[np.random.Generator], Args]
    grad_names: tuple[str, ...]
    zero_grads: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.name

    def args(self, seed: int = 0) -> Args:
        return self.make_args(np.random.default_rng(seed))


# ---------------------------------------------------------------- input builders


def widest_gap_midpoint(values: np.ndarray, channel_axis: int) -> np.ndarray:
    """Per channel, the midpoint of the widest gap between consecutive sorted values.

    Subtracting it from a channel moves the ReLU threshold as far from the data as it can go.
    """
    per_channel = np.moveaxis(values, channel_axis, 0).reshape(values.shape[channel_axis], -1)
    ordered = np.sort(per_channel, axis=1)
    widest = np.argmax(np.diff(ordered, axis=1), axis=1)
    rows = np.arange(len(ordered))
    return (ordered[rows, widest] + ordered[rows, widest + 1]) / 2


def signed_away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in ±[0.1, 1], so a ReLU sees no input near its kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 1.0, size=shape)


def distinct_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A shuffled grid of values 0.01 apart, so no pooling window has a (near) tie."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.01 - 1.0).reshape(shape)


# ---------------------------------------------------------------- the generic checks


def notebook_gradient_errors(forward, backward, shapes, dout_shape, extra) -> list[float]:
    """Re-run a notebook gradient-check cell: seed 231, randn draws in the cell's order."""
    np.random.seed(231)
    arrays = [np.random.randn(*shape) for shape in shapes]
    dout = np.random.randn(*dout_shape)
    args = (*arrays, *extra)
    _, cache = forward(*args)
    analytic = backward(dout, cache)
    analytic = analytic if isinstance(analytic, tuple) else (analytic,)
    return [
        rel_error(eval_numerical_gradient_array(lambda _: forward(*args)[0], array, dout), grad)
        for array, grad in zip(arrays, analytic, strict=True)
    ]


def _perturbable(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def numerical_and_analytic(case: LayerCase, seed: int = 0) -> dict[str, tuple[np.ndarray, ...]]:
    """``{gradient name: (numerical, analytic)}`` with a random upstream gradient."""
    args = case.args(seed)
    out, cache = case.forward(*args)
    dout = np.random.default_rng(seed + 1).standard_normal(out.shape)
    analytic = case.backward(dout, cache)
    analytic = analytic if isinstance(analytic, tuple) else (analytic,)
    assert len(analytic) == len(case.grad_names)
    pairs = {}
    for position, (name, grad) in enumerate(zip(case.grad_names, analytic, strict=True)):
        # The perturbed array is args[position] itself, so the closure ignores its argument.
        numerical = eval_numerical_gradient_array(
            lambda _: case.forward(*args)[0], args[position], dout
        )
        pairs[name] = (numerical, grad)
    return pairs


def gradient_errors(case: LayerCase) -> dict[str, float]:
    """Relative error of each gradient that is not identically zero."""
    pairs = numerical_and_analytic(case)
    return {name: rel_error(*pair) for name, pair in pairs.items() if name not in case.zero_grads}


def assert_gradients_match(case: LayerCase, tolerance: float = 1e-7) -> None:
    """Analytic gradients agree with central differences; exact zeros stay (numerically) zero."""
    for name, (numerical, analytic) in numerical_and_analytic(case).items():
        if name in case.zero_grads:
            assert np.abs(analytic).max() < 1e-12, name
            assert np.abs(numerical).max() < 1e-8, name
        else:
            assert rel_error(numerical, analytic) <= tolerance, name


def _same(before: Any, after: Any) -> bool:
    """Structural equality for the nested tuples/dicts/arrays layers use as caches."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and np.array_equal(before, after, equal_nan=True)
    if isinstance(before, tuple | list):
        return len(before) == len(after) and all(map(_same, before, after))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    return before == after


def assert_inputs_untouched(case: LayerCase) -> None:
    """Forward leaves its arrays alone; backward leaves dout and the cache alone.

    Parameter dicts may change only where documented (batchnorm's running statistics).
    """
    args = case.args()
    arrays_before = [copy.deepcopy(a) for a in args if isinstance(a, np.ndarray)]
    out, cache = case.forward(*args)
    assert _same(arrays_before, [a for a in args if isinstance(a, np.ndarray)])
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dout_before, cache_before = dout.copy(), copy.deepcopy(cache)
    case.backward(dout, cache)
    assert np.array_equal(dout, dout_before)
    assert _same(cache_before, cache)


def assert_keeps_float32(case: LayerCase) -> None:
    """Every float array in, float32; the output comes back float32 too."""
    args = tuple(a.astype(np.float32) if _perturbable(a) else a for a in case.args())
    out, _ = case.forward(*args)
    assert out.dtype == np.float32
