"""Fixtures shared by the data tests: isolated search roots and the CI subset of CIFAR-10."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An empty ``$GRADEKIT_DATA`` folder and an empty cache dir, in place of the real ones."""
    env_root = tmp_path / "env"
    cache_root = tmp_path / "cache"
    env_root.mkdir()
    monkeypatch.setenv("GRADEKIT_DATA", str(env_root))
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda appname: str(cache_root / appname))
    return env_root, cache_root / "gradekit"


@pytest.fixture(scope="session")
def cifar_subset() -> Path:
    """The real CIFAR-10 subset (1017 images per batch) that CI provides."""
    root = Path(os.environ.get("GRADEKIT_DATA", REPO.parent / "shared" / "data"))
    folder = root / "cifar-10-subset"
    if not folder.is_dir():
        pytest.skip(f"CIFAR-10 subset not found at {folder}; set GRADEKIT_DATA to run this")
    return folder
