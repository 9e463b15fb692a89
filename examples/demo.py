"""Train the reference FullyConnectedNet with gradekit's Solver and print its test accuracy.

Uses CIFAR-10 when it is on the data search path (``$GRADEKIT_DATA``, then the cache dir):
the five training batches train and validate, ``test_batch`` tests. Otherwise it says where
it looked and trains on scikit-learn's bundled digits, so it also works offline.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from gradekit.components import components
from gradekit.data.cifar10 import get_CIFAR10_data
from gradekit.data.digits import get_digits_data
from gradekit.data.locate import DataNotFoundError, locate
from gradekit.data.registry import CIFAR10
from gradekit.solver import Solver

SEED = 0
#: CIFAR-10 holdout; small so that the 5085-image CI subset keeps most images for training
NUM_VALIDATION = 500


def load_data() -> tuple[str, dict[str, np.ndarray]]:
    """CIFAR-10 if it can be found, else the digits; with a line saying which."""
    try:
        folder = locate(CIFAR10)
    except DataNotFoundError as exc:
        print(exc)
        print("Training on scikit-learn's digits instead.")
        return "digits", get_digits_data()
    with warnings.catch_warnings():
        # the CI subset is smaller than the notebooks' 49000 + 1000: train on what there is
        warnings.simplefilter("ignore", UserWarning)
        return f"CIFAR-10 ({folder})", get_CIFAR10_data(num_validation=NUM_VALIDATION)


def main() -> None:
    np.random.seed(SEED)
    name, data = load_data()
    print(f"{name}: {len(data['y_train'])} train, {len(data['y_val'])} val, "
          f"{len(data['y_test'])} test images")

    FullyConnectedNet = components("ref").FullyConnectedNet
    model = FullyConnectedNet(
        [512, 256], input_dim=int(np.prod(data["X_train"].shape[1:])),
        normalization="batchnorm", dropout_keep_ratio=0.6, weight_scale=1e-2,
    )
    solver = Solver(
        model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
        lr_decay=0.9, num_epochs=15, batch_size=100, print_every=200,
    )
    start = time.perf_counter()
    # One BLAS thread: these matrices are small, and on a busy 2-core machine extra threads
    # spin against other work (6x slower here) and make float32 sums run-to-run different.
    with threadpool_limits(limits=1, user_api="blas"):
        solver.train()
    seconds = time.perf_counter() - start

    test_acc = solver.check_accuracy(data["X_test"], data["y_test"])
    print(f"best validation accuracy: {solver.best_val_acc:.3f}")
    print(f"test accuracy: {test_acc:.3f}  (trained in {seconds:.1f} s)")


if __name__ == "__main__":
    main()
