"""Shared inputs for the hidden conv nets tests (the fully connected ones are the base's)."""

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.RandomState:
    """A fresh, seeded generator per test: failures reproduce exactly."""
    return np.random.RandomState(2023)
