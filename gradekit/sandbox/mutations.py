"""Changes a call makes to its arguments, carried back so the grader sees them too.

Arguments cross the wire as copies, but CS231n code relies on in-place updates (batchnorm
stores its running statistics in ``bn_param``; tests check that a layer does *not* modify
its input or cache). So after a call the worker reports: every top-level ``dict`` or ``list``
argument as it now is, and every array argument (also inside tuples, such as caches) whose
bytes changed. The grader applies these to its own objects in place. Objects passed as
handles live in the worker already and need nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from gradekit.sandbox.codec import Handle

Path = tuple[Any, ...]  # ("args", 0, 1) or ("kwargs", "bn_param")


def _fingerprint(array: np.ndarray) -> tuple[Any, ...]:
    if not array.flags.c_contiguous:
        return (array.shape, array.dtype.str, None)
    return (array.shape, array.dtype.str, zlib.crc32(memoryview(array.reshape(-1)).cast("B")))


def _top_level(raw: Sequence[Any], raw_kwargs: Mapping[str, Any], args: Sequence[Any],
               kwargs: Mapping[str, Any]) -> Iterator[tuple[Path, Any]]:
    """(path, argument) for every argument that did not arrive as a handle."""
    for i, (sent, value) in enumerate(zip(raw, args, strict=True)):
        if not isinstance(sent, Handle):
            yield ("args", i), value
    for name, value in kwargs.items():
        if not isinstance(raw_kwargs[name], Handle):
            yield ("kwargs", name), value


def _arrays(path: Path, value: Any) -> Iterator[tuple[Path, np.ndarray]]:
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _arrays((*path, i), item)


class ArgumentWatch:
    """Fingerprints of a call's arguments, taken before the call (worker side)."""

    def __init__(self, raw: Sequence[Any], raw_kwargs: Mapping[str, Any], args: Sequence[Any],
                 kwargs: Mapping[str, Any]) -> None:
        self.containers: list[tuple[Path, Any]] = []
        self.arrays: list[tuple[Path, np.ndarray, tuple[Any, ...]]] = []
        for path, value in _top_level(raw, raw_kwargs, args, kwargs):
            if isinstance(value, dict | list):
                self.containers.append((path, value))
            for array_path, array in _arrays(path, value):
                self.arrays.append((array_path, array, _fingerprint(array)))

    def updates(self) -> list[tuple[Path, Any]]:
        """What changed: containers always (they are small), arrays whose bytes changed."""
        changed = [(path, array) for path, array, before in self.arrays
                   if _fingerprint(array) != before]
        return [*self.containers, *changed]


def apply_updates(args: Sequence[Any], kwargs: Mapping[str, Any],
                  updates: Sequence[Any]) -> None:
    """Write the worker's reported changes into the grader's own arguments, in place.

    Updates come from untrusted code, so any that does not fit (wrong path, type or shape)
    is ignored: the grader's objects only ever receive checked values of their own kind.
    """
    roots = {"args": args, "kwargs": kwargs}
    for update in updates:
        try:
            (root, *keys), value = update
            container: Any = roots[root]
            for key in keys[:-1]:
                container = container[key]
            _assign(container[keys[-1]], value)
        except (LookupError, TypeError, ValueError):
            continue


def _assign(current: Any, value: Any) -> None:
    if isinstance(current, dict) and isinstance(value, dict):
        current.clear()
        current.update(value)
    elif isinstance(current, list) and isinstance(value, list):
        current[:] = value
    elif (isinstance(current, np.ndarray) and isinstance(value, np.ndarray)
          and current.shape == value.shape and current.flags.writeable):
        np.copyto(current, value, casting="unsafe")
