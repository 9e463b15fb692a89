"""Helpers for tests that drive whole (possibly remote) models.

A student's model lives in the sandbox: its parameters come back as copies, so a numerical
gradient cannot perturb them in place as the notebooks' helpers do. These helpers write every
change back with an item assignment instead, which works for local and remote models alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def load_params(model: Any, params: Mapping[str, np.ndarray]) -> None:
    """Overwrite ``model.params[name]`` for every entry of ``params``."""
    for name, value in params.items():
        model.params[name] = value


def model_gradient(model: Any, X: np.ndarray, y: np.ndarray, name: str,
                   h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``model.loss(X, y)[0]`` w.r.t. ``model.params[name]``.

    The parameter is put back as it was (same dtype, same object for a local model), even
    when a loss evaluation fails.
    """
    original = model.params[name]
    base = np.array(original, dtype=np.float64)
    grad = np.zeros_like(base)
    try:
        for index in np.ndindex(base.shape):
            losses = []
            for step in (h, -h):
                trial = base.copy()
                trial[index] += step
                model.params[name] = trial
                losses.append(model.loss(X, y)[0])
            grad[index] = (losses[0] - losses[1]) / (2 * h)
    finally:
        model.params[name] = original
    return grad
