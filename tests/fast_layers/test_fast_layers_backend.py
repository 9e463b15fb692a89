"""Which kernels the fast layers run on: the compiled extension, or the fallback with a warning."""

import importlib.machinery
import subprocess
import sys

import gradekit.fast_layers as fast
from gradekit.fast_layers import _kernels


def test_the_compiled_extension_is_in_use():
    """``make test`` installs the package, which builds the extension: it must be what runs."""
    assert fast.BACKEND == "cython"
    assert fast._backend is _kernels
    assert _kernels.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


FALLBACK_SCRIPT = """
import sys, warnings
sys.modules["gradekit.fast_layers._kernels"] = None  # as if the extension was never built
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import gradekit.fast_layers as fast
    import gradekit.fast_layers  # importing again must not warn again
    import numpy as np
    out, _ = fast.max_pool_forward_fast(np.arange(16.0).reshape(1, 1, 4, 4),
                                        {"pool_height": 2, "pool_width": 2, "stride": 2})
print(fast.BACKEND, fast._backend.__name__, out.ravel().tolist())
for w in caught:
    print(w.category.__name__, w.message)
"""


def test_missing_extension_falls_back_to_numpy_with_one_warning():
    result = subprocess.run([sys.executable, "-c", FALLBACK_SCRIPT],
                            capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == "numpy gradekit.fast_layers._numpy_kernels [5.0, 7.0, 13.0, 15.0]"
    assert len(lines) == 2, lines
    assert lines[1].startswith("RuntimeWarning")
    assert "pip install" in lines[1]
