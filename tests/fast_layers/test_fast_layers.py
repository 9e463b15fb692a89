"""The public fast layers against the reference's naive layers, on both kernel backends."""

import numpy as np
import pytest

import gradekit.fast_layers as fast
from gradekit.fast_layers import _kernels, _numpy_kernels
from gradekit.gradient_check import rel_error
from gradekit.providers import public_names
from reference.cs231n import layers as naive

TOLERANCE = 1e-10
NOTEBOOK_TOLERANCE = 1e-9

CONV_CASES = [  # x shape, w shape, stride, pad
    ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1),  # non-square kernel, odd sizes, stride leaves a border
    ((3, 2, 8, 5), (2, 2, 1, 3), 3, 0),
    ((2, 3, 5, 5), (3, 3, 5, 5), 1, 2),  # kernel as large as the input
    ((1, 1, 4, 6), (1, 1, 2, 2), 2, 3),  # padding wider than the kernel: all-zero windows
    ((4, 3, 11, 10), (5, 3, 3, 3), 1, 1),
    ((2, 3, 16, 16), (3, 3, 7, 7), 1, 3),
    ((3, 2, 9, 9), (2, 2, 4, 3), 4, 2),  # stride larger than the kernel
]

POOL_CASES = [  # x shape, pool height, pool width, stride
    ((2, 3, 8, 8), 2, 2, 2),  # tiles the input
    ((2, 3, 9, 7), 3, 2, 2),  # overlapping, non-square, leaves a border
    ((2, 2, 7, 7), 3, 3, 1),
    ((2, 2, 5, 8), 2, 3, 3),  # gaps between windows
    ((3, 4, 16, 16), 3, 3, 2),
]


@pytest.fixture(params=["cython", "cython-numpy-products", "numpy"])
def backend(request, monkeypatch):
    """Run a test on the compiled kernels, on them with NumPy doing the matrix products (as
    where NumPy's BLAS is not an OpenBLAS the extension can call), and on the fallback."""
    kernels = _numpy_kernels if request.param == "numpy" else _kernels
    monkeypatch.setattr(fast, "_backend", kernels)
    if request.param == "cython-numpy-products":
        monkeypatch.setattr(fast, "_direct_blas", False)
    return request.param


def conv_param(stride, pad):
    return {"stride": stride, "pad": pad}


def pool_param(height, width, stride):
    return {"pool_height": height, "pool_width": width, "stride": stride}


def random_conv(rng, x_shape, w_shape, dtype=np.float64):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


def assert_conv_matches_naive(x, w, b, param, rng, dout=None):
    """Fast and naive agree to 1e-10 of the magnitude of the terms each output sums.

    An elementwise relative error is ill-conditioned where a sum nearly cancels (any
    reordering of the additions moves such an output by more than 1e-10 of itself), so the
    error of each output is measured against the sum of its terms' absolute values.
    """
    expected, naive_cache = naive.conv_forward_naive(x, w, b, param)
    out, cache = fast.conv_forward_fast(x, w, b, param)
    dout = rng.standard_normal(out.shape) if dout is None else dout
    absolute_out, absolute_cache = fast.conv_forward_fast(abs(x), abs(w), abs(b), param)
    scales = [absolute_out, *fast.conv_backward_fast(abs(dout), absolute_cache)]
    got = [out, *fast.conv_backward_fast(dout, cache)]
    want = [expected, *naive.conv_backward_naive(dout, naive_cache)]
    for name, g, e, scale in zip(["out", "dx", "dw", "db"], got, want, scales, strict=True):
        assert g.shape == e.shape, name
        assert np.all(abs(g - e) <= TOLERANCE * scale), name


def assert_pool_matches_naive(x, param, rng):
    expected, naive_cache = naive.max_pool_forward_naive(x, param)
    out, cache = fast.max_pool_forward_fast(x, param)
    np.testing.assert_array_equal(out, expected)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(
        fast.max_pool_backward_fast(dout, cache), naive.max_pool_backward_naive(dout, naive_cache)
    )


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), CONV_CASES)
def test_conv_matches_naive(backend, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(231)
    x, w, b = random_conv(rng, x_shape, w_shape)
    assert_conv_matches_naive(x, w, b, conv_param(stride, pad), rng)


@pytest.mark.parametrize(("x_shape", "height", "width", "stride"), POOL_CASES)
def test_pool_matches_naive_exactly(backend, x_shape, height, width, stride):
    rng = np.random.default_rng(231)
    assert_pool_matches_naive(rng.standard_normal(x_shape), pool_param(height, width, stride), rng)


def test_notebook_conv_vector(backend):
    """The assignment's conv_forward_naive check: x(2,3,4,4), w(3,3,4,4), stride 2, pad 1."""
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    expected, _ = naive.conv_forward_naive(x, w, b, conv_param(2, 1))
    out, _ = fast.conv_forward_fast(x, w, b, conv_param(2, 1))
    assert rel_error(out, expected) < TOLERANCE


@pytest.mark.parametrize(("height", "width", "stride"), [(2, 2, 2), (3, 3, 2), (2, 3, 1)])
def test_tied_maxima_route_the_gradient_to_the_first_maximum(backend, height, width, stride):
    x = np.zeros((1, 1, 6, 7))
    x[0, 0, 1:3, 1:3] = 1.0  # a 2x2 block of equal maxima, seen by several windows
    out, cache = fast.max_pool_forward_fast(x, pool_param(height, width, stride))
    dout = np.arange(1.0, out.size + 1).reshape(out.shape)
    dx = fast.max_pool_backward_fast(dout, cache)
    np.testing.assert_array_equal(dx, naive.max_pool_backward_naive(
        dout, naive.max_pool_forward_naive(x, pool_param(height, width, stride))[1]))
    assert dx.sum() == dout.sum()  # every window's gradient lands once, none is shared


def test_tie_inside_one_window_picks_row_major_first(backend):
    x = np.array([[[[0.0, 3.0], [3.0, 3.0]]]])
    _, cache = fast.max_pool_forward_fast(x, pool_param(2, 2, 2))
    dx = fast.max_pool_backward_fast(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_nan_is_pooled_like_numpy_max(backend):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    assert_pool_matches_naive(x, pool_param(2, 2, 2), np.random.default_rng(0))


def test_float32_stays_float32_end_to_end(backend):
    rng = np.random.default_rng(0)
    x, w, b = random_conv(rng, (2, 3, 9, 8), (4, 3, 3, 3), np.float32)
    out, cache = fast.conv_forward_fast(x, w, b, conv_param(1, 1))
    grads = fast.conv_backward_fast(np.ones_like(out), cache)
    pooled, pool_cache = fast.max_pool_forward_fast(out, pool_param(3, 3, 2))
    dpool = fast.max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    assert {a.dtype for a in (out, *grads, pooled, dpool)} == {np.dtype(np.float32)}
    expected, _ = naive.conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)),
                                           conv_param(1, 1))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_float32_dout_of_a_float64_layer_gives_float64_gradients(backend):
    x, w, b = random_conv(np.random.default_rng(0), (1, 2, 5, 5), (2, 2, 3, 3))
    out, cache = fast.conv_forward_fast(x, w, b, conv_param(1, 0))
    assert all(g.dtype == np.float64 for g in
               fast.conv_backward_fast(np.ones(out.shape, np.float32), cache))


def test_mixed_and_integer_inputs_compute_in_float64(backend):
    x = np.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), np.float32)
    out, _ = fast.conv_forward_fast(x, w, np.zeros(1, np.float32), conv_param(1, 0))
    assert out.dtype == np.float64
    assert out[0, 0, 0, 0] == 0 + 1 + 4 + 5
    pooled, _ = fast.max_pool_forward_fast(x, pool_param(2, 2, 2))
    assert pooled.dtype == np.float64
    assert pooled[1, 0, 1, 1] == x[1, 0, 3, 3]


def test_inputs_are_not_modified(backend):
    rng = np.random.default_rng(1)
    x, w, b = random_conv(rng, (2, 2, 6, 6), (3, 2, 3, 3))
    saved = [a.copy() for a in (x, w, b)]
    out, cache = fast.conv_forward_fast(x, w, b, conv_param(1, 1))
    dout = rng.standard_normal(out.shape)
    dout_saved = dout.copy()
    fast.conv_backward_fast(dout, cache)
    pooled, pool_cache = fast.max_pool_forward_fast(x, pool_param(2, 2, 2))
    fast.max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    for before, after in zip([*saved, dout_saved], [x, w, b, dout], strict=True):
        np.testing.assert_array_equal(before, after)


def test_non_contiguous_inputs(backend):
    rng = np.random.default_rng(2)
    x, w, b = random_conv(rng, (3, 5, 8, 8), (2, 3, 3, 3))
    x_view = x[:, ::2, :, ::-1]  # a strided, reversed view with 3 channels
    assert_conv_matches_naive(x_view, w, b, conv_param(1, 1), rng)
    assert_pool_matches_naive(x_view, pool_param(2, 2, 2), rng)


def test_a_layer_without_images_returns_empty_results(backend):
    x, w, b = random_conv(np.random.default_rng(3), (0, 2, 5, 5), (3, 2, 3, 3))
    out, cache = fast.conv_forward_fast(x, w, b, conv_param(1, 1))
    dx, dw, db = fast.conv_backward_fast(out, cache)
    assert out.shape == (0, 3, 5, 5) and dx.shape == x.shape
    assert not dw.any() and not db.any()


@pytest.mark.parametrize(
    ("param", "error", "message"),
    [
        ({"stride": 1}, KeyError, "'pad'"),
        ({"stride": 0, "pad": 1}, ValueError, "at least 1"),
        ({"stride": 1, "pad": -1}, ValueError, "at least 0"),
        ({"stride": 1, "pad": 0}, ValueError, "does not fit"),
    ],
)
def test_bad_conv_param_says_what_is_wrong(param, error, message):
    x, w, b = random_conv(np.random.default_rng(0), (1, 1, 3, 3), (1, 1, 4, 4))
    with pytest.raises(error, match=message):
        fast.conv_forward_fast(x, w, b, param)


def test_mismatched_shapes_are_reported():
    x, w, b = random_conv(np.random.default_rng(0), (1, 2, 5, 5), (1, 3, 3, 3))
    with pytest.raises(ValueError, match="shapes do not match"):
        fast.conv_forward_fast(x, w, b, conv_param(1, 1))
    out, cache = fast.conv_forward_fast(x[:, :1], w[:, :1], b, conv_param(1, 1))
    with pytest.raises(ValueError, match="dout has shape"):
        fast.conv_backward_fast(out[:, :, :-1], cache)
    pooled, pool_cache = fast.max_pool_forward_fast(x, pool_param(2, 2, 2))
    with pytest.raises(ValueError, match="dout has shape"):
        fast.max_pool_backward_fast(pooled[0], pool_cache)
    with pytest.raises(ValueError, match="does not fit"):
        fast.max_pool_forward_fast(x, pool_param(6, 2, 1))


def test_only_the_four_layers_are_public_components():
    assert public_names(fast) == [
        "conv_backward_fast", "conv_forward_fast", "max_pool_backward_fast",
        "max_pool_forward_fast",
    ]


ISSUE_CONV_SHAPES = [
    ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    ((64, 64, 16, 16), (64, 64, 3, 3), 1, 1),
]


@pytest.mark.slow
def test_notebook_fast_vs_naive_cell():
    """The assignment's own comparison (seed 231, x(100,3,31,31), stride 2, pad 1) with its
    elementwise relative error and its bound, "around e-9 or less" (about 5e-11 here; that
    measure depends on summation order where outputs nearly cancel, hence no tighter bound)."""
    np.random.seed(231)
    x = np.random.randn(100, 3, 31, 31)
    w = np.random.randn(25, 3, 3, 3)
    b = np.random.randn(25)
    dout = np.random.randn(100, 25, 16, 16)
    param = conv_param(2, 1)
    out_naive, cache_naive = naive.conv_forward_naive(x, w, b, param)
    out_fast, cache_fast = fast.conv_forward_fast(x, w, b, param)
    assert rel_error(out_naive, out_fast) < NOTEBOOK_TOLERANCE
    for naive_grad, fast_grad in zip(naive.conv_backward_naive(dout, cache_naive),
                                     fast.conv_backward_fast(dout, cache_fast), strict=True):
        assert rel_error(naive_grad, fast_grad) < NOTEBOOK_TOLERANCE


# The naive layers are what costs here: 12 images still span 4 of the fast layers' chunks for
# the two larger kernels, while the first shape needs all 100 to span 2.
MATCH_SHAPES = [ISSUE_CONV_SHAPES[0], *(((12, *x[1:]), w, s, p)
                                        for x, w, s, p in ISSUE_CONV_SHAPES[1:])]


@pytest.mark.slow
@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), MATCH_SHAPES)
def test_benchmark_shapes_match_naive(x_shape, w_shape, stride, pad):
    """Conv and both pools on the benchmark's shapes, with the compiled kernels."""
    rng = np.random.default_rng(231)
    x, w, b = random_conv(rng, x_shape, w_shape)
    assert_conv_matches_naive(x, w, b, conv_param(stride, pad), rng)
    out, _ = fast.conv_forward_fast(x, w, b, conv_param(stride, pad))
    for size, pool_stride in [(2, 2), (3, 2)]:
        assert_pool_matches_naive(out, pool_param(size, size, pool_stride), rng)
