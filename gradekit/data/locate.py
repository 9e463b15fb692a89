"""Where data sets live: ``$GRADEKIT_DATA`` first, then the user cache dir.

The environment variable lets a course or CI point at a shared copy; the cache dir is where
``gradekit data fetch`` puts downloads, so a fetched data set is found without configuration.
Inside a sandbox ``$GRADEKIT_DATA`` lists the grader's views of the data sets instead
(:mod:`gradekit.data.view`).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from gradekit.data.registry import Dataset

ENV_VAR = "GRADEKIT_DATA"


class DataNotFoundError(FileNotFoundError):
    """A data set is in none of the places searched."""


def cache_dir() -> Path:
    """The per-user folder that downloads go to by default."""
    return Path(platformdirs.user_cache_dir("gradekit"))


def search_path() -> list[Path]:
    """The folders searched for data sets, first match wins: those ``$GRADEKIT_DATA`` lists
    (separated like ``PATH``: a sandbox gets one folder per data set view), then the cache."""
    listed = os.environ.get(ENV_VAR, "").split(os.pathsep)
    return [*(Path(entry).expanduser() for entry in listed if entry), cache_dir()]


def candidates(dataset: Dataset) -> list[Path]:
    """Existing folders named like ``dataset``, in search order (complete or not)."""
    return [root / folder for root in search_path() for folder in dataset.folders
            if (root / folder).is_dir()]


def find_dataset(dataset: Dataset) -> Path | None:
    """The first complete folder holding ``dataset``, or ``None`` if there is none."""
    return next((c for c in candidates(dataset) if not dataset.missing_from(c)), None)


def locate(dataset: Dataset) -> Path:
    """The folder holding ``dataset``; :class:`DataNotFoundError` says where we looked."""
    found = find_dataset(dataset)
    if found is not None:
        return found
    env = os.environ.get(ENV_VAR)
    env_place = f"${ENV_VAR} ({env})" if env else f"${ENV_VAR} (not set)"
    incomplete = "".join(
        f" {c} is incomplete (no {', '.join(dataset.missing_from(c))})."
        for c in candidates(dataset)
    )
    raise DataNotFoundError(
        f"{dataset.title} not found: looked for {' or '.join(dataset.folders)} "
        f"in {env_place} and in the cache dir ({cache_dir()}).{incomplete} "
        f"Run `gradekit data fetch {dataset.name}` to download it ({dataset.size}), "
        f"or set {ENV_VAR} to a folder that contains one of those folders."
    )
