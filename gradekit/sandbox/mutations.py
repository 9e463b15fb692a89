"""Changes a call makes to its arguments: state comes back, everything else is only seen.

Arguments cross the wire as copies, but CS231n code relies on in-place updates (batchnorm
stores its running statistics in ``bn_param``, optimizers their moments in ``config``), and
tests check that a layer does *not* modify its input or cache. So the worker fingerprints
every argument before the call (arrays by a CRC of their bytes, containers by their
contents) and afterwards reports each changed array, dict or list (inside tuples too, such
as caches) with its path. Objects passed as handles live in the worker already.

The grader treats what comes back as untrusted. Only *state* -- a dict, or a list of dicts
such as ``bn_params`` -- is written into the grader's object, and that object's pristine
value is kept: reference calls are handed the pristine value (:func:`pristine`) and every
object is put back after each test (:func:`restore_pristine`). Arrays and other lists are
never written back, so a call that zeroes ``x`` or appends to ``hidden_dims`` cannot change
what the reference computes, what a later call gets, or a later test. Every change is an
:class:`Observed` record, which side-effect checks read through :func:`observing`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradekit.sandbox.codec import Handle

Path = tuple[Any, ...]  # ("args", 0, 1) or ("kwargs", "bn_param")


def fingerprint(value: Any) -> tuple[Any, ...]:
    """Equal before and after a call exactly when nothing observable changed in ``value``."""
    if isinstance(value, np.ndarray):
        data = memoryview(value.reshape(-1)).cast("B") if value.flags.c_contiguous else None
        return ("array", value.shape, value.dtype.str, data is not None and zlib.crc32(data))
    if isinstance(value, dict):
        return ("dict", tuple((key, fingerprint(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(fingerprint(item) for item in value))
    return ("object", id(value))


def _changes(path: Path, value: Any, before: tuple[Any, ...]) -> list[tuple[Path, Any]]:
    if fingerprint(value) == before:
        return []
    if isinstance(value, tuple) and len(before[1]) == len(value):  # immutable: look inside
        return [change for i, (item, item_before) in enumerate(zip(value, before[1],
                                                                    strict=True))
                for change in _changes((*path, i), item, item_before)]
    return [(path, value)] if isinstance(value, np.ndarray | dict | list) else []


class ArgumentWatch:
    """Fingerprints of a call's arguments, taken before the call (worker side)."""

    def __init__(self, raw: Sequence[Any], raw_kwargs: Mapping[str, Any], args: Sequence[Any],
                 kwargs: Mapping[str, Any]) -> None:
        watched = [(("args", i), value) for i, (sent, value) in enumerate(zip(raw, args,
                                                                              strict=True))
                   if not isinstance(sent, Handle)]
        watched += [(("kwargs", name), value) for name, value in kwargs.items()
                    if not isinstance(raw_kwargs[name], Handle)]
        self.watched = [(path, value, fingerprint(value)) for path, value in watched]

    def updates(self) -> list[tuple[Path, Any]]:
        """Every array, dict or list argument (or part of a tuple argument) that changed."""
        return [change for path, value, before in self.watched
                for change in _changes(path, value, before)]


@dataclass(frozen=True)
class Observed:
    """One change a student call made to an object the grader handed it."""

    call: str  # what was called: "layers.affine_forward", "a FullyConnectedNet object"
    root: Any  # the grader's argument the change is inside (identity matters, not value)
    path: tuple[Any, ...]  # keys from ``root`` down to what changed; () for ``root`` itself
    value: Any  # what the student's code left there (a decoded copy, untrusted)
    applied: bool  # written back as state (a dict or list of dicts), or only observed


_pristine: dict[int, tuple[Any, Any]] = {}  # id -> (object written back, its value before)
_logs: list[list[Observed]] = []  # open observing() blocks, innermost last


def is_state(value: Any) -> bool:
    """A dict, or a non-empty list of dicts: the only kinds a student call may write back."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def deep_copy(value: Any) -> Any:
    """A deep copy of the arrays and containers in ``value``; other objects are shared."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: deep_copy(item) for key, item in value.items()}
    if isinstance(value, tuple):  # named tuples too: compared as tuples
        return tuple(deep_copy(item) for item in value)
    if isinstance(value, list):
        return [deep_copy(item) for item in value]
    return value


def apply_updates(call: str, args: Sequence[Any], kwargs: Mapping[str, Any],
                  updates: Sequence[Any]) -> list[Observed]:
    """Judge the worker's reported changes: write back state, observe the rest.

    Updates come from untrusted code, so any that does not fit (wrong path, or a value not
    of the kind it replaces) is dropped; a state object only ever receives a value of its
    own kind. Returns what was seen, also handed to every open :func:`observing` block.
    """
    roots = {"args": args, "kwargs": kwargs}
    seen = []
    for update in updates:
        try:
            (root, index, *keys), value = update
            argument = roots[root][index]
            current = argument
            for key in keys:
                current = current[key]
        except (LookupError, TypeError, ValueError):
            continue
        if is_state(current) and is_state(value) and type(current) is type(value):
            _pristine.setdefault(id(current), (current, deep_copy(current)))
            _assign(current, value)
            seen.append(Observed(call, argument, tuple(keys), value, applied=True))
        elif isinstance(value, np.ndarray | dict | list):
            seen.append(Observed(call, argument, tuple(keys), value, applied=False))
    for log in _logs:
        log.extend(seen)
    return seen


def _assign(current: Any, value: Any) -> None:
    if isinstance(current, dict):
        current.clear()
        current.update(value)
    else:
        current[:] = value


@contextmanager
def observing() -> Iterator[list[Observed]]:
    """Collect every :class:`Observed` change made by student calls inside the block."""
    log: list[Observed] = []
    _logs.append(log)
    try:
        yield log
    finally:  # by identity: two logs that saw the same changes are equal
        del _logs[next(i for i, open_log in enumerate(_logs) if open_log is log)]


def pristine(value: Any) -> Any:
    """``value`` with every object a student call wrote into replaced by a copy of its value
    from before that call (containers are looked into, and kept as they are when nothing
    inside was written); what a reference computation is handed."""
    entry = _pristine.get(id(value))
    if entry is not None and entry[0] is value:
        return deep_copy(entry[1])
    if not _pristine or not isinstance(value, dict | list | tuple):
        return value
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    replaced = {key: pristine(item) for key, item in items}
    if all(replaced[key] is item for key, item in items):
        return value
    return replaced if isinstance(value, dict) else type(value)(replaced.values())


def restore_pristine() -> None:
    """Put every object a student call wrote into back as it was (between tests)."""
    for current, before in _pristine.values():
        _assign(current, before)
    _pristine.clear()
