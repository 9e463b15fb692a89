"""Fully connected classifiers built from the layers and sandwiches of this package.

Weights are drawn layer by layer from NumPy's global generator, ``W_i`` before ``b_i``
(biases consume no random numbers), because the notebooks seed that generator and compare
against losses that only this order reproduces (2.3004790897684924 at seed 231).
"""

from itertools import pairwise
from typing import Any

import numpy as np

from ..layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)
from ..layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    softmax_loss,
)
from .regularization import l2_penalty

NORMALIZATIONS = (None, "batchnorm", "layernorm")


class FullyConnectedNet:
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax.

    ``dropout_keep_ratio`` is the probability of KEEPING a unit (1 disables dropout; the
    keywords are gradekit's canonical ones, and a course that names them otherwise, such as
    2017's ``use_batchnorm`` and ``dropout``, says so in its README);
    ``seed`` makes dropout deterministic, for gradient checks. ``reg`` is read at call time,
    so ``model.reg = ...`` after construction takes effect.
    """

    def __init__(
        self,
        hidden_dims: list[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout_keep_ratio: float = 1,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype: type = np.float32,
        seed: int | None = None,
    ) -> None:
        ### BEGIN SOLUTION
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, "
                             f"not {normalization!r}")
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype

        self.params: dict[str, np.ndarray] = {}
        dims = [input_dim, *hidden_dims, num_classes]
        for i, (fan_in, fan_out) in enumerate(pairwise(dims), start=1):
            self.params[f"W{i}"] = weight_scale * np.random.randn(fan_in, fan_out)
            self.params[f"b{i}"] = np.zeros(fan_out)
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        # One dict per hidden layer: batchnorm keeps its running statistics here, layernorm
        # only reads options such as eps from it.
        self.bn_params: list[dict[str, Any]] = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        elif normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]
        ### END SOLUTION

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Class scores (N, C) if ``y`` is None (test mode), else ``(loss, grads)``."""
        ### BEGIN SOLUTION
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        out, caches = X, []
        for i in range(1, self.num_layers):
            out, cache = self._hidden_forward(i, out)
            caches.append(cache)
        L = self.num_layers
        scores, scores_cache = affine_forward(out, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads: dict[str, np.ndarray] = {}
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, scores_cache)
        for i in range(L - 1, 0, -1):
            dout = self._hidden_backward(i, dout, caches[i - 1], grads)

        penalty, dpenalty = l2_penalty(self.params, (f"W{i}" for i in range(1, L + 1)), self.reg)
        for name, dw in dpenalty.items():
            grads[name] = grads[name] + dw
        return loss + penalty, grads
        ### END SOLUTION

    ### BEGIN SOLUTION
    def _hidden_forward(self, i: int, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Hidden layer ``i``: affine - [norm] - relu - [dropout]."""
        W, b = self.params[f"W{i}"], self.params[f"b{i}"]
        if self.normalization is None:
            out, cache = affine_relu_forward(x, W, b)
        else:
            out, cache = affine_norm_relu_forward(
                x, W, b, self.params[f"gamma{i}"], self.params[f"beta{i}"],
                self.bn_params[i - 1], self.normalization)
        dropout_cache = None
        if self.use_dropout:
            out, dropout_cache = dropout_forward(out, self.dropout_param)
        return out, (cache, dropout_cache)
    ### END SOLUTION

    ### BEGIN SOLUTION
    def _hidden_backward(
        self, i: int, dout: np.ndarray, cache: tuple, grads: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Backward through hidden layer ``i``; stores its parameter gradients in ``grads``."""
        layer_cache, dropout_cache = cache
        if self.use_dropout:
            dout = dropout_backward(dout, dropout_cache)
        if self.normalization is None:
            dx, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dout, layer_cache)
        else:
            dx, grads[f"W{i}"], grads[f"b{i}"], grads[f"gamma{i}"], grads[f"beta{i}"] = (
                affine_norm_relu_backward(dout, layer_cache))
        return dx
    ### END SOLUTION


class TwoLayerNet:
    """affine - relu - affine - softmax, in float64, with the first notebook's constructor.

    W1 is drawn before W2 (biases draw nothing), as FullyConnectedNet draws its weights, so
    the notebook's seeded checks hold for both. ``reg`` is read at call time.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
    ) -> None:
        ### BEGIN SOLUTION
        self.reg = reg
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }
        ### END SOLUTION

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Class scores (N, C) if ``y`` is None, else ``(loss, grads)``."""
        ### BEGIN SOLUTION
        p = self.params
        hidden, hidden_cache = affine_relu_forward(X, p["W1"], p["b1"])
        scores, scores_cache = affine_forward(hidden, p["W2"], p["b2"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads: dict[str, np.ndarray] = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        penalty, dpenalty = l2_penalty(self.params, ("W1", "W2"), self.reg)
        for name, dw in dpenalty.items():
            grads[name] = grads[name] + dw
        return loss + penalty, grads
        ### END SOLUTION
