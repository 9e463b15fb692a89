"""NumPy's names that code of earlier course years uses and NumPy has since removed.

``np.int``, ``np.float`` and friends were aliases of the builtins until NumPy 1.24; ``np.NaN``,
``np.Inf``, ``np.float_`` and ``np.product`` went in 2.0. A 2017 submission that calls
``np.zeros(n, dtype=np.int)`` was correct where it was written, so the sandbox (the worker and
every notebook kernel) puts these names back, meaning what they meant, before the student's
code runs. A name NumPy still has is never touched.
"""

from __future__ import annotations

import numpy as np

REMOVED = {
    "int": int, "float": float, "complex": complex, "bool": bool, "object": object,
    "str": str, "long": int, "unicode": str,
    "NaN": np.nan, "NAN": np.nan, "Inf": np.inf, "Infinity": np.inf, "PINF": np.inf,
    "NINF": -np.inf, "infty": np.inf,
    "float_": np.float64, "complex_": np.complex128, "string_": np.bytes_,
    "unicode_": np.str_, "product": np.prod, "cumproduct": np.cumprod,
    "alltrue": np.all, "sometrue": np.any,
}


def restore_removed_names() -> list[str]:
    """Put back each removed name NumPy lacks; return the names put back."""
    restored = [name for name in REMOVED if name not in np.__dict__]
    for name in restored:
        setattr(np, name, REMOVED[name])
    return restored
