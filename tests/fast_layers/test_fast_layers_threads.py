"""The layers' own threads: as many as NumPy's BLAS may use, same results on any number."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import gradekit.fast_layers as fast
from gradekit.fast_layers import _kernels, _numpy_kernels

CONV_CASES = [  # x shape, w shape, stride, pad, dtype
    ((12, 3, 15, 15), (4, 3, 3, 3), 2, 1, np.float64),
    ((12, 3, 16, 16), (4, 3, 5, 5), 1, 2, np.float64),
    ((12, 8, 16, 16), (6, 8, 3, 3), 1, 1, np.float32),  # Winograd
]


def conv_results(x_shape, w_shape, stride, pad, dtype):
    rng = np.random.default_rng(3)
    x, w = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape))
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    out, cache = fast.conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    return [out, *fast.conv_backward_fast(rng.standard_normal(out.shape).astype(dtype), cache)]


def pool_results():
    x = np.random.default_rng(4).standard_normal((40, 6, 17, 17))
    out, cache = fast.max_pool_forward_fast(x, {"pool_height": 3, "pool_width": 3, "stride": 2})
    return [out, fast.max_pool_backward_fast(np.ones_like(out), cache)]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks small enough that the test shapes span several."""
    monkeypatch.setattr(fast, "_COLUMN_BYTES", 16 << 10)


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad", "dtype"), CONV_CASES)
def test_conv_results_do_not_depend_on_the_thread_count(small_chunks, x_shape, w_shape,
                                                        stride, pad, dtype):
    with threadpool_limits(1):
        one = conv_results(x_shape, w_shape, stride, pad, dtype)
    with threadpool_limits(2):
        two = conv_results(x_shape, w_shape, stride, pad, dtype)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pool_results_do_not_depend_on_the_thread_count(small_chunks):
    with threadpool_limits(1):
        one = pool_results()
    with threadpool_limits(2):
        two = pool_results()
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(params=["cython", "numpy"])
def backend(request, monkeypatch):
    """The kernels the layers run on, and the function each thread runs for a chunk: the
    compiled pipeline (one call per thread) or, on NumPy, the gather (one per chunk)."""
    kernels = _kernels if request.param == "cython" else _numpy_kernels
    monkeypatch.setattr(fast, "_backend", kernels)
    return kernels, "im2col_forward" if request.param == "cython" else "im2col"


def threads_used(monkeypatch, backend):
    """Run a convolution; the threads its chunks were worked on."""
    kernels, entry = backend
    seen = set()
    original = getattr(kernels, entry)

    def recording(*args, **kwargs):
        seen.add(threading.get_ident())
        time.sleep(0.01)  # long enough for the other thread to get going too
        return original(*args, **kwargs)

    monkeypatch.setattr(kernels, entry, recording)
    conv_results(*CONV_CASES[0])
    return seen


def test_the_chunks_are_shared_by_as_many_threads_as_blas_may_use(small_chunks, monkeypatch,
                                                                  backend):
    with threadpool_limits(2):
        assert len(threads_used(monkeypatch, backend)) == 2
    with threadpool_limits(1):
        assert threads_used(monkeypatch, backend) == {threading.get_ident()}


def test_blas_gets_its_thread_count_back_even_when_a_chunk_fails(small_chunks, monkeypatch,
                                                                 backend):
    kernels, entry = backend
    calls = []

    def failing(*args, **kwargs):
        calls.append(fast._numpy_blas().num_threads)  # single-threaded inside the layer
        raise RuntimeError("chunk failed")

    monkeypatch.setattr(kernels, entry, failing)
    with threadpool_limits(2):
        with pytest.raises(RuntimeError, match="chunk failed"):
            conv_results(*CONV_CASES[0])
        assert fast._numpy_blas().num_threads == 2
    assert set(calls) == {1}


def test_the_compiled_kernels_release_the_gil():
    """The calling thread keeps running Python while another thread is inside a kernel."""
    x = np.random.default_rng(0).standard_normal((40, 16, 64, 64))
    cols = np.empty((16 * 49, 40 * 64 * 64))
    done = threading.Event()

    def gather():
        for _ in range(3):
            _kernels.im2col(x, 7, 7, 1, 3, out=cols)
        done.set()

    worker = threading.Thread(target=gather)
    start = time.perf_counter()
    worker.start()
    beats = 0
    while not done.is_set():
        beats += 1
        time.sleep(0.001)
    worker.join()
    assert time.perf_counter() - start > 0.05  # the kernels took a while ...
    assert beats > 10  # ... and this thread was not held up meanwhile


FORKED_CHILD = """
import multiprocessing, sys
import numpy as np
from threadpoolctl import threadpool_limits
import gradekit.fast_layers as fast

fast._COLUMN_BYTES = 16 << 10
x = np.random.default_rng(0).standard_normal((12, 3, 16, 16))
w, b = np.ones((4, 3, 3, 3)), np.zeros(4)

def conv():
    with threadpool_limits(2):
        return fast.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})[0].sum()

expected = conv()  # the parent's pool has threads now; a forked child has none of them
child = multiprocessing.get_context("fork").Process(
    target=lambda: sys.exit(int(conv() != expected)))
child.start()
child.join(30)
print(child.exitcode)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_threads_of_its_own():
    result = subprocess.run([sys.executable, "-c", FORKED_CHILD], capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "0", result.stderr
