"""The kernel contract both backends share (see ``gradekit/fast_layers/_numpy_kernels.py``)."""

import numpy as np
import pytest

from gradekit.fast_layers import _kernels, _numpy_kernels

GEOMETRIES = [  # x shape, kernel height, kernel width, stride, pad
    ((2, 3, 7, 9), 3, 2, 2, 1),
    ((3, 2, 8, 5), 1, 3, 3, 0),
    ((1, 1, 4, 6), 2, 2, 2, 3),
    ((2, 4, 6, 6), 4, 3, 4, 2),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "HH", "WW", "stride", "pad"), GEOMETRIES)
def test_compiled_gather_equals_numpy_gather(dtype, x_shape, HH, WW, stride, pad):
    x = np.random.default_rng(0).standard_normal(x_shape).astype(dtype)
    compiled = _kernels.im2col(x, HH, WW, stride, pad)
    assert compiled.dtype == dtype
    np.testing.assert_array_equal(compiled, _numpy_kernels.im2col(x, HH, WW, stride, pad))


@pytest.mark.parametrize("kernels", [_kernels, _numpy_kernels], ids=["cython", "numpy"])
@pytest.mark.parametrize(("x_shape", "HH", "WW", "stride", "pad"), GEOMETRIES)
def test_scatter_add_is_the_adjoint_of_the_gather(kernels, x_shape, HH, WW, stride, pad):
    """<im2col(x), c> == <x, col2im(c)> for all x, c: the backward pass of the gather."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    cols = rng.standard_normal(kernels.im2col(x, HH, WW, stride, pad).shape)
    dx = np.full(x_shape, 2.0)
    kernels.col2im_add(cols, dx, HH, WW, stride, pad)
    added = dx - 2.0  # the scatter adds onto what is already there
    np.testing.assert_allclose(np.vdot(kernels.im2col(x, HH, WW, stride, pad), cols),
                               np.vdot(x, added), rtol=1e-12)


@pytest.mark.parametrize("kernels", [_kernels, _numpy_kernels], ids=["cython", "numpy"])
def test_pool_argmax_is_a_flat_in_plane_index(kernels):
    x = np.zeros((1, 2, 3, 4))
    x[0, 0, 1, 2] = x[0, 1, 2, 3] = 1.0
    out, argmax = kernels.max_pool_forward(x, 3, 4, 1)
    assert argmax.dtype == np.intp
    np.testing.assert_array_equal(argmax.ravel(), [1 * 4 + 2, 2 * 4 + 3])
    np.testing.assert_array_equal(out.ravel(), [1.0, 1.0])


def test_the_compiled_pipelines_call_numpys_openblas():
    """NumPy's wheels bring an OpenBLAS: the pipelines multiply with it, without the GIL."""
    import gradekit.fast_layers as fast

    assert fast._compiled_pipelines()


def test_a_library_without_openblas_symbols_is_refused():
    import ctypes.util

    assert _kernels.use_blas(ctypes.util.find_library("c")) is False
