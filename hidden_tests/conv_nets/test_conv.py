"""Hidden checks of the naive convolution and max-pooling layers.

Each layer is compared with the reference on shapes the notebook's checks never try: strides
above 1, no padding and wide padding, non-square images and filters, borders a stride does not
reach, overlapping pools and pools that do not tile the input, and tied maxima.
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_rel_close, assert_shape

pytestmark = [pytest.mark.part("conv"), pytest.mark.visibility("hidden")]

# (x shape, w shape, stride, pad): N, C, H, W and F, C, HH, WW
CONVS = [
    pytest.param((2, 3, 7, 7), (4, 3, 3, 3), 1, 1, id="same"),
    pytest.param((2, 2, 9, 9), (3, 2, 3, 3), 2, 1, id="stride2"),
    pytest.param((1, 3, 9, 9), (2, 3, 3, 3), 3, 0, id="stride3-nopad"),
    pytest.param((2, 2, 5, 7), (3, 2, 3, 3), 1, 2, id="wide-pad-nonsquare-image"),
    pytest.param((2, 3, 6, 8), (2, 3, 2, 4), 2, 1, id="nonsquare-filter"),
    pytest.param((1, 1, 7, 6), (2, 1, 3, 3), 2, 0, id="border-not-reached"),
]

# (x shape, pool height, pool width, stride); (H - pool) % stride == 0 throughout, as the
# course's starter (and CS231n's since 2019) lets students assume
POOLS = [
    pytest.param((2, 3, 8, 8), 2, 2, 2, id="tiling"),
    pytest.param((2, 2, 8, 11), 2, 2, 3, id="gaps-between-pools"),
    pytest.param((1, 3, 7, 7), 3, 3, 2, id="overlapping"),
    pytest.param((2, 2, 8, 9), 2, 3, 3, id="nonsquare"),
    pytest.param((1, 2, 5, 5), 2, 2, 1, id="stride1"),
]


def _conv_inputs(rng, x_shape, w_shape):
    return rng.randn(*x_shape), rng.randn(*w_shape), rng.randn(w_shape[0])


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONVS)
def test_conv_forward_matches_reference(impl, ref, rng, x_shape, w_shape, stride, pad):
    x, w, b = _conv_inputs(rng, x_shape, w_shape)
    conv_param = {"stride": stride, "pad": pad}
    want, _ = ref.get("layers.conv_forward_naive")(x, w, b, conv_param)
    got, _ = impl.get("layers.conv_forward_naive")(x, w, b, dict(conv_param))
    H_out = 1 + (x_shape[2] + 2 * pad - w_shape[2]) // stride
    W_out = 1 + (x_shape[3] + 2 * pad - w_shape[3]) // stride
    assert_shape(got, (x_shape[0], w_shape[0], H_out, W_out),
                 what=f"conv output (stride {stride}, pad {pad}: 1 + (H + 2*pad - HH) // stride)")
    assert_rel_close(got, want, 1e-9, what=f"conv_forward_naive (stride {stride}, pad {pad})")


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONVS)
def test_conv_backward_matches_reference(impl, ref, rng, x_shape, w_shape, stride, pad):
    x, w, b = _conv_inputs(rng, x_shape, w_shape)
    conv_param = {"stride": stride, "pad": pad}
    out, ref_cache = ref.get("layers.conv_forward_naive")(x, w, b, conv_param)
    dout = rng.randn(*out.shape)
    want = ref.get("layers.conv_backward_naive")(dout, ref_cache)
    _, cache = impl.get("layers.conv_forward_naive")(x, w, b, dict(conv_param))
    got = impl.get("layers.conv_backward_naive")(dout, cache)
    for name, g, expected in zip(("dx", "dw", "db"), got, want, strict=True):
        assert_rel_close(g, expected, 1e-8,
                         what=f"conv_backward_naive {name} (stride {stride}, pad {pad})")


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOLS)
def test_max_pool_forward_matches_reference(impl, ref, rng, x_shape, ph, pw, stride):
    x = rng.randn(*x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    want, _ = ref.get("layers.max_pool_forward_naive")(x, pool_param)
    got, _ = impl.get("layers.max_pool_forward_naive")(x, dict(pool_param))
    assert_shape(got, want.shape, what=f"max pool output ({ph}x{pw}, stride {stride}: "
                                       "1 + (H - pool_height) // stride)")
    assert_rel_close(got, want, 0, what=f"max_pool_forward_naive ({ph}x{pw}, stride {stride})")


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOLS)
def test_max_pool_backward_matches_reference(impl, ref, rng, x_shape, ph, pw, stride):
    x = rng.randn(*x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, ref_cache = ref.get("layers.max_pool_forward_naive")(x, pool_param)
    dout = rng.randn(*out.shape)
    want = ref.get("layers.max_pool_backward_naive")(dout, ref_cache)
    _, cache = impl.get("layers.max_pool_forward_naive")(x, dict(pool_param))
    got = impl.get("layers.max_pool_backward_naive")(dout, cache)
    what = f"max_pool_backward_naive dx ({ph}x{pw}, stride {stride})"
    assert_rel_close(got, want, 1e-12, what=what)


def test_max_pool_backward_sends_a_tied_windows_gradient_once(impl):
    """Where a window's maximum appears more than once (a window of ReLU zeros, say), the
    window's gradient goes to its maxima once in all: to one of them, or split between them.
    Giving every tied entry the whole gradient counts it several times."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, :2, :2] = 3.0  # four tied maxima
    x[0, 0, :2, 2:] = [[1.0, 2.0], [2.0, 0.5]]  # two tied maxima
    x[0, 0, 2:, :2] = [[-1.0, 4.0], [0.0, -2.0]]  # one maximum
    x[0, 0, 2:, 2:] = -1.0  # four tied negatives
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    _, cache = impl.get("layers.max_pool_forward_naive")(x, pool_param)
    dx = np.asarray(impl.get("layers.max_pool_backward_naive")(dout, cache))
    assert_shape(dx, x.shape, what="max_pool_backward_naive dx")
    for i in range(2):
        for j in range(2):
            window = x[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            grad = dx[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            where = f"window ({i}, {j}) with {int((window == window.max()).sum())} tied maxima"
            assert not grad[window < window.max()].any(), \
                f"{where}: gradient reached an entry that is not the maximum"
            assert abs(grad.sum() - dout[0, 0, i, j]) < 1e-12, (
                f"{where}: its entries got {grad.sum():g} of the gradient in all, expected "
                f"dout = {dout[0, 0, i, j]:g} (each tied maximum got the whole gradient?)")


@pytest.mark.parametrize("kind", ["conv", "pool"])
def test_fast_layers_agree_with_your_naive_layers(impl, ref, rng, kind):
    """The notebook's "fast vs naive" check on its shapes (fewer images): the fast layers the
    course gives must agree with your naive ones, to 1e-9 for conv and exactly for pooling."""
    if kind == "conv":
        x, w, b = rng.randn(4, 3, 31, 31), rng.randn(25, 3, 3, 3), rng.randn(25)
        conv_param = {"stride": 2, "pad": 1}
        fast_out, fast_cache = ref.get("fast_layers.conv_forward_fast")(x, w, b, conv_param)
        out, cache = impl.get("layers.conv_forward_naive")(x, w, b, dict(conv_param))
        dout = rng.randn(*fast_out.shape)
        assert_rel_close(out, fast_out, 1e-9, what="conv_forward_naive vs conv_forward_fast")
        fast = ref.get("fast_layers.conv_backward_fast")(dout, fast_cache)
        naive = impl.get("layers.conv_backward_naive")(dout, cache)
        for name, got, want in zip(("dx", "dw", "db"), naive, fast, strict=True):
            assert_rel_close(got, want, 1e-9, what=f"conv_backward_naive {name} vs fast")
    else:
        x = rng.randn(4, 3, 32, 32)
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        fast_out, fast_cache = ref.get("fast_layers.max_pool_forward_fast")(x, pool_param)
        out, cache = impl.get("layers.max_pool_forward_naive")(x, dict(pool_param))
        assert_rel_close(out, fast_out, 0, what="max_pool_forward_naive vs fast")
        dout = rng.randn(*fast_out.shape)
        fast = ref.get("fast_layers.max_pool_backward_fast")(dout, fast_cache)
        naive = impl.get("layers.max_pool_backward_naive")(dout, cache)
        assert_rel_close(naive, fast, 0, what="max_pool_backward_naive vs fast")
