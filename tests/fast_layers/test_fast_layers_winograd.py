"""Winograd's F(2x2, 3x3), which the fast layers use for float32 3x3 filters at stride 1."""

import numpy as np
import pytest

import gradekit.fast_layers as fast
from gradekit.fast_layers import _kernels, _numpy_kernels
from reference.cs231n import layers as naive

CASES = [  # x shape, filters, pad
    ((2, 3, 7, 9), 4, 1),  # odd sizes: the last row and column of tiles stick out
    ((1, 2, 5, 5), 3, 0),
    ((2, 2, 6, 4), 2, 2),
    ((3, 4, 16, 16), 5, 1),
    ((1, 1, 3, 3), 1, 0),  # a single output pixel
    ((2, 1, 1, 1), 2, 2),  # padding wider than the image
]


@pytest.fixture(params=["cython", "numpy"])
def backend(request, monkeypatch):
    kernels = _kernels if request.param == "cython" else _numpy_kernels
    monkeypatch.setattr(fast, "_backend", kernels)
    return kernels


def transforms(kernels, x_shape, F, pad, dtype):
    """Every transform of one backend, on the same random arrays for either backend."""
    rng = np.random.default_rng(5)
    N, C, H, W = x_shape
    OH, OW = H + 2 * pad - 2, W + 2 * pad - 2
    tiles = N * ((OH + 1) // 2) * ((OW + 1) // 2)
    x, dV = (rng.standard_normal(shape).astype(dtype) for shape in (x_shape, (16, C, tiles)))
    M, dy = (rng.standard_normal(shape).astype(dtype) for shape in ((16, F, tiles),
                                                                    (N, F, OH, OW)))
    w, dU = (rng.standard_normal(shape).astype(dtype) for shape in ((F, C, 3, 3), (16, F, C)))
    b = rng.standard_normal(F).astype(dtype)
    y, dx = np.full(dy.shape, np.nan, dtype), np.full(x_shape, np.nan, dtype)
    kernels.winograd_output(M, b, y)
    kernels.winograd_input_adjoint(dV, dx, pad)
    return {"V": kernels.winograd_input(x, pad), "y": y, "dx": dx,
            "dM": kernels.winograd_output_adjoint(dy), "U": kernels.winograd_filters(w),
            "dw": kernels.winograd_filters_adjoint(dU)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "F", "pad"), CASES)
def test_compiled_transforms_equal_numpy_transforms(dtype, x_shape, F, pad):
    compiled = transforms(_kernels, x_shape, F, pad, dtype)
    reference = transforms(_numpy_kernels, x_shape, F, pad, dtype)
    for name, got in compiled.items():
        assert got.dtype == dtype, name
        # the same sums in the same order: equal but for the compiler's contractions
        np.testing.assert_allclose(got, reference[name], rtol=0, atol=1e-12 if dtype ==
                                   np.float64 else 1e-5, err_msg=name)


@pytest.mark.parametrize("kernels", [_kernels, _numpy_kernels], ids=["cython", "numpy"])
@pytest.mark.parametrize(("x_shape", "F", "pad"), CASES)
def test_each_adjoint_is_the_transpose_of_its_transform(kernels, x_shape, F, pad):
    """<T(a), c> == <a, T^T(c)>: the backward pass differentiates the forward pass."""
    rng = np.random.default_rng(7)
    N, C, H, W = x_shape
    OH, OW = H + 2 * pad - 2, W + 2 * pad - 2
    x = rng.standard_normal(x_shape)
    V = kernels.winograd_input(x, pad)
    dV = rng.standard_normal(V.shape)
    dx = np.full(x_shape, np.nan)
    kernels.winograd_input_adjoint(dV, dx, pad)
    np.testing.assert_allclose(np.vdot(V, dV), np.vdot(x, dx), rtol=1e-12)

    M = rng.standard_normal((16, F, V.shape[2]))
    y = np.full((N, F, OH, OW), np.nan)
    kernels.winograd_output(M, np.zeros(F), y)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(np.vdot(y, dy), np.vdot(M, kernels.winograd_output_adjoint(dy)),
                               rtol=1e-12)

    w = rng.standard_normal((F, C, 3, 3))
    dU = rng.standard_normal((16, F, C))
    np.testing.assert_allclose(np.vdot(kernels.winograd_filters(w), dU),
                               np.vdot(w, kernels.winograd_filters_adjoint(dU)), rtol=1e-12)


def naive_and_scale(x, w, b, pad, dout):
    """The naive layer's results, and the sums of the absolute values of their terms."""
    param = {"stride": 1, "pad": pad}
    out, cache = naive.conv_forward_naive(x, w, b, param)
    abs_out, abs_cache = naive.conv_forward_naive(abs(x), abs(w), abs(b), param)
    return ([out, *naive.conv_backward_naive(dout, cache)],
            [abs_out, *naive.conv_backward_naive(abs(dout), abs_cache)])


@pytest.mark.parametrize(("x_shape", "F", "pad"), CASES)
def test_winograd_in_float64_matches_naive(backend, x_shape, F, pad):
    """The algorithm is exact up to rounding: in float64, to 1e-10 of the terms' magnitude,
    like the direct sum."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((F, x_shape[1], 3, 3))
    b = rng.standard_normal(F)
    out = np.empty((x_shape[0], F, x_shape[2] + 2 * pad - 2, x_shape[3] + 2 * pad - 2))
    fast._winograd_forward(x, w, b, pad, out)
    dout = rng.standard_normal(out.shape)
    dx = np.empty_like(x)
    dw = fast._winograd_backward(dout, x, w, pad, dx)
    want, scale = naive_and_scale(x, w, b, pad, dout)
    for name, got, e, s in zip(["out", "dx", "dw"], [out, dx, dw], want[:3], scale[:3],
                               strict=True):
        assert np.all(abs(got - e) <= 1e-10 * s), name


@pytest.mark.parametrize(("x_shape", "F", "pad"), CASES)
def test_float32_3x3_layers_match_naive_to_float32_rounding(backend, x_shape, F, pad):
    rng = np.random.default_rng(13)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((F, x_shape[1], 3, 3))
    b = rng.standard_normal(F)
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    assert fast._winograd_suits(w32, 1)
    out, cache = fast.conv_forward_fast(x32, w32, b32, {"stride": 1, "pad": pad})
    dout = rng.standard_normal(out.shape).astype(np.float32)
    got = [out, *fast.conv_backward_fast(dout, cache)]
    want, scale = naive_and_scale(*(a.astype(np.float64) for a in (x32, w32, b32)), pad,
                                  dout.astype(np.float64))
    for name, g, e, s in zip(["out", "dx", "dw", "db"], got, want, scale, strict=True):
        assert g.dtype == np.float32, name
        assert np.all(abs(g - e) <= 1e-5 * s), name  # about 100 float32 ulps of the terms


def test_only_float32_3x3_stride_1_filters_take_winograd():
    w = np.zeros((2, 2, 3, 3), np.float32)
    assert fast._winograd_suits(w, 1)
    assert not fast._winograd_suits(w, 2)
    assert not fast._winograd_suits(w.astype(np.float64), 1)
    assert not fast._winograd_suits(np.zeros((2, 2, 3, 2), np.float32), 1)
