"""The L2 weight penalty every classifier of this package adds to its data loss.

The CS231n notebooks' expected losses (e.g. TwoLayerNet's 26.5948426952 at reg = 1) are
reproduced only by ``0.5 * reg * sum(W**2)`` over the weight matrices, never biases or
normalisation parameters; keeping the convention in one place keeps the models in agreement.
"""

from collections.abc import Iterable

import numpy as np


def l2_penalty(
    params: dict[str, np.ndarray], weight_names: Iterable[str], reg: float
) -> tuple[float, dict[str, np.ndarray]]:
    """Return ``0.5 * reg * sum(W**2)`` over ``weight_names`` and its gradient per weight."""
    ### BEGIN SOLUTION
    names = list(weight_names)
    penalty = 0.5 * reg * sum(float(np.sum(params[name] ** 2)) for name in names)
    return penalty, {name: reg * params[name] for name in names}
    ### END SOLUTION
