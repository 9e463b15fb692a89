"""Fast convolution and max-pooling layers, as given to students.

Same signatures, dict conventions and caches-in/gradients-out contract as the naive layers
(``conv_param = {'stride', 'pad'}``, ``pool_param = {'pool_height', 'pool_width', 'stride'}``).
A convolution is an im2col gather, a matrix product on NumPy's BLAS and, backwards, a col2im
scatter-add, done over cache-sized chunks of the batch so the column matrix never has to be
written out in full (nor kept in the cache: it is gathered again for the backward pass).
float32 3x3 filters at stride 1 take Winograd's F(2x2, 3x3) instead: 16 products of
transformed tiles, 2.25 times fewer multiplications. The gathers, scatters, transforms and
pooling run in a compiled extension (``BACKEND == "cython"``), or in NumPy, with a single
warning at import, when it is not built (``BACKEND == "numpy"``).

The chunks are shared out among as many threads as NumPy's BLAS may use (so
``threadpoolctl.threadpool_limits`` and ``OPENBLAS_NUM_THREADS`` apply), each doing its
chunks' gathers, single-threaded products and scatters: no thread waits for another between
the stages, one thread's memory-bound gather overlaps another's product, and nothing
depends on an OpenMP runtime whose idle threads spin or sleep depending on who loaded it
first. Results do not depend on the number of threads.

Unlike the classic CS231n fast layers, these work for any stride and padding, non-square
kernels and pools that do not tile the input (no assertion, no silent slow path); they keep
float32 as float32; and pooling routes a tied window's whole gradient to the FIRST maximum in
row-major order, exactly like the naive layer, instead of sharing it among all the maxima.
"""

from __future__ import annotations

import itertools
import math
import operator
import os
import threading
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from gradekit.fast_layers import _numpy_kernels

try:
    from gradekit.fast_layers import _kernels as _backend

    BACKEND = "cython"
except ImportError as error:
    _backend = _numpy_kernels
    BACKEND = "numpy"
    warnings.warn(
        f"gradekit's compiled conv/pool kernels are unavailable ({error}); using the slower "
        "NumPy fallback. Reinstall gradekit with a C compiler present (`pip install -e .`) "
        "to build them.",
        RuntimeWarning,
        stacklevel=2,
    )

_Cache = tuple[Any, ...]
_Work = Callable[["_Chunks"], None]

# Columns of at most this many bytes per chunk: big enough to keep BLAS efficient, small
# enough to stay in cache between the gather, the product and the scatter.
_COLUMN_BYTES = 1 << 20
# A layer is cut into this many chunks when they would be smaller than _COLUMN_BYTES, so
# that the threads can share it evenly, but into none smaller than _SMALLEST_CHUNK_BYTES:
# handing a thread less work costs more than it saves.
_CHUNKS = 8
_SMALLEST_CHUNK_BYTES = 64 << 10

# Scratch buffers up to this size stay with their thread between calls.
_KEPT_SCRATCH_BYTES = 32 << 20

_blas: Any = None  # threadpoolctl's handle on NumPy's BLAS; False when there is none
_direct_blas: bool | None = None  # whether the extension calls that BLAS itself
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()  # one layer at a time owns the pool and BLAS's thread count
_local = threading.local()


def _forget_pool() -> None:
    """A forked child has none of its parent's threads: it starts a pool of its own."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _numpy_blas() -> Any:
    """threadpoolctl's controller of the BLAS NumPy multiplies with, looked up once."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        found = ThreadpoolController().select(user_api="blas").lib_controllers
        _blas = next((c for c in found if "numpy" in c.filepath), found[0] if found else False)
    return _blas


def _thread_count() -> int:
    """As many threads as NumPy's BLAS may use now; one when its BLAS is out of reach."""
    blas = _numpy_blas()
    return max(1, blas.num_threads or 1) if blas else 1


def _scratch(slot: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """This thread's buffer for ``slot``, kept from one call to the next: its memory is
    already mapped and likely in this core's caches, which fresh memory is not."""
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size > _KEPT_SCRATCH_BYTES:
        return np.empty(shape, dtype)
    buffers = _local.__dict__.setdefault("buffers", {})
    if slot not in buffers or buffers[slot].size < size:
        buffers[slot] = np.empty(size, np.uint8)
    return buffers[slot][:size].view(dtype).reshape(shape)


def _chunks(n_images: int, image_bytes: int) -> list[slice]:
    """Runs of images, as equal as can be, whatever the thread count: the chunks' partial
    sums of dw add up to the same dw on any machine."""
    total = n_images * image_bytes
    size = min(_COLUMN_BYTES, max(_SMALLEST_CHUNK_BYTES, total // _CHUNKS))
    count = min(max(1, n_images), max(1, -(-total // size)))
    bounds = [n_images * k // count for k in range(count + 1)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds) if stop > start]


class _Chunks:
    """One layer call's chunks, each handed to the first thread that asks for the next one.

    Python code iterates over ``(index, slice)`` pairs; the compiled pipelines claim
    indices into ``bounds`` (the chunks' first images, then the last one's end) with an
    atomic increment of ``counter``, without the GIL. A call uses one way or the other.
    """

    def __init__(self, chunks: list[slice]) -> None:
        self.slices = chunks
        self.bounds = np.array([0, *(chunk.stop for chunk in chunks)], dtype=np.int64)
        self.counter = np.zeros(1, dtype=np.int64)
        self._claims = itertools.count()

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> tuple[int, slice]:
        at = next(self._claims)  # one bytecode-free call: atomic under the GIL
        if at >= len(self.slices):
            raise StopIteration
        return at, self.slices[at]


def _compiled_pipelines() -> bool:
    """Whether the compiled chunk pipelines can run: the extension is the backend, and it
    can call NumPy's BLAS directly (an OpenBLAS, as in NumPy's wheels)."""
    global _direct_blas
    if _backend is not _numpy_kernels and _direct_blas is None:
        blas = _numpy_blas()
        _direct_blas = bool(blas) and blas.internal_api == "openblas" and bool(
            _backend.use_blas(blas.filepath))
    return _backend is not _numpy_kernels and bool(_direct_blas)


def _run(work: _Work, chunks: list[slice], first: Callable[[], Any] | None = None) -> None:
    """Call ``work`` on one shared ``_Chunks`` of the chunks in each of the threads.

    Each thread takes the next chunk when done with one. While more than one thread runs,
    BLAS runs single-threaded inside each: the threads already use every core it may use.
    ``first``, if given, runs on this thread while the others wake up.
    """
    global _pool, _pool_size
    threads = min(_thread_count(), len(chunks))
    todo = _Chunks(chunks)
    if threads <= 1:
        if first is not None:
            first()
        work(todo)
        return
    with _pool_lock:
        if _pool_size < threads - 1:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="gradekit-fast-layers")
            _pool_size = threads - 1
        blas = _numpy_blas()
        blas_threads = blas.num_threads
        blas.set_num_threads(1)
        try:
            others = [_pool.submit(work, todo) for _ in range(threads - 1)]
            try:
                if first is not None:
                    first()
                work(todo)
            finally:
                errors = [other.exception() for other in others]
            for error in errors:
                if error is not None:
                    raise error
        finally:
            blas.set_num_threads(blas_threads)


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
    out = np.empty((N, F, OH, OW), dtype=dtype)
    if _winograd_suits(w, stride):
        _winograd_forward(x, w, b, pad, out)
    else:
        _im2col_forward(x, w, b, stride, pad, out)
    return out, (x, w, b, conv_param)


def conv_backward_fast(
    dout: np.ndarray, cache: _Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dw, db)`` for the convolution that produced ``cache``.

    The columns (or tiles) are gathered again chunk by chunk rather than kept from the
    forward pass: a gather from cache-hot input costs less than storing and re-reading the
    whole column matrix, and the cache stays as small as the naive layer's.
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
    dx = np.empty_like(x)
    db = np.empty(F, dtype=x.dtype)

    def bias_gradient() -> None:  # summed as the naive layer sums it
        np.sum(dout, axis=(0, 2, 3), out=db)

    if _winograd_suits(w, stride):
        dw = _winograd_backward(dout, x, w, pad, dx, bias_gradient)
    else:
        dw = _im2col_backward(dout, x, w, stride, pad, dx, bias_gradient)
    return dx, dw, db


def _im2col_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int,
                    out: np.ndarray) -> None:
    """out = the convolution: filters times columns, image by image."""
    F, _, HH, WW = w.shape
    OH, OW = out.shape[2:]
    w_rows = np.ascontiguousarray(w.reshape(F, -1))
    K = w_rows.shape[1]
    chunks = _chunks(x.shape[0], K * OH * OW * x.itemsize)
    if _compiled_pipelines():
        columns = K * OH * OW * max((c.stop - c.start for c in chunks), default=0)
        b = np.ascontiguousarray(b)
        _run(lambda todo: _backend.im2col_forward(
            todo, x, w_rows, b, out, HH, WW, stride, pad, _scratch("cols", (columns,), x.dtype)),
            chunks)
        return

    def work(todo: _Chunks) -> None:
        for _, chunk in todo:
            n = chunk.stop - chunk.start
            cols = _backend.im2col(x[chunk], HH, WW, stride, pad,
                                   out=_scratch("cols", (K, n * OH * OW), x.dtype))
            images = out[chunk].reshape(n, F, OH * OW)  # one product per image, in place
            np.matmul(w_rows, cols.reshape(K, n, OH * OW).transpose(1, 0, 2), out=images)
            images += b.reshape(F, 1)

    _run(work, chunks)


def _im2col_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int, pad: int,
                     dx: np.ndarray, first: Callable[[], Any] | None = None) -> np.ndarray:
    """Fill dx and return dw: per chunk, dw += dout times columns^T, and the columns'
    gradient filters^T times dout scattered onto dx. ``first`` goes to ``_run``."""
    F, _, HH, WW = w.shape
    OH, OW = dout.shape[2:]
    w_rows = np.ascontiguousarray(w.reshape(F, -1))
    K = w_rows.shape[1]
    chunks = _chunks(x.shape[0], K * OH * OW * x.itemsize)
    dw_parts = np.empty((len(chunks), F, K), dtype=x.dtype)
    if _compiled_pipelines():
        positions = OH * OW * max((c.stop - c.start for c in chunks), default=0)
        dout = np.ascontiguousarray(dout)
        _run(lambda todo: _backend.im2col_backward(
            todo, x, w_rows, dout, dx, dw_parts, HH, WW, stride, pad,
            _scratch("cols", (K * positions,), x.dtype), _scratch("dout", (F * positions,),
                                                                    x.dtype)), chunks, first)
        return dw_parts.sum(axis=0).reshape(w.shape)

    def work(todo: _Chunks) -> None:
        for at, chunk in todo:
            n = (chunk.stop - chunk.start) * OH * OW
            cols = _backend.im2col(x[chunk], HH, WW, stride, pad,
                                   out=_scratch("cols", (K, n), x.dtype))
            d_chunk = _scratch("dout", (F, n), x.dtype)
            np.copyto(d_chunk.reshape(F, -1, OH, OW), dout[chunk].transpose(1, 0, 2, 3))
            np.matmul(d_chunk, cols.T, out=dw_parts[at])
            d_cols = np.matmul(w_rows.T, d_chunk, out=cols)  # the columns are used up
            dx[chunk] = 0
            _backend.col2im_add(d_cols, dx[chunk], HH, WW, stride, pad)

    _run(work, chunks, first)
    # summed in chunk order, not as threads finish: the same dw on any number of threads
    return dw_parts.sum(axis=0).reshape(w.shape)


def _winograd_suits(w: np.ndarray, stride: int) -> bool:
    """Winograd's F(2x2, 3x3) for float32 3x3 filters at stride 1: 2.25 times fewer
    multiplications than the direct sum. Its rounding error is a small multiple of the
    direct sum's, fine for float32; float64, what grading compares in, keeps the direct
    sum."""
    return w.dtype == np.float32 and w.shape[2:] == (3, 3) and stride == 1


def _winograd_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int,
                      out: np.ndarray) -> None:
    """out = the convolution, as 16 matrix products per chunk of transformed tiles."""
    N, C, H, W = x.shape
    F = w.shape[0]
    tiles = ((H + 2 * pad - 1) // 2) * ((W + 2 * pad - 1) // 2)
    U = _backend.winograd_filters(w)
    chunks = _chunks(N, 16 * max(C, F) * tiles * x.itemsize)
    if _compiled_pipelines():
        t = tiles * max((c.stop - c.start for c in chunks), default=0)
        b = np.ascontiguousarray(b)
        _run(lambda todo: _backend.winograd_forward(
            todo, x, U, b, out, pad, _scratch("tiles", (16 * C * t,), x.dtype),
            _scratch("product", (16 * F * t,), x.dtype)), chunks)
        return

    def work(todo: _Chunks) -> None:
        for _, chunk in todo:
            t = (chunk.stop - chunk.start) * tiles
            V = _backend.winograd_input(x[chunk], pad, out=_scratch("tiles", (16, C, t), x.dtype))
            M = np.matmul(U, V, out=_scratch("product", (16, F, t), x.dtype))
            _backend.winograd_output(M, b, out[chunk])

    _run(work, chunks)


def _winograd_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, pad: int,
                       dx: np.ndarray, first: Callable[[], Any] | None = None) -> np.ndarray:
    """Fill dx and return dw: the adjoint of ``_winograd_forward``, step by step.
    ``first`` goes to ``_run``."""
    N, C, H, W = x.shape
    F = w.shape[0]
    tiles = ((H + 2 * pad - 1) // 2) * ((W + 2 * pad - 1) // 2)
    U = _backend.winograd_filters(w)
    dout = np.ascontiguousarray(dout)
    chunks = _chunks(N, 16 * max(C, F) * tiles * x.itemsize)
    dU_parts = np.empty((len(chunks), 16, F, C), dtype=x.dtype)
    if _compiled_pipelines():
        t = tiles * max((c.stop - c.start for c in chunks), default=0)
        _run(lambda todo: _backend.winograd_backward(
            todo, x, U, dout, dx, dU_parts, pad, _scratch("tiles", (16 * C * t,), x.dtype),
            _scratch("product", (16 * F * t,), x.dtype)), chunks, first)
        return _backend.winograd_filters_adjoint(dU_parts.sum(axis=0))

    def work(todo: _Chunks) -> None:
        for at, chunk in todo:
            t = (chunk.stop - chunk.start) * tiles
            V = _backend.winograd_input(x[chunk], pad, out=_scratch("tiles", (16, C, t), x.dtype))
            dM = _backend.winograd_output_adjoint(
                dout[chunk], out=_scratch("product", (16, F, t), x.dtype))
            np.matmul(dM, V.transpose(0, 2, 1), out=dU_parts[at])
            dV = np.matmul(U.transpose(0, 2, 1), dM, out=V)  # the tiles are used up
            _backend.winograd_input_adjoint(dV, dx[chunk], pad)

    _run(work, chunks, first)
    # summed in chunk order, not as threads finish: the same dw on any number of threads
    return _backend.winograd_filters_adjoint(dU_parts.sum(axis=0))


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
    N, C, H, W = x.shape
    shape = (N, C, _out_size(H, ph, stride, 0, "pool"), _out_size(W, pw, stride, 0, "pool"))
    out, argmax = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.intp)

    def work(todo: _Chunks) -> None:
        for _, chunk in todo:
            _backend.max_pool_forward(x[chunk], ph, pw, stride, out=(out[chunk], argmax[chunk]))

    _run(work, _chunks(N, x[:1].nbytes))
    return out, (x, pool_param, argmax)


def max_pool_backward_fast(dout: np.ndarray, cache: _Cache) -> np.ndarray:
    """Return dx: each window's gradient goes to its (first) maximum; overlaps accumulate."""
    x, _, argmax = cache
    if np.shape(dout) != argmax.shape:
        raise ValueError(f"dout has shape {np.shape(dout)}, but the forward pass produced "
                         f"{argmax.shape}")
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    dx = np.empty_like(x)

    def work(todo: _Chunks) -> None:
        for _, chunk in todo:
            _backend.max_pool_backward(dout[chunk], argmax[chunk], x.shape[2], x.shape[3],
                                       out=dx[chunk])

    _run(work, _chunks(x.shape[0], x[:1].nbytes))
    return dx
