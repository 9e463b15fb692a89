"""The dataset fixture's mnist entry: the held-out t10k images, as cifar10 gives its own."""

import numpy as np
import pytest

from gradekit.data.locate import locate
from gradekit.data.registry import MNIST
from gradekit.harness.builtins import gradekit_datasets


def test_mnist_held_out_through_the_dataset_loaders():
    try:
        locate(MNIST)
    except Exception as exc:
        pytest.skip(f"MNIST missing: {exc}")
    data = gradekit_datasets()["mnist"](held_out=True)
    assert data["X_held_out"].shape == (5000, 28, 28)
    assert data["y_held_out"].shape == (5000,)
    assert data["X_held_out"].min() == -1.0 and data["X_held_out"].max() == 1.0
    assert set(np.unique(data["y_held_out"])) == set(range(10))
    assert "5000" in data["held_out"]
