"""Shared inputs of the hidden theta_nets tests.

Everything students write here lives in one module (``nets``, from the notebook); the
``isolated`` fixture stands the reference in for every other component of it when a net is
tested (the layers, the sandwiches, the loss), so a layer bug costs the layers' tests alone.
"""

from collections.abc import Callable

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.RandomState:
    """A fresh, seeded generator per test: failures reproduce exactly."""
    return np.random.RandomState(4004)


@pytest.fixture
def make_params(rng) -> Callable[[list[int]], dict[str, np.ndarray]]:
    """Weights and NON-ZERO biases ``theta{l}``, ``theta{l}_0`` for layer sizes ``dims``."""

    def make(dims: list[int], scale: float = 0.3) -> dict[str, np.ndarray]:
        params = {}
        for layer in range(1, len(dims)):
            params[f"theta{layer}"] = scale * rng.randn(dims[layer - 1], dims[layer])
            params[f"theta{layer}_0"] = 0.2 * rng.randn(dims[layer])
        return params

    return make
