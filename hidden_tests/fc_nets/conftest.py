"""Shared inputs for the hidden fc_nets tests."""

from collections.abc import Callable

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.RandomState:
    """A fresh, seeded generator per test: failures reproduce exactly."""
    return np.random.RandomState(1234)


@pytest.fixture
def make_params(rng) -> Callable[..., dict[str, np.ndarray]]:
    """Weights, NON-ZERO biases and non-trivial gamma/beta for layer sizes ``dims``."""

    def make(dims: list[int], normalization: str | None = None, scale: float = 0.3):
        params = {}
        for i in range(len(dims) - 1):
            params[f"W{i + 1}"] = scale * rng.randn(dims[i], dims[i + 1])
            params[f"b{i + 1}"] = 0.2 * rng.randn(dims[i + 1])
            if normalization and i < len(dims) - 2:
                params[f"gamma{i + 1}"] = 1 + 0.1 * rng.randn(dims[i + 1])
                params[f"beta{i + 1}"] = 0.1 * rng.randn(dims[i + 1])
        return params

    return make
