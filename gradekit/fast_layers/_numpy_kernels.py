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


# Winograd's F(2x2, 3x3) (Lavin & Gray, 2016): a 3x3 filter over a 4x4 tile of input gives a
# 2x2 tile of output as Y = AT [(G g G^T) * (BT d BT^T)] AT^T, 16 multiplications instead of
# 36. Tiles start every 2 pixels of the zero-padded input; their 16 transformed values are
# laid out (16, C, N*TH*TW), entry a*4 + b of tile (n, th, tw) in column (n*TH + th)*TW + tw,
# so that the channel sums are 16 matrix products. TH, TW = ceil(OH/2), ceil(OW/2).
WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])


def _winograd_padded(x: np.ndarray, pad: int) -> tuple[np.ndarray, int, int]:
    """x zero-padded to hold every input tile, and the tiles per column and row."""
    H, W = x.shape[2:]
    TH, TW = (H + 2 * pad - 1) // 2, (W + 2 * pad - 1) // 2
    widths = ((0, 0), (0, 0), (pad, 2 * TH + 2 - H - pad), (pad, 2 * TW + 2 - W - pad))
    return np.pad(x, widths), TH, TW


def _bt_pairs(d: list[np.ndarray]) -> list[np.ndarray]:
    """BT applied along a list of four arrays: each row of BT has two nonzero entries."""
    return [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]]


def winograd_input(x: np.ndarray, pad: int, out: np.ndarray | None = None) -> np.ndarray:
    """BT d BT^T of every 4x4 tile d of the padded input: (16, C, N*TH*TW)."""
    N, C = x.shape[:2]
    padded, TH, TW = _winograd_padded(x, pad)
    # tile entry (k, j) of every tile at once: padded pixel (2*th + k, 2*tw + j)
    d = [[padded[:, :, k : k + 2 * TH : 2, j : j + 2 * TW : 2] for j in range(4)]
         for k in range(4)]
    rows = [_bt_pairs(d_k) for d_k in d]  # along the width: rows[k][b]
    V = np.empty((4, 4, C, N, TH, TW), dtype=x.dtype) if out is None else out.reshape(
        4, 4, C, N, TH, TW)
    for b in range(4):
        for a, v in enumerate(_bt_pairs([rows[k][b] for k in range(4)])):
            V[a, b] = v.transpose(1, 0, 2, 3)
    return V.reshape(16, C, N * TH * TW)


def winograd_input_adjoint(dV: np.ndarray, dx: np.ndarray, pad: int) -> None:
    """Overwrite dx with the adjoint of ``winograd_input`` applied to dV."""
    N, C, H, W = dx.shape
    padded, TH, TW = _winograd_padded(np.zeros_like(dx), pad)
    v = dV.reshape(4, 4, C, N, TH, TW).transpose(0, 1, 3, 2, 4, 5)  # (a, b, n, c, th, tw)
    # BT^T along the height, then along the width: the tile entry (k, l) of every tile
    cols = [[v[0, b], v[1, b] - v[2, b] + v[3, b], v[1, b] + v[2, b] - v[0, b], -v[3, b]]
            for b in range(4)]  # cols[b][k]
    for k in range(4):
        u = [cols[b][k] for b in range(4)]
        for j, tile_kj in enumerate([u[0], u[1] - u[2] + u[3], u[1] + u[2] - u[0], -u[3]]):
            padded[:, :, k : k + 2 * TH : 2, j : j + 2 * TW : 2] += tile_kj
    dx[...] = padded[:, :, pad : pad + H, pad : pad + W]


def winograd_output(M: np.ndarray, bias: np.ndarray, y: np.ndarray) -> None:
    """Overwrite y (N, F, OH, OW) with bias plus AT m AT^T of every tile m of M."""
    N, F, OH, OW = y.shape
    TH, TW = (OH + 1) // 2, (OW + 1) // 2
    m = M.reshape(4, 4, F, N, TH, TW).transpose(0, 1, 3, 2, 4, 5)  # (a, b, n, f, th, tw)
    tiles = np.empty((N, F, TH, 2, TW, 2), dtype=y.dtype)
    for r, s_r in enumerate([m[0] + m[1] + m[2], m[1] - m[2] - m[3]]):  # along the height
        tiles[:, :, :, r, :, 0] = s_r[0] + s_r[1] + s_r[2]  # then along the width
        tiles[:, :, :, r, :, 1] = s_r[1] - s_r[2] - s_r[3]
    y[...] = tiles.reshape(N, F, 2 * TH, 2 * TW)[:, :, :OH, :OW] + bias.reshape(F, 1, 1)


def winograd_output_adjoint(dy: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """AT^T e AT of every 2x2 tile e of dy (zero beyond its edge): (16, F, N*TH*TW)."""
    N, F, OH, OW = dy.shape
    TH, TW = (OH + 1) // 2, (OW + 1) // 2
    padded = np.pad(dy, ((0, 0), (0, 0), (0, 2 * TH - OH), (0, 2 * TW - OW)))
    e = padded.reshape(N, F, TH, 2, TW, 2).transpose(3, 5, 1, 0, 2, 4)  # (r, s, f, n, th, tw)
    dM = np.empty((4, 4, F, N, TH, TW), dtype=dy.dtype) if out is None else out.reshape(
        4, 4, F, N, TH, TW)
    q = [[e[r, 0], e[r, 0] + e[r, 1], e[r, 0] - e[r, 1], -e[r, 1]] for r in range(2)]
    for b in range(4):  # along the width, then along the height
        dM[0, b], dM[1, b], dM[2, b], dM[3, b] = (
            q[0][b], q[0][b] + q[1][b], q[0][b] - q[1][b], -q[1][b])
    return dM.reshape(16, F, N * TH * TW)


def winograd_filters(w: np.ndarray) -> np.ndarray:
    """G g G^T of every 3x3 filter g of w (F, C, 3, 3), laid out (16, F, C)."""
    G = WINOGRAD_G.astype(w.dtype)
    return np.einsum("ai,fcij,bj->abfc", G, w, G).reshape(16, *w.shape[:2])


def winograd_filters_adjoint(dU: np.ndarray) -> np.ndarray:
    """The filters' gradient (F, C, 3, 3) from the transformed filters' gradient dU."""
    G = WINOGRAD_G.astype(dU.dtype)
    return np.einsum("ai,abfc,bj->fcij", G, dU.reshape(4, 4, *dU.shape[1:]), G)
