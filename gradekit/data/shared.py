"""Data sets loaded once and shared read-only by every grading process of a batch.

A batch gives its grading processes a cache folder of its own. The first process that asks
for a data set (a loader and its options) loads it and writes its arrays there as ``.npy``
files, under a lock, so that a process asking at the same moment waits instead of loading it
too; every process then memory-maps the files read-only. The batch holds one copy in the
page cache, and no other process parses pickles or converts images again: the full CIFAR-10
is 1.2 GB of float64 per copy.

The folder is the grader's: private to its user, hidden from the sandbox, removed with the
batch. A batch makes one only where student code cannot reach it (see
:func:`gradekit.batch._shared_folder`), since a submission that could write it would
choose the data of every submission graded after it. Without a folder the loader runs as
before, and its arrays are made read-only all the same: one test cannot change the data
another test reads.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: written last into a data set's folder: its arrays are all there
COMPLETE = "meta.json"


def load_shared(name: str, options: Mapping[str, Any],
                loader: Callable[..., dict[str, Any]],
                folder: Path | None) -> dict[str, Any]:
    """``loader(**options)``, its arrays read-only, through the batch's ``folder`` if any.

    Values other than arrays must be JSON (a held-out split's description); a data set with
    others is loaded here and not shared."""
    if folder is None:
        return _read_only(loader(**options))
    stem = folder / _digest(name, options)
    with open(f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a process loading it now: wait for its files
        if not (stem / COMPLETE).exists():
            data = loader(**options)
            if not _write(stem, data):
                return _read_only(data)
    return _mapped(stem)


def _digest(name: str, options: Mapping[str, Any]) -> str:
    spec = json.dumps([name, sorted(options.items())], default=str)
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


def _read_only(data: dict[str, Any]) -> dict[str, Any]:
    for value in data.values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return data


def _write(stem: Path, data: dict[str, Any]) -> bool:
    """Write ``data`` into ``stem`` (atomically, by one rename); False when it cannot be."""
    arrays = {k: v for k, v in data.items() if isinstance(v, np.ndarray)}
    others = {k: v for k, v in data.items() if k not in arrays}
    if any(a.dtype.hasobject for a in arrays.values()):
        return False
    try:
        meta = json.dumps({"arrays": sorted(arrays), "values": others})
    except (TypeError, ValueError):
        return False
    building = stem.with_name(f"{stem.name}.building")
    shutil.rmtree(building, ignore_errors=True)  # a process that died while writing
    building.mkdir()
    for key, array in arrays.items():
        np.save(building / f"{_file_name(key)}.npy", array, allow_pickle=False)
    (building / COMPLETE).write_text(meta, encoding="utf-8")
    building.rename(stem)
    return True


def _mapped(stem: Path) -> dict[str, Any]:
    meta = json.loads((stem / COMPLETE).read_text(encoding="utf-8"))
    data: dict[str, Any] = dict(meta["values"])
    for key in meta["arrays"]:
        mapped = np.load(stem / f"{_file_name(key)}.npy", mmap_mode="r", allow_pickle=False)
        data[key] = np.asarray(mapped)  # a plain read-only array over the mapping
    return data


def _file_name(key: str) -> str:
    """A file name for any key (keys are the loader's, e.g. ``X_train``)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16] if not key.isidentifier() else key
