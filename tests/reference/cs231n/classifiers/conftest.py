"""Whole-model gradient checks for the reference classifiers, guarded against kinks.

A central difference across a ReLU kink (input 0) or a max-pool tie (two window entries
equal) measures a one-sided slope, and the check fails for a correct model. The
``kink_margin`` fixture records, during a forward pass, how far the nearest ReLU input is
from 0 and the smallest gap between a pooling window's largest two entries; a test asserts
that margin is far larger than what a step of ``h`` in one parameter can move those values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import reference.cs231n.layer_utils as layer_utils
from gradekit.gradient_check import eval_numerical_gradient


class KinkMargin:
    """Smallest distance to a kink seen by the ReLU and max-pool layers since :meth:`clear`."""

    def __init__(self) -> None:
        self.value = np.inf

    def clear(self) -> None:
        self.value = np.inf

    def see(self, distance: float) -> None:
        self.value = min(self.value, float(distance))

    def assert_wider_than(self, distance: float) -> None:
        assert self.value != np.inf, (
            "no ReLU or max-pool input was recorded: the model no longer calls relu_forward / "
            "max_pool_forward_fast through reference.cs231n.layer_utils; update kink_margin")
        assert self.value > distance, (
            f"an input lies {self.value:.1e} from a ReLU kink or max-pool tie, within "
            f"{distance:.1e}: choose another seed")


@pytest.fixture
def kink_margin(monkeypatch: pytest.MonkeyPatch) -> KinkMargin:
    margin = KinkMargin()
    relu_forward = layer_utils.relu_forward
    max_pool_forward = layer_utils.max_pool_forward_fast

    def recording_relu(x):
        margin.see(np.abs(x).min())
        return relu_forward(x)

    def recording_pool(x, pool_param):
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        N, C, H, W = x.shape
        for i in range(0, H - ph + 1, s):
            for j in range(0, W - pw + 1, s):
                window = np.sort(x[:, :, i : i + ph, j : j + pw].reshape(N, C, -1), axis=-1)
                # Windows of ReLU outputs that are all 0 tie harmlessly: their inputs stay
                # negative (the ReLU margin), so the pooled value stays 0.
                live = window[..., -1] > 0
                if live.any():
                    margin.see((window[..., -1] - window[..., -2])[live].min())
        return max_pool_forward(x, pool_param)

    monkeypatch.setattr(layer_utils, "relu_forward", recording_relu)
    monkeypatch.setattr(layer_utils, "max_pool_forward_fast", recording_pool)
    return margin


Gradients = dict[str, np.ndarray]


def analytic_and_numerical_gradients(
    model, X: np.ndarray, y: np.ndarray, h: float
) -> tuple[Gradients, Gradients]:
    """``model.loss``'s gradients and central differences of its loss, for every parameter."""
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params), "loss() must return one gradient per parameter"

    def loss(_: np.ndarray) -> float:  # the parameter array itself is perturbed in place
        return model.loss(X, y)[0]

    numeric = {
        name: eval_numerical_gradient(loss, model.params[name], verbose=False, h=h)
        for name in model.params
    }
    return grads, numeric


@pytest.fixture
def gradients() -> Callable[..., tuple[Gradients, Gradients]]:
    return analytic_and_numerical_gradients
