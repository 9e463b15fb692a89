# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled hot loops of the fast conv/pool layers.

Only the memory-bound loops live here: the im2col gather, the col2im scatter-add and max
pooling. The matrix products stay in NumPy so they run on its BLAS. Each call is serial and
runs without the GIL, so the layers run calls on different images in threads of their own.
There is no OpenMP here on purpose: an OpenMP runtime is shared by the whole process, and
whether its idle threads spin through the work that follows depends on whichever library
(PyTorch, say) loaded it first.

The contract (array layouts, argmax encoding, ``out`` arguments) is shared with
``_numpy_kernels``; see there.
"""

import numpy as np

from cython cimport floating
from libc.string cimport memcpy, memset


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
    """Fill the HH*WW rows of one input plane: row (i,j) gets x[oh*s+i-pad, ow*s+j-pad].

    With stride 1 and rows as wide as the input ("same" padding), the rows inside the
    input of one (i, j) are one shifted run of the plane: a single copy, then the |j - pad|
    entries per row that wrapped around from the neighbouring row are zeroed.
    """
    cdef Py_ssize_t i, j, oh, ow, h, lo, hi, shift, oh_lo, oh_hi, length
    cdef const floating* src
    cdef floating* dst
    cdef floating* row
    for i in range(HH):
        oh_lo = _first_inside(i - pad, stride)
        oh_hi = max(oh_lo, _end_inside(i - pad, stride, H, OH))
        for j in range(WW):
            dst = cols + (i * WW + j) * col_stride
            shift = j - pad
            if stride == 1 and OW == W and -W < shift < W and oh_lo < oh_hi:
                memset(dst, 0, oh_lo * OW * sizeof(floating))
                memset(dst + oh_hi * OW, 0, (OH - oh_hi) * OW * sizeof(floating))
                row = dst + oh_lo * OW
                src = x + (oh_lo + i - pad) * W
                length = (oh_hi - oh_lo) * OW - (shift if shift > 0 else -shift)
                if shift >= 0:
                    memcpy(row, src + shift, length * sizeof(floating))
                    for oh in range(oh_hi - oh_lo):
                        memset(row + oh * OW + OW - shift, 0, shift * sizeof(floating))
                else:
                    memcpy(row - shift, src, length * sizeof(floating))
                    for oh in range(oh_hi - oh_lo):
                        memset(row + oh * OW, 0, -shift * sizeof(floating))
                continue
            lo = _first_inside(shift, stride)
            hi = max(lo, _end_inside(shift, stride, W, OW))
            for oh in range(OH):
                h = oh * stride + i - pad
                if h < 0 or h >= H:
                    memset(dst, 0, OW * sizeof(floating))
                else:
                    src = x + h * W + shift
                    for ow in range(lo):
                        dst[ow] = 0
                    if stride == 1:
                        memcpy(dst + lo, src + lo, (hi - lo) * sizeof(floating))
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


def _gather(
    const floating[:, :, :, ::1] x, floating[:, ::1] cols, Py_ssize_t HH, Py_ssize_t WW,
    Py_ssize_t stride, Py_ssize_t pad,
):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t OW = (W + 2 * pad - WW) // stride + 1
    cdef Py_ssize_t P = OH * OW, n, c
    with nogil:
        for n in range(N):
            for c in range(C):
                _gather_plane(&x[n, c, 0, 0], &cols[c * HH * WW, n * P], N * P, H, W, HH, WW,
                              stride, pad, OH, OW)


def _scatter(
    const floating[:, ::1] cols, floating[:, :, :, ::1] dx, Py_ssize_t HH, Py_ssize_t WW,
    Py_ssize_t stride, Py_ssize_t pad,
):
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t OH = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t OW = (W + 2 * pad - WW) // stride + 1
    cdef Py_ssize_t P = OH * OW, n, c
    with nogil:
        for n in range(N):
            for c in range(C):
                _scatter_plane(&cols[c * HH * WW, n * P], &dx[n, c, 0, 0], N * P, H, W, HH,
                               WW, stride, pad, OH, OW)


def im2col(x, Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad, out=None):
    """Columns (C*HH*WW, N*OH*OW) of the zero-padded input; see ``_numpy_kernels.im2col``."""
    N, C, H, W = x.shape
    shape = (C * HH * WW, N * ((H + 2 * pad - HH) // stride + 1)
             * ((W + 2 * pad - WW) // stride + 1))
    cols = np.empty(shape, dtype=x.dtype) if out is None else out
    if cols.shape != shape:
        raise ValueError(f"out has shape {cols.shape}, the columns need {shape}")
    if cols.size:
        _gather(x, cols, HH, WW, stride, pad)
    return cols


def col2im_add(cols, dx, Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad):
    """Add column gradients onto dx (N, C, H, W) in place; see ``_numpy_kernels.col2im_add``."""
    if cols.size:
        _scatter(cols, dx, HH, WW, stride, pad)


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


def _pool(
    const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, Py_ssize_t[:, :, :, ::1] arg,
    Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride,
):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], W = x.shape[3]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], n, c
    with nogil:
        for n in range(N):
            for c in range(C):
                _pool_plane(&x[n, c, 0, 0], &out[n, c, 0, 0], &arg[n, c, 0, 0], W, ph, pw,
                            stride, OH, OW)


def _unpool(
    const floating[:, :, :, ::1] dout, const Py_ssize_t[:, :, :, ::1] argmax,
    floating[:, :, :, ::1] dx,
):
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1]
    cdef Py_ssize_t P = dout.shape[2] * dout.shape[3], HW = dx.shape[2] * dx.shape[3]
    cdef Py_ssize_t n, c, o
    cdef floating* dst
    cdef const floating* src
    cdef const Py_ssize_t* at
    with nogil:
        for n in range(N):
            for c in range(C):
                dst = &dx[n, c, 0, 0]
                src = &dout[n, c, 0, 0]
                at = &argmax[n, c, 0, 0]
                memset(dst, 0, HW * sizeof(floating))
                for o in range(P):
                    dst[at[o]] += src[o]


def max_pool_forward(x, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride, out=None):
    """Pooled maxima and their flat in-plane indices; see ``_numpy_kernels.max_pool_forward``."""
    N, C, H, W = x.shape
    shape = (N, C, (H - ph) // stride + 1, (W - pw) // stride + 1)
    if out is None:
        out = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.intp)
    pooled, where = out
    if pooled.size and x.size:
        _pool(x, pooled, where, ph, pw, stride)
    return pooled, where


def max_pool_backward(dout, argmax, Py_ssize_t H, Py_ssize_t W, out=None):
    """Input gradient: each window's gradient added onto its recorded maximum."""
    dx = np.empty((*dout.shape[:2], H, W), dtype=dout.dtype) if out is None else out
    if dout.size and dx.size:
        _unpool(dout, argmax, dx)
    else:
        dx[...] = 0
    return dx
