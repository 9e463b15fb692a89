"""Pure-NumPy versions of the compiled kernels, used when the extension is not built.

Both backends follow one contract, so the layers in ``__init__`` work with either:

* ``im2col(x, HH, WW, stride, pad, out=None)`` -> ``cols`` of shape (C*HH*WW, N*OH*OW): row
  ``(c*HH + i)*WW + j``, column ``(n*OH + oh)*OW + ow`` holds the zero-padded input at
  ``(n, c, oh*stride + i - pad, ow*stride + j - pad)``. Images side by side along the columns
  make one matrix product per batch of images instead of one per image.
* ``col2im_add(cols, dx, HH, WW, stride, pad)``: the adjoint of ``im2col``, in place: every
  entry of ``cols`` is added onto the pixel of ``dx`` (N, C, H, W) it came from (padding
  dropped).
* ``max_pool_forward(x, ph, pw, stride, out=None)`` -> ``(out, argmax)``: ``argmax`` holds,
  for each window, the flat index ``h*W + w`` of its maximum in the (H, W) plane; tied maxima
  resolve to the first in row-major order, and a NaN is the maximum, as with
  ``np.max``/``np.argmax``.
* ``max_pool_backward(dout, argmax, H, W, out=None)`` -> (N, C, H, W): each window's gradient
  added onto its recorded maximum (overlapping windows accumulate).

Inputs are C-contiguous float32 or float64 arrays; outputs keep that dtype. An ``out`` given
(a C-contiguous array, or for pooling a pair of them, of the result's shape and dtype) is
overwritten with the result and returned, so that the layers can fill a slice of a batch.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def im2col(
    x: np.ndarray, HH: int, WW: int, stride: int, pad: int, out: np.ndarray | None = None
) -> np.ndarray:
    N, C, H, W = x.shape
    OH, OW = _out_size(H, HH, stride, pad), _out_size(W, WW, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride].transpose(1, 4, 5, 0, 2, 3)
    if out is None:
        return windows.reshape(C * HH * WW, N * OH * OW)
    np.copyto(out.reshape(windows.shape), windows)
    return out


def col2im_add(
    cols: np.ndarray, dx: np.ndarray, HH: int, WW: int, stride: int, pad: int
) -> None:
    N, C, H, W = dx.shape
    OH, OW = _out_size(H, HH, stride, pad), _out_size(W, WW, stride, pad)
    per_offset = cols.reshape(C, HH, WW, N, OH, OW).transpose(1, 2, 3, 0, 4, 5)
    padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    # One kernel offset (i, j) touches each padded pixel at most once, so += is exact here.
    for i in range(HH):
        for j in range(WW):
            padded[:, :, i : i + OH * stride : stride, j : j + OW * stride : stride] += (
                per_offset[i, j]
            )
    dx += padded[:, :, pad : pad + H, pad : pad + W]


def max_pool_forward(
    x: np.ndarray, ph: int, pw: int, stride: int,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    N, C, H, W = x.shape
    OH, OW = _out_size(H, ph, stride, 0), _out_size(W, pw, stride, 0)
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    windows = windows.reshape(N, C, OH, OW, ph * pw)
    local = windows.argmax(axis=-1)
    rows = np.arange(OH)[:, None] * stride + local // pw
    columns = np.arange(OW) * stride + local % pw
    pooled = np.take_along_axis(windows, local[..., None], axis=-1)[..., 0]
    if out is None:
        return np.ascontiguousarray(pooled), (rows * W + columns).astype(np.intp)
    out[0][...], out[1][...] = pooled, rows * W + columns
    return out


def max_pool_backward(
    dout: np.ndarray, argmax: np.ndarray, H: int, W: int, out: np.ndarray | None = None
) -> np.ndarray:
    N, C = dout.shape[:2]
    dx = np.empty((N, C, H, W), dtype=dout.dtype) if out is None else out
    dx.fill(0)
    planes = np.arange(N * C)[:, None]
    np.add.at(dx.reshape(N * C, H * W), (planes, argmax.reshape(N * C, -1)),
              dout.reshape(N * C, -1))
    return dx
