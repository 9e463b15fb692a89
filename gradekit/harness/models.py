"""Helpers for tests that drive whole (possibly remote) models.

A student's model lives in the sandbox: its parameters come back as copies, so a numerical
gradient cannot perturb them in place as the notebooks' helpers do. These helpers write every
change back with an item assignment instead, which works for local and remote models alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradekit.sandbox.proxies import RemoteObject, central_losses


def load_params(model: Any, params: Mapping[str, np.ndarray]) -> None:
    """Overwrite ``model.params[name]`` for every entry of ``params``."""
    for name, value in params.items():
        model.params[name] = value


def load_state(model: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Put saved arrays into a (possibly remote) model by dotted path.

    ``"W1"`` or ``"params.W1"`` go to ``model.params["W1"]``; ``"bn_params.0.running_mean"``
    to ``model.bn_params[0]["running_mean"]``: what a params file needs to restore a net with
    batch normalization. Digits index lists, other parts are attributes first, then keys.
    """
    for key, value in arrays.items():
        *path, last = key.split(".") if "." in key else ["params", key]
        target = model
        for part in path:
            target = _step(target, part)
        target[int(last) if last.isdigit() else last] = value


def _step(target: Any, part: str) -> Any:
    if part.isdigit():
        return target[int(part)]
    try:
        return getattr(target, part)
    except AttributeError:
        return target[part]


def model_gradient(model: Any, X: np.ndarray, y: np.ndarray, name: str,
                   h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``model.loss(X, y)[0]`` w.r.t. ``model.params[name]``.

    The parameter is put back as it was (same dtype, same object for a local model), even
    when a loss evaluation fails.
    """
    original = model.params[name]
    base = np.array(original, dtype=np.float64)
    if isinstance(model, RemoteObject):  # the worker evaluates the points, we difference
        losses = central_losses(model, name, h, base.size, [X, y])
        return ((losses[:, 0] - losses[:, 1]) / (2 * h)).reshape(base.shape)
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
