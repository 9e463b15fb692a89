"""Fixtures shared by the data tests: isolated search roots, the CI subsets of CIFAR-10 and
MNIST, and small copies of MNIST written byte by byte in the official format."""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from gradekit.data.registry import MNIST, MNIST_TEST_IMAGES, MNIST_TRAIN_IMAGES

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


def ci_subset(folder_name: str, title: str) -> Path:
    """The folder of a CI subset under ``$GRADEKIT_DATA`` (else the shared data folder);
    the test is skipped when it is not there."""
    root = Path(os.environ.get("GRADEKIT_DATA", REPO.parent / "shared" / "data"))
    folder = root / folder_name
    if not folder.is_dir():
        pytest.skip(f"{title} subset not found at {folder}; set GRADEKIT_DATA to run this")
    return folder


@pytest.fixture(scope="session")
def cifar_subset() -> Path:
    """The real CIFAR-10 subset (1017 images per batch) that CI provides."""
    return ci_subset("cifar-10-subset", "CIFAR-10")


@pytest.fixture(scope="session")
def mnist_subset() -> Path:
    """The real MNIST subset (the first 12,000 training images, the whole test set) of CI."""
    return ci_subset("mnist-subset", "MNIST")


def idx_file(array: np.ndarray) -> bytes:
    """``array`` as an uncompressed idx file of unsigned bytes, its header packed by hand."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                    *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def idx() -> Callable[[np.ndarray], bytes]:
    """Builds idx files independently of gradekit's own writer."""
    return idx_file


@pytest.fixture
def make_mnist() -> Callable[..., Path]:
    """Writes a small copy of MNIST (the four gzipped idx files, random pixels and labels)
    into a folder and returns the folder."""

    def write(folder: Path, train: int = 30, test: int = 20, seed: int = 0) -> Path:
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True)
        for name in MNIST.contents:
            count = test if name.startswith("t10k") else train
            shape = (count, 28, 28) if name in (MNIST_TRAIN_IMAGES, MNIST_TEST_IMAGES) \
                else (count,)
            high = 256 if len(shape) == 3 else 10
            content = idx_file(rng.integers(0, high, shape, dtype=np.uint8))
            (folder / name).write_bytes(gzip.compress(content, mtime=0))
        return folder

    return write
