"""Returns an object array (which could hold anything)."""

import numpy as np


def run():
    return np.array([1.0, None], dtype=object)
