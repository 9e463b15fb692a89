"""scikit-learn's bundled 8x8 digits as an offline stand-in for CIFAR-10.

It ships inside scikit-learn, so demos and tests that only need *some* real images run
without a download. The dict has the same keys as :func:`gradekit.data.cifar10.get_CIFAR10_data`.
"""

from __future__ import annotations

import numpy as np

#: pixel values in ``load_digits`` are counts from 0 to 16
MAX_PIXEL = 16.0


def get_digits_data(
    num_validation: int = 250, num_test: int = 250, subtract_mean: bool = True, seed: int = 0
) -> dict[str, np.ndarray]:
    """The 1797 digits shuffled with ``seed`` and split into train / val / test.

    Features are ``(N, 64)`` float64 scaled to [0, 1]; with ``subtract_mean`` the mean
    training image is subtracted from all splits, as for CIFAR-10. Labels are int64 in 0..9.
    """
    from sklearn.datasets import load_digits  # 1-2 s to import: only when asked for

    digits = load_digits()
    X = digits.data.astype(np.float64) / MAX_PIXEL
    y = digits.target.astype(np.int64)
    if num_validation + num_test >= len(X):
        raise ValueError(
            f"num_validation + num_test = {num_validation + num_test} leaves no training "
            f"images out of {len(X)}; ask for smaller splits"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    num_training = len(X) - num_validation - num_test
    splits = {
        "train": slice(0, num_training),
        "val": slice(num_training, num_training + num_validation),
        "test": slice(num_training + num_validation, None),
    }
    data = {}
    for split, rows in splits.items():
        data[f"X_{split}"] = X[rows]
        data[f"y_{split}"] = y[rows]
    if subtract_mean:
        mean_image = data["X_train"].mean(axis=0)
        for split in splits:
            data[f"X_{split}"] = data[f"X_{split}"] - mean_image
    return data
