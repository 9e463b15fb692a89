"""CIFAR-10 loaders with the notebooks' preprocessing (the students' ``data_utils``).

These are the functions the assignments give to students, with the same names (hence the
``noqa: N802``), return values and dtypes: images come back as float64, labels as int64.
Unlike the classic loader, batches of any size load (the CI subset holds 1017 images per
batch), and the folder is found through :func:`gradekit.data.locate.locate` instead of a
path relative to the notebook.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np

from gradekit.data.locate import locate
from gradekit.data.registry import CIFAR10, CIFAR10_TEST_BATCH, CIFAR10_TRAIN_BATCHES


def load_CIFAR_batch(filename: str | Path) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
    """One pickled batch as images ``(N, 32, 32, 3)`` float64 and labels ``(N,)``."""
    with open(filename, "rb") as f:
        batch = pickle.load(f, encoding="latin1")
    X = batch["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float")
    y = np.array(batch["labels"])
    return X, y


def load_CIFAR10(  # noqa: N802
    ROOT: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The five training batches concatenated, and the test batch: ``Xtr, Ytr, Xte, Yte``."""
    root = Path(ROOT)
    parts = [load_CIFAR_batch(root / name) for name in CIFAR10_TRAIN_BATCHES]
    Xtr = np.concatenate([X for X, _ in parts])
    Ytr = np.concatenate([y for _, y in parts])
    Xte, Yte = load_CIFAR_batch(root / CIFAR10_TEST_BATCH)
    return Xtr, Ytr, Xte, Yte


def get_CIFAR10_data(  # noqa: N802
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    subtract_mean: bool = True,
    root: str | Path | None = None,
) -> dict[str, np.ndarray]:
    """The notebooks' split and preprocessing, channels first.

    Training images ``[0, num_training)`` train, the next ``num_validation`` validate, the
    first ``num_test`` of ``test_batch`` test; the mean training image is subtracted from all
    three. ``root`` defaults to the folder found on the data search path.

    When the training batches hold fewer than ``num_training + num_validation`` images (the
    CI subset has 5085), the validation size is kept, training gets the rest, and a warning
    says so; likewise the test split shrinks to what ``test_batch`` holds.
    """
    Xtr, Ytr, Xte, Yte = load_CIFAR10(root if root is not None else locate(CIFAR10))
    num_training, num_test = _fit_split(len(Xtr), len(Xte), num_training, num_validation,
                                        num_test)
    X_train, y_train = Xtr[:num_training], Ytr[:num_training]
    val = slice(num_training, num_training + num_validation)
    X_val, y_val = Xtr[val], Ytr[val]
    X_test, y_test = Xte[:num_test], Yte[:num_test]

    if subtract_mean:
        mean_image = X_train.mean(axis=0)
        X_train = X_train - mean_image
        X_val = X_val - mean_image
        X_test = X_test - mean_image

    return {
        "X_train": X_train.transpose(0, 3, 1, 2).copy(),
        "y_train": y_train,
        "X_val": X_val.transpose(0, 3, 1, 2).copy(),
        "y_val": y_val,
        "X_test": X_test.transpose(0, 3, 1, 2).copy(),
        "y_test": y_test,
    }


def _fit_split(
    available_train: int, available_test: int, num_training: int, num_validation: int,
    num_test: int,
) -> tuple[int, int]:
    """Shrink the training and test sizes to what exists, keeping the validation size."""
    if num_validation >= available_train:
        raise ValueError(
            f"num_validation={num_validation} leaves no training images: the training "
            f"batches hold only {available_train}; ask for fewer validation images"
        )
    if num_training + num_validation > available_train:
        fitted = available_train - num_validation
        warnings.warn(
            f"CIFAR-10 training batches hold {available_train} images, fewer than "
            f"num_training + num_validation = {num_training + num_validation}: "
            f"training on {fitted}, validating on {num_validation}",
            stacklevel=3,
        )
        num_training = fitted
    if num_test > available_test:
        warnings.warn(
            f"CIFAR-10 test_batch holds {available_test} images, fewer than "
            f"num_test={num_test}: testing on all {available_test}",
            stacklevel=3,
        )
        num_test = available_test
    return num_training, num_test
