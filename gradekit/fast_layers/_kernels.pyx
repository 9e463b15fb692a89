# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled hot loops of the fast conv/pool layers.

Only the memory-bound loops live here: the im2col gather, the col2im scatter-add and max
pooling. The matrix products stay in NumPy so they run on its BLAS. Every loop is split by
image plane (one channel of one image) with OpenMP ``prange``: each thread then writes a
disjoint slice, so the scatter-adds need no atomics, and there are enough planes to balance
two or more threads even for a handful of images. Built without OpenMP, the same loops run
serially.

The contract (array layouts, argmax encoding) is shared with ``_numpy_kernels``; see there.
"""

import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset


cdef inline Py_ssize_t _first_inside(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    """Smallest output index o >= 0 whose input coordinate o*stride + offset is >= 0."""
    if offset >= 0:
        return 0
    return (stride - 1 - offset) // stride


cdef inline Py_ssize_t _end_inside(
    Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size, Py_ssize_t n_out
) noexcept nogil:
    """One past the largest output index o < n_out whose input coordinate is < size."""
    cdef Py_ssize_t last = size - 1 - offset
    if last < 0:
        return 0
    return min(last // stride + 1, n_out)


cdef inline void _add_row(floating* dst, const floating* src, Py_ssize_t n) noexcept nogil:
    """dst[:n] += src[:n]: a unit-stride loop the C compiler vectorises."""
    cdef Py_ssize_t k
    for k in range(n):
        dst[k] += src[k]


cdef void _gather_plane(
    const floating* x, floating* cols, Py_ssize_t col_stride, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad, Py_ssize_t OH,
    Py_ssize_t OW,
) noexcept nogil:
    """Fill the HH*WW rows of one input plane: row (i,j) gets x[oh*s+i-pad, ow*s+j-pad]."""
    cdef Py_ssize_t i, j, oh, ow, h, lo, hi
    cdef const floating* src
    cdef floating* dst
    for i in range(HH):
        for j in range(WW):
            lo = _first_inside(j - pad, stride)
            hi = max(lo, _end_inside(j - pad, stride, W, OW))
            dst = cols + (i * WW + j) * col_stride
            for oh in range(OH):
                h = oh * stride + i - pad
                if h < 0 or h >= H:
                    memset(dst, 0, OW * sizeof(floating))
                else:
                    src = x + h * W + j - pad
                    for ow in range(lo):
                        dst[ow] = 0
                    if stride == 1:
                        for ow in range(lo, hi):
                            dst[ow] = src[ow]
                    else:
                        for ow in range(lo, hi):
                            dst[ow] = src[ow * stride]
                    for ow in range(hi, OW):
                        dst[ow] = 0
                dst += OW


cdef void _scatter_plane(
    const floating* cols, floating* dx, Py_ssize_t col_stride, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad, Py_ssize_t OH,
    Py_ssize_t OW,
) noexcept nogil:
    """Adjoint of ``_gather_plane``: add every column entry back onto its input pixel."""
    cdef Py_ssize_t i, j, oh, ow, h, lo, hi
    cdef const floating* src
    cdef floating* dst
    for i in range(HH):
        for j in range(WW):
            lo = _first_inside(j - pad, stride)
            hi = max(lo, _end_inside(j - pad, stride, W, OW))
            src = cols + (i * WW + j) * col_stride
            for oh in range(OH):
                h = oh * stride + i - pad
                if 0 <= h < H:
                    dst = dx + h * W + j - pad
                    if stride == 1:
                        _add_row(dst + lo, src + lo, hi - lo)
                    else:
                        for ow in range(lo, hi):
                            dst[ow * stride] += src[ow]
                src += OW


def im2col(
    const floating[:, :, :, ::1] x, Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride,
    Py_ssize_t pad,
):
    """Columns (C*HH*WW, N*OH*OW) of the zero-padded input; see ``_numpy_kernels.im2col``."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t OW = (W + 2 * pad - WW) // stride + 1
    cdef Py_ssize_t P = OH * OW, plane, n, c
    dtype = np.float32 if floating is float else np.float64
    cols = np.empty((C * HH * WW, N * P), dtype=dtype)
    if cols.size == 0:
        return cols
    cdef floating[:, ::1] out = cols
    for plane in prange(N * C, nogil=True, schedule="guided"):
        n = plane // C
        c = plane % C
        _gather_plane(&x[n, c, 0, 0], &out[c * HH * WW, n * P], N * P, H, W, HH, WW, stride,
                      pad, OH, OW)
    return cols


def col2im_add(
    const floating[:, ::1] cols, floating[:, :, :, ::1] dx, Py_ssize_t HH, Py_ssize_t WW,
    Py_ssize_t stride, Py_ssize_t pad,
):
    """Add column gradients onto dx (N, C, H, W) in place; see ``_numpy_kernels.col2im_add``."""
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t OH = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t OW = (W + 2 * pad - WW) // stride + 1
    cdef Py_ssize_t P = OH * OW, plane, n, c
    if cols.shape[0] == 0 or cols.shape[1] == 0:
        return
    for plane in prange(N * C, nogil=True, schedule="guided"):
        n = plane // C
        c = plane % C
        _scatter_plane(&cols[c * HH * WW, n * P], &dx[n, c, 0, 0], N * P, H, W, HH, WW, stride,
                       pad, OH, OW)


cdef void _pool_plane(
    const floating* x, floating* out, Py_ssize_t* argmax, Py_ssize_t W,
    Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride, Py_ssize_t OH, Py_ssize_t OW,
) noexcept nogil:
    """Max of each window; ties keep the FIRST maximum in row-major order, NaN wins like np.max."""
    cdef Py_ssize_t oh, ow, i, j, at, best_at
    cdef floating v, best
    for oh in range(OH):
        for ow in range(OW):
            best_at = oh * stride * W + ow * stride
            best = x[best_at]
            for i in range(ph):
                for j in range(pw):
                    at = (oh * stride + i) * W + ow * stride + j
                    v = x[at]
                    if v > best or (v != v and best == best):
                        best = v
                        best_at = at
            out[oh * OW + ow] = best
            argmax[oh * OW + ow] = best_at


def max_pool_forward(
    const floating[:, :, :, ::1] x, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride,
):
    """Pooled maxima and their flat in-plane indices; see ``_numpy_kernels.max_pool_forward``."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = (H - ph) // stride + 1, OW = (W - pw) // stride + 1
    cdef Py_ssize_t plane
    dtype = np.float32 if floating is float else np.float64
    pooled = np.empty((N, C, OH, OW), dtype=dtype)
    where = np.empty((N, C, OH, OW), dtype=np.intp)
    if pooled.size == 0:
        return pooled, where
    cdef floating[:, :, :, ::1] out = pooled
    cdef Py_ssize_t[:, :, :, ::1] arg = where
    for plane in prange(N * C, nogil=True, schedule="guided"):
        _pool_plane(&x[plane // C, plane % C, 0, 0], &out[plane // C, plane % C, 0, 0],
                    &arg[plane // C, plane % C, 0, 0], W, ph, pw, stride, OH, OW)
    return pooled, where


def max_pool_backward(
    const floating[:, :, :, ::1] dout, const Py_ssize_t[:, :, :, ::1] argmax,
    Py_ssize_t H, Py_ssize_t W,
):
    """Input gradient: each window's gradient added onto its recorded maximum."""
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1], OH = dout.shape[2], OW = dout.shape[3]
    cdef Py_ssize_t plane, o, n, c
    dtype = np.float32 if floating is float else np.float64
    dx = np.zeros((N, C, H, W), dtype=dtype)
    if dout.size == 0 or dx.size == 0:
        return dx
    cdef floating[:, :, :, ::1] out = dx
    cdef floating* dst
    for plane in prange(N * C, nogil=True, schedule="guided"):
        n = plane // C
        c = plane % C
        dst = &out[n, c, 0, 0]
        for o in range(OH * OW):
            dst[argmax[n, c, o // OW, o % OW]] += dout[n, c, o // OW, o % OW]
    return dx
