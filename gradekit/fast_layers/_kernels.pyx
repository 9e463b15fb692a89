# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled hot loops of the fast conv/pool layers.

The memory-bound loops live here (the im2col gather, the col2im scatter-add, the Winograd
transforms, max pooling), each over a run of images, serial and without the GIL, so the
layers run calls on different images in threads of their own; and the whole chunk
pipelines, which add the matrix products on NumPy's own OpenBLAS (see ``use_blas``).
There is no OpenMP here on purpose: an OpenMP runtime is shared by the whole process, and
whether its idle threads spin through the work that follows depends on whichever library
(PyTorch, say) loaded it first.

The contract (array layouts, argmax encoding, ``out`` arguments) is shared with
``_numpy_kernels``; see there.
"""

import numpy as np

from cython cimport floating
from libc.stdint cimport int64_t, uintptr_t
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
                        for ow in range(OW - shift, OW):
                            row[oh * OW + ow] = 0
                else:
                    memcpy(row - shift, src, length * sizeof(floating))
                    for oh in range(oh_hi - oh_lo):
                        for ow in range(-shift):
                            row[oh * OW + ow] = 0
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


cdef void _split_row(
    const floating* x, floating* phases, Py_ssize_t M, Py_ssize_t W, Py_ssize_t stride,
    Py_ssize_t pad, Py_ssize_t count,
) noexcept nogil:
    """phases[q*M + m] = the padded row's x[m*stride + q - pad] (0 in the padding), q < count."""
    cdef Py_ssize_t q, m, lo, hi
    cdef const floating* src
    cdef floating* dst
    for q in range(count):
        lo = min(M, _first_inside(q - pad, stride))
        hi = max(lo, _end_inside(q - pad, stride, W, M))
        src = x + q - pad
        dst = phases + q * M
        for m in range(lo):
            dst[m] = 0
        for m in range(lo, hi):
            dst[m] = src[m * stride]
        for m in range(hi, M):
            dst[m] = 0


cdef void _gather_plane_strided(
    const floating* x, floating* cols, Py_ssize_t col_stride, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad, Py_ssize_t OH,
    Py_ssize_t OW, floating* phases,
) noexcept nogil:
    """``_gather_plane`` for stride > 1: each input row is split once into its ``stride``
    phases (every stride-th pixel), from which the row of each kernel column j is a copy."""
    cdef Py_ssize_t M = OW + (WW - 1) // stride, count = min(stride, WW), i, j, oh, h
    cdef floating* dst
    for i in range(HH):
        for oh in range(OH):
            h = oh * stride + i - pad
            if h < 0 or h >= H:
                for j in range(WW):
                    memset(cols + (i * WW + j) * col_stride + oh * OW, 0, OW * sizeof(floating))
                continue
            _split_row(x + h * W, phases, M, W, stride, pad, count)
            for j in range(WW):
                dst = cols + (i * WW + j) * col_stride + oh * OW
                memcpy(dst, phases + (j % stride) * M + j // stride, OW * sizeof(floating))


cdef void _scatter_plane_strided(
    const floating* cols, floating* dx, Py_ssize_t col_stride, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad, Py_ssize_t OH,
    Py_ssize_t OW, floating* phases,
) noexcept nogil:
    """Adjoint of ``_gather_plane_strided``: rows added onto the phases, phases onto dx."""
    cdef Py_ssize_t M = OW + (WW - 1) // stride, count = min(stride, WW), i, j, oh, h, q, m
    cdef Py_ssize_t lo, hi
    cdef floating* src
    cdef floating* dst
    for i in range(HH):
        for oh in range(OH):
            h = oh * stride + i - pad
            if h < 0 or h >= H:
                continue
            memset(phases, 0, count * M * sizeof(floating))
            for j in range(WW):
                _add_row(phases + (j % stride) * M + j // stride,
                         cols + (i * WW + j) * col_stride + oh * OW, OW)
            for q in range(count):
                lo = min(M, _first_inside(q - pad, stride))
                hi = max(lo, _end_inside(q - pad, stride, W, M))
                dst = dx + h * W + q - pad
                src = phases + q * M
                for m in range(lo, hi):
                    dst[m * stride] += src[m]


cdef void _gather_images(
    const floating* x, floating* cols, Py_ssize_t n, Py_ssize_t C, Py_ssize_t H,
    Py_ssize_t W, Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad,
    Py_ssize_t OH, Py_ssize_t OW, floating* phases,
) noexcept nogil:
    """The columns (C*HH*WW, n*OH*OW) of n consecutive images."""
    cdef Py_ssize_t P = OH * OW, i, c
    for i in range(n):
        for c in range(C):
            if stride == 1:
                _gather_plane(x + (i * C + c) * H * W, cols + c * HH * WW * n * P + i * P,
                              n * P, H, W, HH, WW, stride, pad, OH, OW)
            else:
                _gather_plane_strided(x + (i * C + c) * H * W,
                                      cols + c * HH * WW * n * P + i * P, n * P, H, W, HH,
                                      WW, stride, pad, OH, OW, phases)


cdef void _scatter_images(
    const floating* cols, floating* dx, Py_ssize_t n, Py_ssize_t C, Py_ssize_t H,
    Py_ssize_t W, Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad,
    Py_ssize_t OH, Py_ssize_t OW, floating* phases,
) noexcept nogil:
    """Add the column gradients (C*HH*WW, n*OH*OW) onto n consecutive images of dx."""
    cdef Py_ssize_t P = OH * OW, i, c
    for i in range(n):
        for c in range(C):
            if stride == 1:
                _scatter_plane(cols + c * HH * WW * n * P + i * P, dx + (i * C + c) * H * W,
                               n * P, H, W, HH, WW, stride, pad, OH, OW)
            else:
                _scatter_plane_strided(cols + c * HH * WW * n * P + i * P,
                                       dx + (i * C + c) * H * W, n * P, H, W, HH, WW, stride,
                                       pad, OH, OW, phases)


def _gather(
    const floating[:, :, :, ::1] x, floating[:, ::1] cols, Py_ssize_t HH, Py_ssize_t WW,
    Py_ssize_t stride, Py_ssize_t pad,
):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t OW = (W + 2 * pad - WW) // stride + 1
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] phases = np.empty(WW * (OW + WW), dtype=dtype)
    with nogil:
        _gather_images(&x[0, 0, 0, 0], &cols[0, 0], N, C, H, W, HH, WW, stride, pad, OH, OW,
                       &phases[0])


def _scatter(
    const floating[:, ::1] cols, floating[:, :, :, ::1] dx, Py_ssize_t HH, Py_ssize_t WW,
    Py_ssize_t stride, Py_ssize_t pad,
):
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t OH = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t OW = (W + 2 * pad - WW) // stride + 1
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] phases = np.empty(WW * (OW + WW), dtype=dtype)
    with nogil:
        _scatter_images(&cols[0, 0], &dx[0, 0, 0, 0], N, C, H, W, HH, WW, stride, pad, OH, OW,
                        &phases[0])


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
    floating* best, int* which,
) noexcept nogil:
    """Max of each window; ties keep the FIRST maximum in row-major order, NaN wins like np.max.

    A row of windows at a time, one window entry after another: the inner loop over the
    windows is free of branches (a select), so it vectorises and never mispredicts.
    """
    cdef Py_ssize_t oh, ow, i, j
    cdef int k, take
    cdef floating v, b
    cdef const floating* row
    cdef const floating* src
    for oh in range(OH):
        row = x + oh * stride * W
        for ow in range(OW):
            best[ow] = row[ow * stride]
            which[ow] = 0
        for i in range(ph):
            for j in range(pw):
                k = <int>(i * pw + j)
                if k == 0:
                    continue
                src = row + i * W + j
                for ow in range(OW):
                    v = src[ow * stride]
                    b = best[ow]
                    take = (v > b) | ((v != v) & (b == b))
                    best[ow] = v if take else b
                    which[ow] = k if take else which[ow]
        for ow in range(OW):
            out[oh * OW + ow] = best[ow]
            argmax[oh * OW + ow] = (oh * stride + which[ow] // pw) * W + ow * stride + which[ow] % pw


def _pool(
    const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, Py_ssize_t[:, :, :, ::1] arg,
    Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride,
):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], W = x.shape[3]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], n, c
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] best = np.empty(OW, dtype=dtype)
    cdef int[::1] which = np.empty(OW, dtype=np.intc)
    with nogil:
        for n in range(N):
            for c in range(C):
                _pool_plane(&x[n, c, 0, 0], &out[n, c, 0, 0], &arg[n, c, 0, 0], W, ph, pw,
                            stride, OH, OW, &best[0], &which[0])


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


# Winograd F(2x2, 3x3): see ``_numpy_kernels`` for the transforms and the layout. The tiles of
# one plane are transformed together, one pass per term: entry (a, b) of every tile in one
# unit-stride loop over the plane's tiles, which the compiler vectorises. Padded rows are kept
# in two blocks, even rows then odd rows, so that "the tile below" is a fixed offset (TW) away.

cdef inline void _sub(floating* d, const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = a[i] - b[i]


cdef inline void _add(floating* d, const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = a[i] + b[i]


cdef inline void _neg(floating* d, const floating* a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = -a[i]


cdef inline void _add3(
    floating* d, const floating* a, const floating* b, const floating* c, Py_ssize_t n
) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = a[i] + b[i] + c[i]


cdef inline void _sub3(
    floating* d, const floating* a, const floating* b, const floating* c, Py_ssize_t n
) noexcept nogil:
    """d = a - b - c"""
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = a[i] - b[i] - c[i]


cdef inline void _swing3(
    floating* d, const floating* a, const floating* b, const floating* c, Py_ssize_t n
) noexcept nogil:
    """d = a - b + c"""
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = a[i] - b[i] + c[i]


cdef inline void _lift3(
    floating* d, const floating* a, const floating* b, const floating* c, Py_ssize_t n
) noexcept nogil:
    """d = a + b - c"""
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = a[i] + b[i] - c[i]


cdef void _winograd_in_plane(
    const floating* x, floating* V, Py_ssize_t step, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t pad, Py_ssize_t TH, Py_ssize_t TW, floating* work,
) noexcept nogil:
    """V[(a*4 + b)*step + th*TW + tw] = (BT d BT^T)[a, b] of the tile at (2*th, 2*tw)."""
    cdef Py_ssize_t L = (TH + 1) * TW, n = TH * TW, hp, h, at, tw, b, k, col
    # the tiles whose four columns all lie inside the row (columns 2tw - pad .. 2tw + 3 - pad)
    cdef Py_ssize_t inner_lo = min(TW, (pad + 1) // 2), inner_hi = inner_lo
    if W + pad >= 4:  # (C division truncates towards zero)
        inner_hi = max(inner_lo, min(TW, (W + pad - 4) // 2 + 1))
    cdef floating* g = work  # columns 2tw+k of each padded row, k = 0..3, one array per k
    cdef floating* R = g + 8 * L  # the rows transformed along the width, one array per b
    cdef const floating* src
    cdef floating* even
    cdef floating* odd
    for hp in range(2 * TH + 2):
        h = hp - pad
        at = (hp & 1) * L + (hp >> 1) * TW
        if h < 0 or h >= H:
            for k in range(4):
                for tw in range(TW):
                    g[k * 2 * L + at + tw] = 0
            continue
        src = x + h * W - pad
        for k in range(4):
            for tw in range(inner_lo, inner_hi):
                g[k * 2 * L + at + tw] = src[2 * tw + k]
            for tw in range(inner_lo):
                col = 2 * tw + k - pad
                g[k * 2 * L + at + tw] = src[2 * tw + k] if 0 <= col < W else 0
            for tw in range(inner_hi, TW):
                col = 2 * tw + k - pad
                g[k * 2 * L + at + tw] = src[2 * tw + k] if 0 <= col < W else 0
    # g holds, per k, columns 2tw+k: k = 0 even, 1 odd, 2 even shifted, 3 odd shifted
    _sub(R, g, g + 4 * L, 2 * L)
    _add(R + 2 * L, g + 2 * L, g + 4 * L, 2 * L)
    _sub(R + 4 * L, g + 4 * L, g + 2 * L, 2 * L)
    _sub(R + 6 * L, g + 2 * L, g + 6 * L, 2 * L)
    for b in range(4):  # then along the height: rows 2th, 2th+1, 2th+2, 2th+3 of each tile
        even = R + b * 2 * L
        odd = even + L
        _sub(V + b * step, even, even + TW, n)
        _add(V + (4 + b) * step, odd, even + TW, n)
        _sub(V + (8 + b) * step, even + TW, odd, n)
        _sub(V + (12 + b) * step, odd, odd + TW, n)


cdef void _winograd_in_adjoint_plane(
    const floating* dV, floating* dx, Py_ssize_t step, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t pad, Py_ssize_t TH, Py_ssize_t TW, floating* work,
) noexcept nogil:
    """dx = the tiles' BT^T dV BT added up where they overlap, without the padding."""
    cdef Py_ssize_t L = (TH + 1) * TW, n = TH * TW, b, h, hp, at, m, w
    cdef floating* P = work  # per b: the padded rows (even block, odd block) of column 2tw+b
    cdef floating* Z = work + 8 * L  # per padded column 2tw + l, l = 0..3
    cdef floating* ce = Z + 8 * L
    cdef floating* co = ce + TW + 1
    cdef const floating* v
    cdef floating* even
    cdef floating* odd
    for b in range(4):  # along the height, onto padded rows 2th .. 2th+3
        v = dV + b * step
        even = P + b * 2 * L
        odd = even + L
        memcpy(even, v, n * sizeof(floating))
        memset(even + n, 0, TW * sizeof(floating))
        _lift3(Z, v + 4 * step, v + 8 * step, v, n)
        _add(even + TW, even + TW, Z, n)
        _swing3(odd, v + 4 * step, v + 8 * step, v + 12 * step, n)
        memset(odd + n, 0, TW * sizeof(floating))
        _sub(odd + TW, odd + TW, v + 12 * step, n)
    memcpy(Z, P, 2 * L * sizeof(floating))  # then along the width
    _swing3(Z + 2 * L, P + 2 * L, P + 4 * L, P + 6 * L, 2 * L)
    _lift3(Z + 4 * L, P + 2 * L, P + 4 * L, P, 2 * L)
    _neg(Z + 6 * L, P + 6 * L, 2 * L)
    for h in range(H):  # each row: even columns get l = 0 and 2, odd ones l = 1 and 3
        hp = h + pad
        at = (hp & 1) * L + (hp >> 1) * TW
        ce[0] = Z[at]
        co[0] = Z[2 * L + at]
        for m in range(1, TW):
            ce[m] = Z[at + m] + Z[4 * L + at + m - 1]
            co[m] = Z[2 * L + at + m] + Z[6 * L + at + m - 1]
        ce[TW] = Z[4 * L + at + TW - 1]
        co[TW] = Z[6 * L + at + TW - 1]
        for w in range(pad & 1, W, 2):
            dx[h * W + w] = ce[(w + pad) >> 1]
        for w in range(1 - (pad & 1), W, 2):
            dx[h * W + w] = co[(w + pad) >> 1]


cdef void _winograd_out_plane(
    const floating* M, floating* y, floating bias, Py_ssize_t step, Py_ssize_t OH,
    Py_ssize_t OW, Py_ssize_t TH, Py_ssize_t TW, floating* work,
) noexcept nogil:
    """y = bias + AT m AT^T of each tile m, cropped to (OH, OW)."""
    cdef Py_ssize_t n = TH * TW, b, r, th, tw, row
    cdef const floating* m
    cdef floating* S = work  # along the height: output row r of the tile, per b
    cdef floating* Y = work + 8 * n  # then along the width: output (r, q) of the tile
    cdef floating* e
    cdef floating* o
    cdef floating* dst
    for b in range(4):
        m = M + b * step
        _add3(S + b * n, m, m + 4 * step, m + 8 * step, n)
        _sub3(S + (4 + b) * n, m + 4 * step, m + 8 * step, m + 12 * step, n)
    for r in range(2):
        _add3(Y + 2 * r * n, S + 4 * r * n, S + (4 * r + 1) * n, S + (4 * r + 2) * n, n)
        _sub3(Y + (2 * r + 1) * n, S + (4 * r + 1) * n, S + (4 * r + 2) * n,
              S + (4 * r + 3) * n, n)
    for th in range(TH):
        for r in range(2):
            row = 2 * th + r
            if row >= OH:
                break
            e = Y + 2 * r * n + th * TW
            o = e + n
            dst = y + row * OW
            for tw in range((OW + 1) // 2):
                dst[2 * tw] = e[tw] + bias
            for tw in range(OW // 2):
                dst[2 * tw + 1] = o[tw] + bias


cdef void _winograd_out_adjoint_plane(
    const floating* dy, floating* dM, Py_ssize_t step, Py_ssize_t OH, Py_ssize_t OW,
    Py_ssize_t TH, Py_ssize_t TW, floating* work,
) noexcept nogil:
    """dM = AT^T e AT of each 2x2 tile e of dy, zero beyond (OH, OW)."""
    cdef Py_ssize_t n = TH * TW, b, r, th, tw, row
    cdef floating* E = work  # even and odd columns of output rows 2th (r = 0) and 2th+1
    cdef floating* Q = work + 4 * n  # along the width, per r and b
    cdef floating* e
    cdef floating* o
    cdef const floating* src
    memset(E, 0, 4 * n * sizeof(floating))
    for th in range(TH):
        for r in range(2):
            row = 2 * th + r
            if row >= OH:
                break
            e = E + 2 * r * n + th * TW
            o = e + n
            src = dy + row * OW
            for tw in range((OW + 1) // 2):
                e[tw] = src[2 * tw]
            for tw in range(OW // 2):
                o[tw] = src[2 * tw + 1]
    for r in range(2):
        e = E + 2 * r * n
        o = e + n
        memcpy(Q + 4 * r * n, e, n * sizeof(floating))
        _add(Q + (4 * r + 1) * n, e, o, n)
        _sub(Q + (4 * r + 2) * n, e, o, n)
        _neg(Q + (4 * r + 3) * n, o, n)
    for b in range(4):  # then along the height
        memcpy(dM + b * step, Q + b * n, n * sizeof(floating))
        _add(dM + (4 + b) * step, Q + b * n, Q + (4 + b) * n, n)
        _sub(dM + (8 + b) * step, Q + b * n, Q + (4 + b) * n, n)
        _neg(dM + (12 + b) * step, Q + (4 + b) * n, n)


cdef void _winograd_in_images(
    const floating* x, floating* V, Py_ssize_t n, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t pad, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t tiles, floating* scratch,
) noexcept nogil:
    """Transformed tiles (16, C, tiles) of n consecutive images; image i's tiles start at
    column i*TH*TW (``tiles``: the columns of V, at least n*TH*TW)."""
    cdef Py_ssize_t T = TH * TW, i, c
    for i in range(n):
        for c in range(C):
            _winograd_in_plane(x + (i * C + c) * H * W, V + c * tiles + i * T, C * tiles, H,
                               W, pad, TH, TW, scratch)


cdef void _winograd_in_adjoint_images(
    const floating* dV, floating* dx, Py_ssize_t n, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
    Py_ssize_t pad, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t tiles, floating* scratch,
) noexcept nogil:
    """Overwrite n consecutive images of dx with the adjoint of ``_winograd_in_images``."""
    cdef Py_ssize_t T = TH * TW, i, c
    for i in range(n):
        for c in range(C):
            _winograd_in_adjoint_plane(dV + c * tiles + i * T, dx + (i * C + c) * H * W,
                                       C * tiles, H, W, pad, TH, TW, scratch)


cdef void _winograd_out_images(
    const floating* M, const floating* bias, floating* y, Py_ssize_t n, Py_ssize_t F,
    Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t tiles, floating* scratch,
) noexcept nogil:
    """Overwrite n consecutive images of y with bias plus the inverse-transformed tiles M
    (16, F, tiles)."""
    cdef Py_ssize_t TH = (OH + 1) // 2, TW = (OW + 1) // 2, T = TH * TW, i, f
    for i in range(n):
        for f in range(F):
            _winograd_out_plane(M + f * tiles + i * T, y + (i * F + f) * OH * OW, bias[f],
                                F * tiles, OH, OW, TH, TW, scratch)


cdef void _winograd_out_adjoint_images(
    const floating* dy, floating* dM, Py_ssize_t n, Py_ssize_t F, Py_ssize_t OH,
    Py_ssize_t OW, Py_ssize_t tiles, floating* scratch,
) noexcept nogil:
    """Transformed output gradient (16, F, tiles) of n consecutive images of dy."""
    cdef Py_ssize_t TH = (OH + 1) // 2, TW = (OW + 1) // 2, T = TH * TW, i, f
    for i in range(n):
        for f in range(F):
            _winograd_out_adjoint_plane(dy + (i * F + f) * OH * OW, dM + f * tiles + i * T,
                                        F * tiles, OH, OW, TH, TW, scratch)


def _winograd_in(const floating[:, :, :, ::1] x, floating[:, :, ::1] V, Py_ssize_t pad):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t TH = (H + 2 * pad - 1) // 2, TW = (W + 2 * pad - 1) // 2
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] scratch = np.empty(16 * (TH + 1) * TW, dtype=dtype)
    with nogil:
        _winograd_in_images(&x[0, 0, 0, 0], &V[0, 0, 0], N, C, H, W, pad, TH, TW, V.shape[2],
                            &scratch[0])


def _winograd_in_adjoint(
    const floating[:, :, ::1] dV, floating[:, :, :, ::1] dx, Py_ssize_t pad,
):
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t TH = (H + 2 * pad - 1) // 2, TW = (W + 2 * pad - 1) // 2
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] scratch = np.empty(16 * (TH + 1) * TW + 2 * TW + 2, dtype=dtype)
    with nogil:
        _winograd_in_adjoint_images(&dV[0, 0, 0], &dx[0, 0, 0, 0], N, C, H, W, pad, TH, TW,
                                    dV.shape[2], &scratch[0])


def _winograd_out(
    const floating[:, :, ::1] M, const floating[::1] bias, floating[:, :, :, ::1] y,
):
    cdef Py_ssize_t N = y.shape[0], F = y.shape[1], OH = y.shape[2], OW = y.shape[3]
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] scratch = np.empty(12 * ((OH + 1) // 2) * ((OW + 1) // 2), dtype=dtype)
    with nogil:
        _winograd_out_images(&M[0, 0, 0], &bias[0], &y[0, 0, 0, 0], N, F, OH, OW, M.shape[2],
                             &scratch[0])


def _winograd_out_adjoint(const floating[:, :, :, ::1] dy, floating[:, :, ::1] dM):
    cdef Py_ssize_t N = dy.shape[0], F = dy.shape[1], OH = dy.shape[2], OW = dy.shape[3]
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] scratch = np.empty(12 * ((OH + 1) // 2) * ((OW + 1) // 2), dtype=dtype)
    with nogil:
        _winograd_out_adjoint_images(&dy[0, 0, 0, 0], &dM[0, 0, 0], N, F, OH, OW, dM.shape[2],
                                     &scratch[0])


def winograd_input(x, Py_ssize_t pad, out=None):
    """Transformed input tiles (16, C, N*TH*TW); see ``_numpy_kernels.winograd_input``."""
    N, C, H, W = x.shape
    shape = (16, C, N * ((H + 2 * pad - 1) // 2) * ((W + 2 * pad - 1) // 2))
    V = np.empty(shape, dtype=x.dtype) if out is None else out
    if V.shape != shape:
        raise ValueError(f"out has shape {V.shape}, the tiles need {shape}")
    if V.size:
        _winograd_in(x, V, pad)
    return V


def winograd_input_adjoint(dV, dx, Py_ssize_t pad):
    """Overwrite dx with the adjoint of ``winograd_input`` applied to dV."""
    if dx.size:
        _winograd_in_adjoint(dV, dx, pad)


def winograd_output(M, bias, y):
    """Overwrite y (N, F, OH, OW) with bias plus the inverse-transformed tiles M."""
    if y.size:
        _winograd_out(M, bias, y)


def winograd_output_adjoint(dy, out=None):
    """Transformed output gradient (16, F, N*TH*TW) of dy (N, F, OH, OW)."""
    N, F, OH, OW = dy.shape
    shape = (16, F, N * ((OH + 1) // 2) * ((OW + 1) // 2))
    dM = np.empty(shape, dtype=dy.dtype) if out is None else out
    if dM.shape != shape:
        raise ValueError(f"out has shape {dM.shape}, the tiles need {shape}")
    if dM.size:
        _winograd_out_adjoint(dy, dM)
    return dM


def _winograd_g(const floating[:, :, :, ::1] w, floating[:, :, ::1] U):
    cdef Py_ssize_t F = w.shape[0], C = w.shape[1], f, c, i, a
    cdef Py_ssize_t step = U.strides[0] // sizeof(floating)
    cdef floating t[4][3]
    cdef const floating* g
    cdef floating* u
    with nogil:
        for f in range(F):
            for c in range(C):
                g = &w[f, c, 0, 0]
                for i in range(3):  # G g: along the height
                    t[0][i] = g[i]
                    t[1][i] = (g[i] + g[3 + i] + g[6 + i]) * 0.5
                    t[2][i] = (g[i] - g[3 + i] + g[6 + i]) * 0.5
                    t[3][i] = g[6 + i]
                u = &U[0, f, c]
                for a in range(4):  # then (G g) G^T: along the width
                    u[(4 * a) * step] = t[a][0]
                    u[(4 * a + 1) * step] = (t[a][0] + t[a][1] + t[a][2]) * 0.5
                    u[(4 * a + 2) * step] = (t[a][0] - t[a][1] + t[a][2]) * 0.5
                    u[(4 * a + 3) * step] = t[a][2]


def _winograd_g_adjoint(const floating[:, :, ::1] dU, floating[:, :, :, ::1] dw):
    cdef Py_ssize_t F = dw.shape[0], C = dw.shape[1], f, c, a, j
    cdef Py_ssize_t step = dU.strides[0] // sizeof(floating)
    cdef floating t[4][3]
    cdef const floating* u
    cdef floating* g
    with nogil:
        for f in range(F):
            for c in range(C):
                u = &dU[0, f, c]
                for a in range(4):  # along the width: G^T applied to each row of the 4x4
                    t[a][0] = u[(4 * a) * step] + (u[(4 * a + 1) * step] + u[(4 * a + 2) * step]) * 0.5
                    t[a][1] = (u[(4 * a + 1) * step] - u[(4 * a + 2) * step]) * 0.5
                    t[a][2] = (u[(4 * a + 1) * step] + u[(4 * a + 2) * step]) * 0.5 + u[(4 * a + 3) * step]
                g = &dw[f, c, 0, 0]
                for j in range(3):  # then along the height
                    g[j] = t[0][j] + (t[1][j] + t[2][j]) * 0.5
                    g[3 + j] = (t[1][j] - t[2][j]) * 0.5
                    g[6 + j] = (t[1][j] + t[2][j]) * 0.5 + t[3][j]


def winograd_filters(w):
    """G g G^T of every 3x3 filter g of w (F, C, 3, 3), laid out (16, F, C)."""
    U = np.empty((16, *w.shape[:2]), dtype=w.dtype)
    if U.size:
        _winograd_g(w, U)
    return U


def winograd_filters_adjoint(dU):
    """The filters' gradient (F, C, 3, 3) from the transformed filters' gradient dU."""
    dw = np.empty((*dU.shape[1:], 3, 3), dtype=dU.dtype)
    if dw.size:
        _winograd_g_adjoint(dU, dw)
    return dw


# Whole chunk pipelines, one call per thread: gathers, matrix products and scatters of every
# chunk the thread claims, all without the GIL. Threads that take the GIL between short
# calls hand it back and forth, and on a virtual machine each hand-over can cost tens of
# microseconds, more than a chunk's stage; here a thread takes it only to start. The
# products go straight to NumPy's own OpenBLAS (the same library, hence the same thread
# settings, as ``np.matmul``) through its CBLAS entry points.

cdef extern from *:
    """
    #include <stdint.h>
    typedef void (*gk_sgemm32_t)(int, int, int, int32_t, int32_t, int32_t, float,
                                 const float *, int32_t, const float *, int32_t, float,
                                 float *, int32_t);
    typedef void (*gk_sgemm64_t)(int, int, int, int64_t, int64_t, int64_t, float,
                                 const float *, int64_t, const float *, int64_t, float,
                                 float *, int64_t);
    typedef void (*gk_dgemm32_t)(int, int, int, int32_t, int32_t, int32_t, double,
                                 const double *, int32_t, const double *, int32_t, double,
                                 double *, int32_t);
    typedef void (*gk_dgemm64_t)(int, int, int, int64_t, int64_t, int64_t, double,
                                 const double *, int64_t, const double *, int64_t, double,
                                 double *, int64_t);
    static void *gk_sgemm_fn = 0, *gk_dgemm_fn = 0;
    static int gk_ilp64 = 0;
    /* CblasRowMajor, CblasNoTrans and CblasTrans */
    #define GK_ORDER 101
    #define GK_TRANS(t) ((t) ? 112 : 111)

    static void gk_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                         int64_t ldc) {
        if (gk_ilp64)
            ((gk_sgemm64_t)gk_sgemm_fn)(GK_ORDER, GK_TRANS(ta), GK_TRANS(tb), m, n, k, 1.0f,
                                         a, lda, b, ldb, beta, c, ldc);
        else
            ((gk_sgemm32_t)gk_sgemm_fn)(GK_ORDER, GK_TRANS(ta), GK_TRANS(tb), (int32_t)m,
                                         (int32_t)n, (int32_t)k, 1.0f, a, (int32_t)lda, b,
                                         (int32_t)ldb, beta, c, (int32_t)ldc);
    }

    static void gk_dgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const double *a,
                         int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                         int64_t ldc) {
        if (gk_ilp64)
            ((gk_dgemm64_t)gk_dgemm_fn)(GK_ORDER, GK_TRANS(ta), GK_TRANS(tb), m, n, k, 1.0,
                                         a, lda, b, ldb, beta, c, ldc);
        else
            ((gk_dgemm32_t)gk_dgemm_fn)(GK_ORDER, GK_TRANS(ta), GK_TRANS(tb), (int32_t)m,
                                         (int32_t)n, (int32_t)k, 1.0, a, (int32_t)lda, b,
                                         (int32_t)ldb, beta, c, (int32_t)ldc);
    }

    static void gk_set_blas(uintptr_t sgemm, uintptr_t dgemm, int ilp64) {
        gk_sgemm_fn = (void *)sgemm;
        gk_dgemm_fn = (void *)dgemm;
        gk_ilp64 = ilp64;
    }

    /* The next chunk for the calling thread: an atomic fetch-and-add on the shared count. */
    static int64_t gk_claim(int64_t *counter) {
    #if defined(_MSC_VER)
        return _InterlockedExchangeAdd64((volatile __int64 *)counter, 1);
    #else
        return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    #endif
    }
    """
    void gk_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) noexcept nogil
    void gk_dgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const double* a,
                  int64_t lda, const double* b, int64_t ldb, double beta, double* c,
                  int64_t ldc) noexcept nogil
    void gk_set_blas(uintptr_t sgemm, uintptr_t dgemm, int ilp64)
    int64_t gk_claim(int64_t* counter) noexcept nogil



def use_blas(path):
    """Point the pipelines at the OpenBLAS library at ``path``; False when it is not one."""
    import ctypes
    import itertools

    library = ctypes.CDLL(path)
    for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
        names = [f"{prefix}{name}{suffix}" for name in
                 ("cblas_sgemm", "cblas_dgemm", "openblas_get_config")]
        if all(hasattr(library, name) for name in names):
            sgemm, dgemm, config = (getattr(library, name) for name in names)
            config.restype = ctypes.c_char_p
            gk_set_blas(ctypes.cast(sgemm, ctypes.c_void_p).value,
                        ctypes.cast(dgemm, ctypes.c_void_p).value,
                        b"USE64BITINT" in config())
            return True
    return False


cdef inline void _gemm(
    bint ta, bint tb, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const floating* a,
    Py_ssize_t lda, const floating* b, Py_ssize_t ldb, floating* c, Py_ssize_t ldc,
    bint accumulate=False,
) noexcept nogil:
    """C (m x n) = op(A) op(B), or C += op(A) op(B); row-major, op transposing when asked."""
    if floating is float:
        gk_sgemm(ta, tb, m, n, k, a, lda, b, ldb, 1.0 if accumulate else 0.0, c, ldc)
    else:
        gk_dgemm(ta, tb, m, n, k, a, lda, b, ldb, 1.0 if accumulate else 0.0, c, ldc)


def im2col_forward(
    chunks, const floating[:, :, :, ::1] x, const floating[:, ::1] w_rows,
    const floating[::1] b, floating[:, :, :, ::1] out, Py_ssize_t HH, Py_ssize_t WW,
    Py_ssize_t stride, Py_ssize_t pad, floating[::1] cols,
):
    """out[image] = b + w_rows @ columns of the image, for each chunk this thread claims."""
    cdef int64_t[::1] bounds = chunks.bounds, counter = chunks.counter
    cdef Py_ssize_t count = bounds.shape[0] - 1, C = x.shape[1], H = x.shape[2]
    cdef Py_ssize_t W = x.shape[3], F = w_rows.shape[0], K = w_rows.shape[1]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], P = OH * OW
    cdef Py_ssize_t at, start, n, i, f, p
    cdef floating* y
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] phases = np.empty(WW * (OW + WW), dtype=dtype)
    with nogil:
        while True:
            at = gk_claim(&counter[0])
            if at >= count:
                break
            start = bounds[at]
            n = bounds[at + 1] - start
            _gather_images(&x[start, 0, 0, 0], &cols[0], n, C, H, W, HH, WW, stride, pad, OH,
                           OW, &phases[0])
            for i in range(n):  # the bias first, then the product added on: one pass less
                y = &out[start + i, 0, 0, 0]
                for f in range(F):
                    for p in range(P):
                        y[f * P + p] = b[f]
                _gemm(False, False, F, P, K, &w_rows[0, 0], K, &cols[i * P], n * P, y, P, True)


def im2col_backward(
    chunks, const floating[:, :, :, ::1] x, const floating[:, ::1] w_rows,
    const floating[:, :, :, ::1] dout, floating[:, :, :, ::1] dx, floating[:, :, ::1] dw_parts,
    Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride, Py_ssize_t pad, floating[::1] cols,
    floating[::1] d,
):
    """dw_parts[chunk] = dout @ columns^T; dx = the scattered w_rows^T @ dout, per chunk."""
    cdef int64_t[::1] bounds = chunks.bounds, counter = chunks.counter
    cdef Py_ssize_t count = bounds.shape[0] - 1, C = x.shape[1], H = x.shape[2]
    cdef Py_ssize_t W = x.shape[3], F = w_rows.shape[0], K = w_rows.shape[1]
    cdef Py_ssize_t OH = dout.shape[2], OW = dout.shape[3], P = OH * OW
    cdef Py_ssize_t at, start, n, i, f, s, r
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] phases = np.empty(WW * (OW + WW), dtype=dtype)
    with nogil:
        while True:
            at = gk_claim(&counter[0])
            if at >= count:
                break
            start = bounds[at]
            n = bounds[at + 1] - start
            _gather_images(&x[start, 0, 0, 0], &cols[0], n, C, H, W, HH, WW, stride, pad, OH,
                           OW, &phases[0])
            for i in range(n):  # dout of the chunk, filter by filter: (F, n*P)
                for f in range(F):
                    memcpy(&d[(f * n + i) * P], &dout[start + i, f, 0, 0], P * sizeof(floating))
            # in runs of positions: OpenBLAS multiplies these thin matrices up to twice as
            # fast in pieces of about a thousand columns as in one
            for s in range(0, n * P, 1024):
                r = min(1024, n * P - s)
                _gemm(False, True, F, K, r, &d[s], n * P, &cols[s], n * P, &dw_parts[at, 0, 0],
                      K, s > 0)
            for s in range(0, n * P, 1024):  # cols is read up: it takes the columns' gradient
                r = min(1024, n * P - s)
                _gemm(True, False, K, r, F, &w_rows[0, 0], K, &d[s], n * P, &cols[s], n * P)
            memset(&dx[start, 0, 0, 0], 0, n * C * H * W * sizeof(floating))
            _scatter_images(&cols[0], &dx[start, 0, 0, 0], n, C, H, W, HH, WW, stride, pad,
                            OH, OW, &phases[0])  # the columns' gradient now fills cols


def winograd_forward(
    chunks, const floating[:, :, :, ::1] x, const floating[:, :, ::1] U, const floating[::1] b,
    floating[:, :, :, ::1] out, Py_ssize_t pad, floating[::1] V, floating[::1] M,
):
    """out = the tiles' inverse transforms of U @ transformed tiles, per chunk claimed."""
    cdef int64_t[::1] bounds = chunks.bounds, counter = chunks.counter
    cdef Py_ssize_t count = bounds.shape[0] - 1, C = x.shape[1], H = x.shape[2]
    cdef Py_ssize_t W = x.shape[3], F = U.shape[1], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t TH = (OH + 1) // 2, TW = (OW + 1) // 2, T = TH * TW
    cdef Py_ssize_t at, start, n, e, t
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] work = np.empty(16 * (TH + 1) * TW + 2 * TW + 2, dtype=dtype)
    with nogil:
        while True:
            at = gk_claim(&counter[0])
            if at >= count:
                break
            start = bounds[at]
            n = bounds[at + 1] - start
            t = n * T
            _winograd_in_images(&x[start, 0, 0, 0], &V[0], n, C, H, W, pad, TH, TW, t,
                                &work[0])
            for e in range(16):
                _gemm(False, False, F, t, C, &U[e, 0, 0], C, &V[e * C * t], t, &M[e * F * t], t)
            _winograd_out_images(&M[0], &b[0], &out[start, 0, 0, 0], n, F, OH, OW, t, &work[0])


def winograd_backward(
    chunks, const floating[:, :, :, ::1] x, const floating[:, :, ::1] U,
    const floating[:, :, :, ::1] dout, floating[:, :, :, ::1] dx, floating[:, :, :, ::1] dU_parts,
    Py_ssize_t pad, floating[::1] V, floating[::1] M,
):
    """dU_parts[chunk] = dM @ V^T and dx = the adjoint input transform of U^T @ dM."""
    cdef int64_t[::1] bounds = chunks.bounds, counter = chunks.counter
    cdef Py_ssize_t count = bounds.shape[0] - 1, C = x.shape[1], H = x.shape[2]
    cdef Py_ssize_t W = x.shape[3], F = U.shape[1], OH = dout.shape[2], OW = dout.shape[3]
    cdef Py_ssize_t TH = (OH + 1) // 2, TW = (OW + 1) // 2, T = TH * TW
    cdef Py_ssize_t at, start, n, e, t
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] work = np.empty(16 * (TH + 1) * TW + 2 * TW + 2, dtype=dtype)
    with nogil:
        while True:
            at = gk_claim(&counter[0])
            if at >= count:
                break
            start = bounds[at]
            n = bounds[at + 1] - start
            t = n * T
            _winograd_in_images(&x[start, 0, 0, 0], &V[0], n, C, H, W, pad, TH, TW, t,
                                &work[0])
            _winograd_out_adjoint_images(&dout[start, 0, 0, 0], &M[0], n, F, OH, OW, t,
                                         &work[0])
            for e in range(16):
                _gemm(False, True, F, C, t, &M[e * F * t], t, &V[e * C * t], t,
                      &dU_parts[at, e, 0, 0], C)
                _gemm(True, False, C, t, F, &U[e, 0, 0], C, &M[e * F * t], t, &V[e * C * t], t)
            _winograd_in_adjoint_images(&V[0], &dx[start, 0, 0, 0], n, C, H, W, pad, TH, TW, t,
                                        &work[0])
