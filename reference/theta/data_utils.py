"""Data loading, given with the assignment: CIFAR-10 as the CS231n notebooks split it (the
code lives in gradekit), and MNIST as the Keras cells want it, read from local files (the
seed's ``keras.datasets.mnist.load_data()`` downloads, and the graders run offline)."""

import numpy as np

from gradekit.data.cifar10 import get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch  # noqa: F401
from gradekit.data.mnist import get_mnist


def get_MNIST_data() -> dict[str, np.ndarray]:  # noqa: N802 - named like get_CIFAR10_data
    """MNIST for Keras: images flattened to (m, 784) float32 in [0, 1], labels (m,) ints."""
    X_train, y_train, X_test, y_test = get_mnist()
    return {"X_train": ((X_train.reshape(len(X_train), -1) + 1) / 2).astype(np.float32),
            "y_train": y_train,
            "X_test": ((X_test.reshape(len(X_test), -1) + 1) / 2).astype(np.float32),
            "y_test": y_test}
