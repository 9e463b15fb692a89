"""Assertions for what these assignments check, with messages a student can act on.

Each helper says what was checked and by how much it missed: the relative error as the
notebooks define it (:func:`gradekit.gradient_check.rel_error`), the worst element, the
argument that was modified in place, the parameter whose gradient is wrong, the measured
speed-up. Values may come from the sandbox as plain ndarrays, numbers, or tuples/lists/dicts
of them; other objects (opaque handles) are left alone.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import numpy as np
from numpy.typing import DTypeLike

from gradekit.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from gradekit.harness.models import model_gradient
from gradekit.sandbox.mutations import Observed, deep_copy, observing

#: How a value with the right numbers in another shape of the same size (``(1, D)`` for
#: ``(D,)``, from a ``keepdims=True``) is judged: ``strict`` fails it, ``lenient`` accepts it
#: as the notebooks' own ``rel_error`` does. The grading session sets it from the pack
#: version (``conventions.shapes``); either way the feedback names the shape.
SHAPES: ContextVar[Literal["strict", "lenient"]] = ContextVar("shapes", default="strict")
#: Remarks on a check that passed (an accepted shape), collected per test for its feedback.
NOTES: ContextVar[list[str] | None] = ContextVar("notes", default=None)


def note(text: str) -> None:
    """Attach ``text`` to the feedback of the test being run (no effect outside one)."""
    notes = NOTES.get()
    if notes is not None and text not in notes:
        notes.append(text)


def _same_values_reshaped(got: np.ndarray, want: np.ndarray) -> bool:
    """True when ``got`` is ``want``'s shape with axes of length 1 added or removed."""
    return got.size == want.size and np.squeeze(got).shape == np.squeeze(want).shape


def _matching_shape(got: np.ndarray, want: np.ndarray, what: str) -> np.ndarray:
    """``got`` in ``want``'s shape, or an :class:`AssertionError` that names both."""
    if got.shape == want.shape:
        return got
    if not _same_values_reshaped(got, want):
        raise AssertionError(f"{what}: shape {got.shape}, expected {want.shape}")
    if SHAPES.get() == "strict":
        raise AssertionError(f"{what}: shape {got.shape}, expected {want.shape} (the same "
                             "number of values: a keepdims=True or a missing squeeze?)")
    note(f"{what} has shape {got.shape}, expected {want.shape}: accepted, as the "
         "assignment's own check accepts it, but fix it before it breaks a caller")
    return got.reshape(want.shape)


def _as_array(value: Any, what: str) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{what}: got None; does the function return its result?")
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{what}: expected an array, got {type(value).__name__}") from exc


def assert_shape(actual: Any, shape: tuple[int, ...], what: str = "result") -> None:
    """Fail unless ``actual`` has ``shape``."""
    found = _as_array(actual, what).shape
    if found != tuple(shape):
        raise AssertionError(f"{what}: shape {found}, expected {tuple(shape)}")


def assert_dtype(actual: Any, dtype: DTypeLike, what: str = "result") -> None:
    """Fail unless ``actual`` has exactly ``dtype`` (float32 stays float32)."""
    found, wanted = _as_array(actual, what).dtype, np.dtype(dtype)
    if found != wanted:
        raise AssertionError(f"{what}: dtype {found}, expected {wanted}")


def assert_rel_close(
    actual: Any, expected: Any, tol: float, what: str = "result", *, check_dtype: bool = True
) -> None:
    """Fail unless ``rel_error(actual, expected) <= tol``; shape (see :data:`SHAPES`) and
    dtype are checked first.

    The message names the worst element, e.g. ``dx: relative error 3.1e-02 exceeds 1e-07
    (worst at (1, 2): got 0.52, expected 0.5)``.
    """
    got, want = _as_array(actual, what), np.asarray(expected)
    got = _matching_shape(got, want, what)
    if check_dtype and got.dtype != want.dtype:
        raise AssertionError(f"{what}: dtype {got.dtype}, expected {want.dtype}")
    if not np.issubdtype(got.dtype, np.number) and got.dtype != np.bool_:
        raise AssertionError(f"{what}: expected numbers, got an array of {got.dtype}")
    got_f, want_f = got.astype(np.float64), want.astype(np.float64)
    if got.size == 0:
        return
    if not np.all(np.isfinite(got_f)):
        bad = np.argwhere(~np.isfinite(got_f))
        where = tuple(int(i) for i in bad[0])
        raise AssertionError(f"{what}: {len(bad)} non-finite value(s), first at {where}: "
                             f"{got_f[where]}")
    error = rel_error(got_f, want_f)
    if not error <= tol:
        per_element = np.abs(got_f - want_f) / np.maximum(1e-8, np.abs(got_f) + np.abs(want_f))
        where = np.unravel_index(int(np.argmax(per_element)), got.shape)
        location = f" at {tuple(int(i) for i in where)}" if got.ndim else ""
        raise AssertionError(
            f"{what}: relative error {error:.1e} exceeds {tol:.0e} (worst{location}: got "
            f"{got_f[where]:.6g}, expected {want_f[where]:.6g})"
        )


def assert_decimal_close(actual: Any, expected: Any, decimal: int = 6,
                         what: str = "result") -> None:
    """Fail unless every element is within ``1.5 * 10**-decimal`` of ``expected``: the
    semantics of ``numpy.testing.assert_array_almost_equal(..., decimal=d)``, which
    nbgrader-style courses check golden arrays with, whatever the dialect's layout. Shape is
    checked as :data:`SHAPES` says (strict by default); dtype is not, as numpy's is not.

    The message names the worst element, e.g. ``dropout output: 3 of 12 values differ at 5
    decimals (worst at (0, 1): got 0.7, expected 0.0)``.
    """
    got, want = _as_array(actual, what), np.asarray(expected, dtype=np.float64)
    got = _matching_shape(got, want, what)
    if not np.issubdtype(got.dtype, np.number) and got.dtype != np.bool_:
        raise AssertionError(f"{what}: expected numbers, got an array of {got.dtype}")
    got_f = got.astype(np.float64)
    off = ~(np.abs(got_f - want) < 1.5 * 10.0 ** -decimal)  # NaN counts as off
    if off.any():
        difference = np.where(np.isfinite(got_f), np.abs(got_f - want), np.inf)
        where = np.unravel_index(int(np.argmax(difference)), got.shape)
        location = f" at {tuple(int(i) for i in where)}" if got.ndim else ""
        raise AssertionError(
            f"{what}: {int(off.sum())} of {off.size} values differ at {decimal} decimals "
            f"(worst{location}: got {got_f[where]:.8g}, expected {want[where]:.8g})")


def assert_norm_close(actual: Any, expected: Any, tol: float, what: str = "result") -> None:
    """Fail unless ``|actual - expected| / |expected|`` (Frobenius norms) is at most ``tol``.

    For float32 results: one rounding error next to a value near zero says nothing, so the
    whole array is compared at once; shape is checked, dtype is not.
    """
    got, want = _as_array(actual, what), np.asarray(expected, dtype=np.float64)
    got = _matching_shape(got, want, what)
    if not np.issubdtype(got.dtype, np.number):
        raise AssertionError(f"{what}: expected numbers, got an array of {got.dtype}")
    difference = np.linalg.norm(got.astype(np.float64) - want)
    error = difference / max(float(np.linalg.norm(want)), 1e-12)
    if not error <= tol:
        raise AssertionError(f"{what}: relative error {error:.1e} (over the whole array) "
                             f"exceeds {tol:.0e}")


def assert_gradient_matches(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    analytic: Any,
    tol: float,
    *,
    dout: np.ndarray | None = None,
    h: float = 1e-5,
    what: str = "gradient",
) -> None:
    """Compare an analytic gradient with centred differences of ``f`` at ``x``.

    With ``dout``, ``f`` returns an array and the gradient is that of ``sum(f(x) * dout)``
    (a layer's backward pass); without, ``f`` returns a scalar loss. ``x`` is perturbed in
    place and restored, as in the notebooks, so ``f`` may read it through a closure.
    """
    if dout is None:
        numerical = eval_numerical_gradient(f, x, verbose=False, h=h)
    else:
        numerical = eval_numerical_gradient_array(f, x, dout, h=h)
    assert_rel_close(analytic, numerical, tol, f"{what} (analytic vs numerical)",
                     check_dtype=False)


def assert_model_gradients(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    tol: float,
    *,
    names: Sequence[str] | None = None,
    h: float = 1e-5,
    what: str = "model",
) -> None:
    """Check every gradient ``model.loss(X, y)`` returns against centred differences.

    Works on a remote model from the sandbox too (see :func:`gradekit.harness.models.
    model_gradient`): parameters are written back with ``model.params[name] = value``.
    ``names`` limits the check (default: every gradient the model returns).
    """
    _, grads = model.loss(X, y)
    for name in names or sorted(grads):
        if name not in grads:
            raise AssertionError(f"{what}: loss() returned no gradient for {name!r}")
        numerical = model_gradient(model, X, y, name, h=h)
        assert_rel_close(grads[name], numerical, tol, f"{what} d{name} (analytic vs numerical)",
                         check_dtype=False)


# -- in-place modification ------------------------------------------------------------

def _changes(before: Any, after: Any, path: str) -> Iterator[str]:
    """Describe where ``after`` differs from the snapshot ``before``."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            yield f"{path} was replaced or reshaped"
        elif not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"):
            changed = int(np.count_nonzero(~_same(before, after)))
            yield f"{path} was modified in place ({changed} of {before.size} elements)"
    elif isinstance(before, tuple | list):
        if not isinstance(after, tuple | list):
            yield f"{path} was replaced by a {type(after).__name__}"
        elif len(before) != len(after):
            yield f"{path} changed length from {len(before)} to {len(after)}"
        else:
            for i, (b, a) in enumerate(zip(before, after, strict=True)):
                yield from _changes(b, a, f"{path}[{i}]")
    elif isinstance(before, dict):
        if not isinstance(after, dict):
            yield f"{path} was replaced by a {type(after).__name__}"
            return
        for key in before.keys() - after.keys():
            yield f"{path}[{key!r}] was removed"
        for key in after.keys() - before.keys():
            yield f"{path}[{key!r}] was added"
        for key in before.keys() & after.keys():
            yield from _changes(before[key], after[key], f"{path}[{key!r}]")


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    equal = a == b
    if a.dtype.kind in "fc":
        equal |= np.isnan(a) & np.isnan(b)
    return equal


@contextmanager
def unchanged(**named: Any) -> Iterator[None]:
    """Fail if the block modifies any of the named values: ``with unchanged(x=x, cache=c):``.

    A sandboxed call's changes to arrays are never written into the grader's objects (see
    :mod:`gradekit.sandbox.mutations`), so they are read from what the call was seen doing.
    """
    before = {name: deep_copy(value) for name, value in named.items()}
    with observing() as seen:
        yield
    problems = [p for name, value in named.items()
                for p in _changes(before[name], value, name)]
    problems += [p for change in seen if not change.applied
                 for name, value in named.items()
                 for p in _observed_changes(before[name], value, change, name)]
    if problems:
        raise AssertionError("; ".join(dict.fromkeys(problems)))


def _locate(value: Any, target: Any, depth: int = 4) -> tuple[Any, ...] | None:
    """The keys leading from ``value`` to the very object ``target``, if it is inside."""
    if value is target:
        return ()
    if depth and isinstance(value, dict | list | tuple):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            found = _locate(item, target, depth - 1)
            if found is not None:
                return (key, *found)
    return None


def _observed_changes(before: Any, value: Any, change: Observed, name: str) -> Iterator[str]:
    """Describe ``change`` if it happened inside the named ``value`` (``before`` its copy)."""
    keys = _locate(value, change.root)
    if keys is None:
        return
    path = name
    for key in (*keys, *change.path):
        try:
            before = before[key]
        except (LookupError, TypeError):
            return
        path += f"[{key!r}]"
    yield from _changes(before, change.value, path)


def assert_not_mutated(fn: Callable[..., Any], *args: Any, what: str = "",
                       names: Sequence[str] = (), **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)``, fail if it modified an argument, and return its result.

    Positional arguments are called ``names`` if given, else after ``fn``'s parameters when
    its signature is known (a sandboxed function's is not), else by position (``argument 1``).
    """
    names = list(names) or _argument_names(fn, len(args))
    label = what or getattr(fn, "__name__", "the function")
    with _labelled(label), unchanged(**dict(zip(names, args, strict=True)), **kwargs):
        return fn(*args, **kwargs)


@contextmanager
def _labelled(label: str) -> Iterator[None]:
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{label}: {exc}") from None


def _argument_names(fn: Callable[..., Any], count: int) -> list[str]:
    try:
        parameters = [p for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters[:count]]
    return names + [f"argument {i + 1}" for i in range(len(names), count)]


# -- dtypes ---------------------------------------------------------------------------

def _cast_floats(value: Any, dtype: np.dtype) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype)
    if isinstance(value, tuple | list):
        return type(value)(_cast_floats(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floats(v, dtype) for k, v in value.items()}
    return value


def _float_arrays(value: Any, path: str) -> Iterator[tuple[str, np.ndarray]]:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        yield path, value
    elif isinstance(value, tuple | list):
        for i, v in enumerate(value):
            yield from _float_arrays(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _float_arrays(v, f"{path}[{k!r}]")


def assert_dtype_preserved(
    fn: Callable[..., Any],
    *args: Any,
    dtype: DTypeLike = np.float32,
    pick: Callable[[Any], Any] = lambda result: result,
    what: str = "",
    **kwargs: Any,
) -> Any:
    """Call ``fn`` with its float arrays cast to ``dtype``; fail if an output changes dtype.

    ``pick`` selects the outputs to check, e.g. ``lambda r: r[0]`` to check a forward
    pass's ``out`` but not its cache (caches may hold anything). Returns the result.
    """
    wanted = np.dtype(dtype)
    result = fn(*_cast_floats(args, wanted), **_cast_floats(kwargs, wanted))
    label = what or getattr(fn, "__name__", "the function")
    wrong = [f"{path} is {array.dtype}" for path, array in _float_arrays(pick(result), "output")
             if array.dtype != wanted]
    if wrong:
        raise AssertionError(f"{label}: given {wanted} inputs, {'; '.join(wrong)} "
                             f"(expected {wanted})")
    return result


# -- speed ------------------------------------------------------------------------------

def best_time(fn: Callable[..., Any], *args: Any, repeat: int = 3, **kwargs: Any) -> float:
    """The fastest of ``repeat`` wall-clock timings of ``fn(*args, **kwargs)``, in seconds."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        timings.append(time.perf_counter() - start)
    return min(timings)


def assert_faster(
    fast: Callable[..., Any],
    slow: Callable[..., Any],
    *args: Any,
    at_least: float,
    repeat: int = 3,
    what: str = "",
    **kwargs: Any,
) -> float:
    """Fail unless ``fast`` beats ``slow`` by ``at_least`` times on the same inputs.

    Best-of-``repeat`` timings keep a busy machine from failing a correct submission.
    Returns the measured speed-up.
    """
    fast_time = best_time(fast, *args, repeat=repeat, **kwargs)
    slow_time = best_time(slow, *args, repeat=repeat, **kwargs)
    speedup = slow_time / max(fast_time, 1e-9)
    if speedup < at_least:
        label = what or getattr(fast, "__name__", "the fast version")
        baseline = getattr(slow, "__name__", "the baseline")
        raise AssertionError(f"{label}: only {speedup:.1f}x faster than {baseline} "
                             f"({fast_time * 1e3:.2f} ms vs {slow_time * 1e3:.2f} ms), "
                             f"needs {at_least:g}x")
    return speedup
