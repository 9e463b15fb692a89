"""Changes a call makes to its arguments, carried back so the grader sees them too.

Arguments cross the wire as copies, but CS231n code relies on in-place updates (batchnorm
stores its running statistics in ``bn_param``; tests check that a layer does *not* modify
its input or cache). So the worker fingerprints every argument before the call (arrays by a
CRC of their bytes, containers by their contents) and afterwards reports each changed
array, dict or list (inside tuples too, such as caches) with its path. The grader applies
these to its own objects in place. Objects passed as handles live in the worker already.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
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
