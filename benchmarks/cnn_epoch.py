"""Time one training epoch of the CS231n ThreeLayerConvNet on CIFAR-10: the reference model
on gradekit's fast layers, against the same network in PyTorch, float32 and float64, on two
threads each.

    GRADEKIT_DATA=/work/shared/data python benchmarks/cnn_epoch.py \
        [--epochs-repeat 3] [--images N] [--batch-size 50]

The model is ``reference.cs231n.classifiers.cnn.ThreeLayerConvNet`` with its defaults (conv
32 7x7 filters, stride 1, pad 3 - relu - 2x2 max pool - affine 100 - relu - affine 10 -
softmax, weight scale 1e-3, no regularisation); its conv sandwich runs on
:mod:`gradekit.fast_layers`. The peer is that network written with ``torch.nn.functional``
(``conv2d``, ``relu``, ``max_pool2d``, ``linear``, ``cross_entropy``), starting from the very
same weights in the same dtype.

An epoch is ``images // batch_size`` iterations, as in gradekit's ``Solver``, of forward,
backward and a plain SGD step (learning rate 1e-3): ``model.loss`` and the ``sgd`` rule the
Solver would use on one side, autograd and ``p -= lr * p.grad`` on the other. Both sides see
the same minibatches, drawn once with replacement like the Solver's. Only these iterations
are timed, not the Solver's accuracy checks nor the data loading. The epochs of the two
sides take turns, ``--epochs-repeat`` rounds; each prints as the best epoch in seconds, and
``gradekit/torch`` is the ratio of the two best epochs. One iteration from the same weights
on the same batch, run first on both sides (it also warms them up), is the sanity line: the
two losses and the largest relative difference of the gradients. The losses alone say
little, since the small initial weights put every loss near log(10) = 2.3026.

Work that differs: gradekit's conv backward also computes the gradient of the images, which
the model throws away, and the model casts each batch to its dtype and adds a (zero) L2
penalty; PyTorch skips the first and needs neither of the others. Both are part of what a
gradekit user's epoch costs, so they are timed. On a machine shared with other jobs the
2-thread times vary a lot from run to run; compare figures from one run only.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from conv import THREADS, machine_line  # benchmarks/conv.py, beside this script
from threadpoolctl import threadpool_limits

from gradekit.data.cifar10 import get_CIFAR10_data
from gradekit.data.locate import DataNotFoundError, locate
from gradekit.data.registry import CIFAR10
from gradekit.solver import resolve_update_rule

# Imported after gradekit, as in benchmarks/conv.py: PyTorch's bundled libgomp has the same
# soname as the system one, so both share one OpenMP runtime and its wait policy.
try:
    import torch
    import torch.nn.functional as torch_f
except ImportError:
    torch = None

SEED = 0
LEARNING_RATE = 1e-3
DTYPES = (np.float64, np.float32)


def convnet_class() -> Any:
    """The reference ThreeLayerConvNet, importable when run from a course checkout."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return importlib.import_module("reference.cs231n.classifiers.cnn").ThreeLayerConvNet


def load_images(images: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``images`` training images (all by default), preprocessed as the notebooks
    do; exits with the search path's message when CIFAR-10 cannot be found."""
    try:
        folder = locate(CIFAR10)
    except DataNotFoundError as exc:
        sys.exit(f"{exc}\nSet GRADEKIT_DATA to a folder holding CIFAR-10 to run this benchmark.")
    with warnings.catch_warnings():
        # asking for more images than the subset holds trains on all of them
        warnings.simplefilter("ignore", UserWarning)
        data = get_CIFAR10_data(num_training=images or 10**9, num_validation=0, num_test=0,
                                root=folder)
    print(f"CIFAR-10 from {folder}")
    return data["X_train"], data["y_train"].astype(np.int64)


class GradekitEpoch:
    """The reference model trained as gradekit's Solver trains it, without its checks."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.sgd = resolve_update_rule("sgd")
        self.configs = {name: {"learning_rate": LEARNING_RATE} for name in model.params}

    def step(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        loss, grads = self.model.loss(X, y)
        for name, w in self.model.params.items():
            self.model.params[name], self.configs[name] = self.sgd(w, grads[name],
                                                                   self.configs[name])
        return float(loss), grads

    def epoch(self, X: np.ndarray, y: np.ndarray, batches: list[np.ndarray]) -> None:
        for batch in batches:
            self.step(X[batch], y[batch])


class TorchEpoch:
    """The same network in PyTorch, from a copy of the gradekit model's weights.

    The affine weights are kept transposed, ``(out, in)``, as ``torch_f.linear`` wants them.
    """

    TRANSPOSED = ("W2", "W3")

    def __init__(self, params: dict[str, np.ndarray], pad: int) -> None:
        self.pad = pad
        self.params = {
            name: torch.tensor(w.T if name in self.TRANSPOSED else w).requires_grad_()
            for name, w in params.items()
        }

    def loss(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = self.params
        conv = torch_f.conv2d(X, p["W1"], p["b1"], padding=self.pad)
        pooled = torch_f.max_pool2d(torch_f.relu(conv), 2, 2)
        hidden = torch_f.relu(torch_f.linear(pooled.flatten(1), p["W2"], p["b2"]))
        return torch_f.cross_entropy(torch_f.linear(hidden, p["W3"], p["b3"]), y)

    def step(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        loss = self.loss(torch.from_numpy(X), torch.from_numpy(y))
        loss.backward()
        grads = {}
        with torch.no_grad():
            for name, p in self.params.items():
                grads[name] = p.grad
                p -= LEARNING_RATE * p.grad
                p.grad = None
        return loss.item(), grads

    def epoch(self, X: np.ndarray, y: np.ndarray, batches: list[np.ndarray]) -> None:
        for batch in batches:
            self.step(X[batch], y[batch])

    def gradient(self, name: str, grad: torch.Tensor) -> np.ndarray:
        """``grad`` of parameter ``name`` in the gradekit model's layout."""
        array = grad.numpy()
        return array.T if name in self.TRANSPOSED else array


def sanity_line(name: str, ours: GradekitEpoch, peer: TorchEpoch | None,
                X: np.ndarray, y: np.ndarray) -> str:
    """One iteration on both sides from the same weights: losses and gradient agreement."""
    loss, grads = ours.step(X, y)
    if peer is None:
        return f"sanity {name}: gradekit loss {loss:.10f} (no torch to compare with)"
    peer_loss, peer_grads = peer.step(X, y)
    worst = max(
        float(np.max(np.abs(grads[k] - peer.gradient(k, g))) / np.max(np.abs(grads[k])))
        for k, g in peer_grads.items()
    )
    return (f"sanity {name}: loss gradekit {loss:.10f} torch {peer_loss:.10f} "
            f"(rel diff {abs(loss - peer_loss) / abs(peer_loss):.1e}); "
            f"gradients max rel diff {worst:.1e}")


def best_epochs(repeat: int, epochs: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Best wall-clock seconds of each epoch over ``repeat`` rounds in which the sides take
    turns, so that a burst of load from other jobs hits both alike. No warm-up epoch: the
    sanity iteration has already run each side once."""
    best = dict.fromkeys(epochs, float("inf"))
    for _ in range(repeat):
        for name, epoch in epochs.items():
            start = time.perf_counter()
            epoch()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def bench_dtype(dtype: type, X_all: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
                args: argparse.Namespace) -> tuple[str, str]:
    """The sanity line and the table row of one dtype."""
    name = np.dtype(dtype).name
    X = X_all.astype(dtype)
    np.random.seed(SEED)  # the model draws its weights from NumPy's global generator
    model = convnet_class()(dtype=dtype)
    ours = GradekitEpoch(model)
    peer = TorchEpoch(model.params, model.conv_param["pad"]) if torch is not None else None
    sanity = sanity_line(name, ours, peer, X[batches[0]], y[batches[0]])
    epochs = {"gradekit": lambda: ours.epoch(X, y, batches)}
    if peer is not None:
        epochs["torch"] = lambda: peer.epoch(X, y, batches)
    best = best_epochs(args.epochs_repeat, epochs)
    if peer is None:
        return sanity, f"{name:<10}{best['gradekit']:12.2f}{'-':>12}{'-':>16}"
    return sanity, (f"{name:<10}{best['gradekit']:12.2f}{best['torch']:12.2f}"
                    f"{best['gradekit'] / best['torch']:16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-repeat", type=int, default=3,
                        help="epochs timed per side and dtype; the best counts (default 3)")
    parser.add_argument("--images", type=int, default=None,
                        help="training images per epoch (default: all of the data set)")
    parser.add_argument("--batch-size", type=int, default=50, help="minibatch size (default 50)")
    args = parser.parse_args()
    X, y = load_images(args.images)
    iterations = max(len(X) // args.batch_size, 1)
    rng = np.random.default_rng(SEED)
    batches = [rng.choice(len(X), args.batch_size) for _ in range(iterations)]

    if torch is not None:
        torch.set_num_threads(THREADS)
    print(machine_line(torch))
    print(f"{len(X)} images, batch {args.batch_size}: {iterations} iterations per epoch; "
          f"best of {args.epochs_repeat} epochs per side")
    rows = []
    with threadpool_limits(limits=THREADS):
        for dtype in DTYPES:
            sanity, row = bench_dtype(dtype, X, y, batches, args)
            print(sanity, flush=True)
            rows.append(row)
    print(f"{'dtype':<10}{'gradekit s':>12}{'torch s':>12}{'gradekit/torch':>16}")
    print("\n".join(rows))
    if torch is None:
        print("PyTorch is not installed, so there is nothing to compare with; "
              "`pip install torch` to time the peer.")


if __name__ == "__main__":
    main()
