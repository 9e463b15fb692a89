"""Fast convolution and max-pooling layers, as given to students.

Same signatures, dict conventions and caches-in/gradients-out contract as the naive layers
(``conv_param = {'stride', 'pad'}``, ``pool_param = {'pool_height', 'pool_width', 'stride'}``).
A convolution is an im2col gather, a matrix product on NumPy's BLAS and, backwards, a col2im
scatter-add, done over cache-sized chunks of the batch so the column matrix never has to be
written out in full (nor kept in the cache: it is gathered again for the backward pass). The
gathers, scatters and pooling run in a compiled extension (``BACKEND == "cython"``), or in
NumPy, with a single warning at import, when it is not built (``BACKEND == "numpy"``).

Unlike the classic CS231n fast layers, these work for any stride and padding, non-square
kernels and pools that do not tile the input (no assertion, no silent slow path); they keep
float32 as float32; and pooling routes a tied window's whole gradient to the FIRST maximum in
row-major order, exactly like the naive layer, instead of sharing it among all the maxima.
"""

from __future__ import annotations

import operator
import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

# OpenMP threads that spin after a parallel loop steal the cores BLAS needs for the matrix
# product that follows (badly so on a shared machine); libgomp reads this when it loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from gradekit.fast_layers import _kernels as _backend

    BACKEND = "cython"
except ImportError as error:
    from gradekit.fast_layers import _numpy_kernels as _backend

    BACKEND = "numpy"
    warnings.warn(
        f"gradekit's compiled conv/pool kernels are unavailable ({error}); using the slower "
        "NumPy fallback. Reinstall gradekit with a C compiler present (`pip install -e .`) "
        "to build them.",
        RuntimeWarning,
        stacklevel=2,
    )

_Cache = tuple[Any, ...]

# Columns of this many bytes per matrix product: big enough to keep BLAS efficient, small
# enough to stay in cache between the gather, the product and the scatter.
_COLUMN_BYTES = 4 << 20


def _compute_dtype(*arrays: Any) -> type[np.floating]:
    """float32 when every input is float32 (or narrower), float64 otherwise."""
    common = np.result_type(*(np.asarray(a) for a in arrays), np.float32)
    return np.float32 if common == np.float32 else np.float64


def _setting(params: Mapping[str, Any], key: str, smallest: int, which: str) -> int:
    if key not in params:
        raise KeyError(f"{which} needs the key {key!r}; got keys {sorted(params)}")
    value = operator.index(params[key])
    if value < smallest:
        raise ValueError(f"{which}[{key!r}] must be at least {smallest}, got {value}")
    return value


def _out_size(size: int, window: int, stride: int, pad: int, what: str) -> int:
    out = (size + 2 * pad - window) // stride + 1
    if out < 1:
        raise ValueError(
            f"{what} of size {window} does not fit an input of size {size} padded by {pad}: "
            f"use a smaller {what}" + (" or more padding" if what == "filter" else "")
        )
    return out


def _image_chunks(x: np.ndarray, w: np.ndarray, OH: int, OW: int) -> list[slice]:
    """Split the batch so one chunk's columns take about ``_COLUMN_BYTES``."""
    per_image = w[0].size * OH * OW * x.itemsize
    step = max(1, _COLUMN_BYTES // max(1, per_image))
    return [slice(start, start + step) for start in range(0, x.shape[0], step)]


def conv_forward_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: Mapping[str, Any]
) -> tuple[np.ndarray, _Cache]:
    """Convolve x (N, C, H, W) with filters w (F, C, HH, WW) plus bias b (F,).

    Returns ``(out, cache)`` with out of shape (N, F, 1 + (H + 2*pad - HH) // stride,
    1 + (W + 2*pad - WW) // stride); a border the stride does not reach is ignored. The cache
    is ``(x, w, b, conv_param)``, like the naive layer's.
    """
    stride = _setting(conv_param, "stride", 1, "conv_param")
    pad = _setting(conv_param, "pad", 0, "conv_param")
    dtype = _compute_dtype(x, w, b)
    x = np.ascontiguousarray(x, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    N, C, H, W = x.shape
    F, C_w, HH, WW = w.shape
    if C_w != C or b.shape != (F,):
        raise ValueError(
            f"shapes do not match: x {x.shape} needs w (F, {C}, HH, WW) and b (F,); "
            f"got w {w.shape} and b {b.shape}"
        )
    OH = _out_size(H, HH, stride, pad, "filter")
    OW = _out_size(W, WW, stride, pad, "filter")
    w_rows = w.reshape(F, -1)
    out = np.empty((N, F, OH, OW), dtype=dtype)
    for chunk in _image_chunks(x, w, OH, OW):
        by_filter = w_rows @ _backend.im2col(x[chunk], HH, WW, stride, pad)
        images = by_filter.reshape(F, -1, OH, OW).transpose(1, 0, 2, 3)
        np.add(images, b.reshape(F, 1, 1), out=out[chunk])
    return out, (x, w, b, conv_param)


def conv_backward_fast(
    dout: np.ndarray, cache: _Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dw, db)`` for the convolution that produced ``cache``.

    The columns are gathered again chunk by chunk rather than kept from the forward pass:
    a gather from cache-hot input costs less than storing and re-reading the whole column
    matrix, and the cache stays as small as the naive layer's.
    """
    x, w, _, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    OH, OW = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    if np.shape(dout) != (N, F, OH, OW):
        raise ValueError(f"dout has shape {np.shape(dout)}, but the forward pass produced "
                         f"{(N, F, OH, OW)}")
    dout = np.asarray(dout, dtype=x.dtype)
    w_rows = w.reshape(F, -1)
    dw_rows = np.zeros_like(w_rows)
    dx = np.zeros_like(x)
    for chunk in _image_chunks(x, w, OH, OW):
        d_chunk = dout[chunk].transpose(1, 0, 2, 3).reshape(F, -1)
        dw_rows += d_chunk @ _backend.im2col(x[chunk], HH, WW, stride, pad).T
        _backend.col2im_add(w_rows.T @ d_chunk, dx[chunk], HH, WW, stride, pad)
    return dx, dw_rows.reshape(w.shape), dout.sum(axis=(0, 2, 3))


def max_pool_forward_fast(
    x: np.ndarray, pool_param: Mapping[str, Any]
) -> tuple[np.ndarray, _Cache]:
    """Max-pool x (N, C, H, W) over pool_height x pool_width windows every ``stride`` pixels.

    Output is (N, C, 1 + (H - pool_height) // stride, 1 + (W - pool_width) // stride); pools
    may overlap or leave a border. The cache records each window's argmax: the first maximum
    in row-major order when several values tie.
    """
    ph = _setting(pool_param, "pool_height", 1, "pool_param")
    pw = _setting(pool_param, "pool_width", 1, "pool_param")
    stride = _setting(pool_param, "stride", 1, "pool_param")
    x = np.ascontiguousarray(x, dtype=_compute_dtype(x))
    _, _, H, W = x.shape
    _out_size(H, ph, stride, 0, "pool")
    _out_size(W, pw, stride, 0, "pool")
    out, argmax = _backend.max_pool_forward(x, ph, pw, stride)
    return out, (x, pool_param, argmax)


def max_pool_backward_fast(dout: np.ndarray, cache: _Cache) -> np.ndarray:
    """Return dx: each window's gradient goes to its (first) maximum; overlaps accumulate."""
    x, _, argmax = cache
    if np.shape(dout) != argmax.shape:
        raise ValueError(f"dout has shape {np.shape(dout)}, but the forward pass produced "
                         f"{argmax.shape}")
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    return _backend.max_pool_backward(dout, argmax, x.shape[2], x.shape[3])
