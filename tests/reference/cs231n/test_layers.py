"""Tests for reference/cs231n/layers.py: gradients, notebook vectors, and layer contracts."""

import numpy as np
import pytest
from cs231n_layer_cases import (
    LayerCase,
    assert_gradients_match,
    assert_inputs_untouched,
    assert_keeps_float32,
    distinct_values,
    notebook_gradient_errors,
    signed_away_from_zero,
)
from cs231n_vectors import (
    AFFINE_FORWARD_OUT,
    CONV_FORWARD_OUT,
    MAX_POOL_FORWARD_OUT,
    RELU_FORWARD_OUT,
    SOFTMAX_LOSS,
    SVM_LOSS,
    linspace_array,
)

from gradekit.gradient_check import eval_numerical_gradient, rel_error
from reference.cs231n import layers


def _conv_case(name, x_shape, w_shape, stride, pad):
    return LayerCase(
        name,
        layers.conv_forward_naive,
        layers.conv_backward_naive,
        lambda rng: (
            rng.standard_normal(x_shape),
            rng.standard_normal(w_shape),
            rng.standard_normal(w_shape[0]),
            {"stride": stride, "pad": pad},
        ),
        ("dx", "dw", "db"),
    )


def _pool_case(name, x_shape, height, width, stride):
    return LayerCase(
        name,
        layers.max_pool_forward_naive,
        layers.max_pool_backward_naive,
        lambda rng: (
            distinct_values(rng, x_shape),
            {"pool_height": height, "pool_width": width, "stride": stride},
        ),
        ("dx",),
    )


def _norm_args(x_shape, param_shape, param, scale=5.0, shift=12.0):
    """Inputs ``scale * randn + shift``; the defaults are the notebooks' normalisation checks."""

    def make(rng):
        x = scale * rng.standard_normal(x_shape) + shift
        gamma = rng.standard_normal(param_shape)
        beta = rng.standard_normal(param_shape)
        return x, gamma, beta, dict(param)

    return make


def _groupnorm_case(name, x_shape, G, **x_recipe):
    C = x_shape[1]

    def make(rng):
        x, gamma, beta, gn_param = _norm_args(x_shape, (1, C, 1, 1), {}, **x_recipe)(rng)
        return x, gamma, beta, G, gn_param

    return LayerCase(
        name,
        layers.spatial_groupnorm_forward,
        layers.spatial_groupnorm_backward,
        make,
        ("dx", "dgamma", "dbeta"),
    )


NORM_GRADS = ("dx", "dgamma", "dbeta")

LAYER_CASES = [
    LayerCase(
        "affine_odd_shape",
        layers.affine_forward,
        layers.affine_backward,
        lambda rng: (
            rng.standard_normal((3, 2, 5)),
            rng.standard_normal((10, 4)),
            rng.standard_normal(4),
        ),
        ("dx", "dw", "db"),
    ),
    LayerCase(
        "relu",
        layers.relu_forward,
        layers.relu_backward,
        lambda rng: (signed_away_from_zero(rng, (4, 7)),),
        ("dx",),
    ),
    LayerCase(
        "batchnorm_staged",
        layers.batchnorm_forward,
        layers.batchnorm_backward,
        _norm_args((4, 5), (5,), {"mode": "train"}),
        NORM_GRADS,
    ),
    LayerCase(
        "batchnorm_alt",
        layers.batchnorm_forward,
        layers.batchnorm_backward_alt,
        _norm_args((4, 5), (5,), {"mode": "train"}),
        NORM_GRADS,
    ),
    LayerCase(
        "layernorm",
        layers.layernorm_forward,
        layers.layernorm_backward,
        _norm_args((4, 7), (7,), {}),
        NORM_GRADS,
    ),
    LayerCase(
        "dropout_seeded",
        layers.dropout_forward,
        layers.dropout_backward,
        lambda rng: (rng.standard_normal((10, 10)) + 10, {"mode": "train", "p": 0.2, "seed": 123}),
        ("dx",),
    ),
    LayerCase(
        "dropout_test_mode",
        layers.dropout_forward,
        layers.dropout_backward,
        lambda rng: (rng.standard_normal((6, 5)), {"mode": "test", "p": 0.6}),
        ("dx",),
    ),
    _conv_case("conv_stride1_pad1", (2, 3, 5, 5), (2, 3, 3, 3), stride=1, pad=1),
    _conv_case("conv_stride2_nonsquare_kernel", (2, 3, 7, 6), (4, 3, 3, 2), stride=2, pad=1),
    _conv_case("conv_stride3_leftover_border", (1, 2, 9, 8), (3, 2, 2, 4), stride=3, pad=0),
    _pool_case("pool_2x2_tiling", (2, 3, 4, 4), 2, 2, 2),
    _pool_case("pool_3x2_non_tiling", (2, 2, 7, 6), 3, 2, 2),
    _pool_case("pool_3x3_overlapping", (1, 2, 5, 5), 3, 3, 1),
    LayerCase(
        "spatial_batchnorm",
        layers.spatial_batchnorm_forward,
        layers.spatial_batchnorm_backward,
        _norm_args((3, 4, 3, 2), (4,), {"mode": "train"}),
        NORM_GRADS,
    ),
    _groupnorm_case("spatial_groupnorm_notebook_G2", (2, 6, 4, 5), G=2),
    _groupnorm_case("spatial_groupnorm_instance_G6", (2, 6, 3, 4), G=6),
    # Unit-scale inputs here: with G=1 the smallest dx entries are ~1e-4, and on
    # 5*randn+12 inputs the float64 central difference's own rounding noise puts them
    # at 2e-7 (a float128 difference shows the analytic dx within 1e-8 there).
    _groupnorm_case("spatial_groupnorm_layer_G1", (3, 4, 2, 3), G=1, scale=1.0, shift=0.0),
]


# ---------------------------------------------------------------- contracts of every layer


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_backward_matches_numerical_gradient(case: LayerCase) -> None:
    assert_gradients_match(case)


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_layer_does_not_mutate_inputs(case: LayerCase) -> None:
    assert_inputs_untouched(case)


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_float32_in_float32_out(case: LayerCase) -> None:
    assert_keeps_float32(case)


@pytest.mark.parametrize("loss", [layers.svm_loss, layers.softmax_loss], ids=lambda f: f.__name__)
def test_loss_gradient_inputs_and_float32(loss) -> None:
    rng = np.random.default_rng(0)
    # Scores on a 0.07 grid keep every SVM margin at least 0.02 from its hinge.
    x = rng.permutation(np.arange(7 * 5) * 0.07).reshape(7, 5)
    y = rng.integers(5, size=7)
    x_before, y_before = x.copy(), y.copy()
    _, dx = loss(x, y)
    assert np.array_equal(x, x_before) and np.array_equal(y, y_before)
    assert rel_error(eval_numerical_gradient(lambda _: loss(x, y)[0], x, verbose=False), dx) < 1e-7
    assert loss(x.astype(np.float32), y)[1].dtype == np.float32


def test_softmax_loss_is_stable_for_huge_scores() -> None:
    x = np.array([[1e4, 0.0, -1e4], [5e3, 5e3, 0.0]])
    loss, dx = layers.softmax_loss(x, np.array([0, 1]))
    assert loss == pytest.approx(np.log(2) / 2)
    assert np.all(np.isfinite(dx))


# ---------------------------------------------------------------- notebook forward vectors


def _affine_notebook_out() -> np.ndarray:
    x = linspace_array(-0.1, 0.5, (2, 4, 5, 6))
    w = linspace_array(-0.2, 0.3, (120, 3))
    b = np.linspace(-0.3, 0.1, num=3)
    return layers.affine_forward(x, w, b)[0]


def _relu_notebook_out() -> np.ndarray:
    return layers.relu_forward(linspace_array(-0.5, 0.5, (3, 4)))[0]


def _conv_notebook_out() -> np.ndarray:
    x = linspace_array(-0.1, 0.5, (2, 3, 4, 4))
    w = linspace_array(-0.2, 0.3, (3, 3, 4, 4))
    b = np.linspace(-0.1, 0.2, num=3)
    return layers.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})[0]


def _pool_notebook_out() -> np.ndarray:
    x = linspace_array(-0.3, 0.4, (2, 3, 4, 4))
    return layers.max_pool_forward_naive(x, {"pool_width": 2, "pool_height": 2, "stride": 2})[0]


@pytest.mark.parametrize(
    ("compute", "expected", "tolerance"),
    [
        (_affine_notebook_out, AFFINE_FORWARD_OUT, 1e-9),
        (_relu_notebook_out, RELU_FORWARD_OUT, 1e-7),
        (_conv_notebook_out, CONV_FORWARD_OUT, 1e-7),
        (_pool_notebook_out, MAX_POOL_FORWARD_OUT, 1e-7),
    ],
    ids=["affine", "relu", "conv", "max_pool"],
)
def test_notebook_forward_vectors(compute, expected, tolerance) -> None:
    out = compute()
    assert out.shape == expected.shape
    assert rel_error(out, expected) < tolerance


@pytest.mark.parametrize(
    ("loss", "expected_loss", "dx_tolerance"),
    [(layers.svm_loss, SVM_LOSS, 1e-8), (layers.softmax_loss, SOFTMAX_LOSS, 1e-7)],
    ids=["svm", "softmax"],
)
def test_notebook_losses_at_seed_231(loss, expected_loss, dx_tolerance) -> None:
    np.random.seed(231)
    x = 0.001 * np.random.randn(50, 10)
    y = np.random.randint(10, size=50)
    value, dx = loss(x, y)
    assert value == pytest.approx(expected_loss, rel=1e-12)
    dx_num = eval_numerical_gradient(lambda _: loss(x, y)[0], x, verbose=False)
    assert rel_error(dx_num, dx) < dx_tolerance


# ---------------------------------------------------------------- notebook gradient checks

# (forward, backward, shapes drawn with randn in order, dout shape, extra args, tolerance)
NOTEBOOK_GRADIENT_CHECKS = {
    "affine_backward": (
        layers.affine_forward,
        layers.affine_backward,
        [(10, 2, 3), (6, 5), (5,)],
        (10, 5),
        (),
        1e-9,
    ),
    "relu_backward": (layers.relu_forward, layers.relu_backward, [(10, 10)], (10, 10), (), 1e-11),
    "conv_backward_naive": (
        layers.conv_forward_naive,
        layers.conv_backward_naive,
        [(4, 3, 5, 5), (2, 3, 3, 3), (2,)],
        (4, 2, 5, 5),
        ({"stride": 1, "pad": 1},),
        1e-7,
    ),
    "max_pool_backward_naive": (
        layers.max_pool_forward_naive,
        layers.max_pool_backward_naive,
        [(3, 2, 8, 8)],
        (3, 2, 4, 4),
        ({"pool_height": 2, "pool_width": 2, "stride": 2},),
        1e-11,
    ),
}


@pytest.mark.parametrize("name", NOTEBOOK_GRADIENT_CHECKS)
def test_notebook_gradient_checks(name: str) -> None:
    *setup, tolerance = NOTEBOOK_GRADIENT_CHECKS[name]
    errors = notebook_gradient_errors(*setup)
    assert max(errors) < tolerance, errors


# ---------------------------------------------------------------- batch normalisation


def _batchnorm_notebook_activations(rng_draws: int = 1):
    """The notebook's two-layer ReLU net activations a (200, 3), for fresh X each call."""
    np.random.seed(231)
    W1, W2 = np.random.randn(50, 60), np.random.randn(60, 3)
    return [np.maximum(0, np.random.randn(200, 50) @ W1) @ W2 for _ in range(rng_draws)]


def test_batchnorm_train_mode_gives_beta_mean_and_gamma_std() -> None:
    (a,) = _batchnorm_notebook_activations()
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = layers.batchnorm_forward(a, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-6)


def test_batchnorm_test_mode_after_warm_up() -> None:
    *warm_up, fresh = _batchnorm_notebook_activations(rng_draws=51)
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(3), np.zeros(3)
    for a in warm_up:
        layers.batchnorm_forward(a, gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = layers.batchnorm_forward(fresh, gamma, beta, bn_param)
    # Noisier than train mode, as the notebook says (it printed |mean| <= 0.17, std 0.99-1.09).
    assert np.all(np.abs(out.mean(axis=0)) < 0.25)
    assert np.all(np.abs(out.std(axis=0) - 1) < 0.15)


def test_batchnorm_running_statistics_follow_momentum() -> None:
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    bn_param = {"mode": "train", "momentum": 0.8}
    layers.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    assert bn_param["running_mean"].dtype == np.float32
    np.testing.assert_allclose(bn_param["running_mean"], 0.2 * x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(bn_param["running_var"], 0.2 * x.var(axis=0), rtol=1e-6)


def test_batchnorm_backward_staged_and_alt_agree() -> None:
    rng = np.random.default_rng(3)
    x, dout = 5 * rng.standard_normal((6, 4)) + 12, rng.standard_normal((6, 4))
    _, cache = layers.batchnorm_forward(
        x, rng.standard_normal(4), rng.standard_normal(4), {"mode": "train"}
    )
    for staged, alt in zip(
        layers.batchnorm_backward(dout, cache),
        layers.batchnorm_backward_alt(dout, cache),
        strict=True,
    ):
        assert rel_error(staged, alt) < 1e-10


@pytest.mark.parametrize(
    "forward", [layers.batchnorm_forward, layers.dropout_forward], ids=lambda f: f.__name__
)
def test_invalid_mode_is_rejected(forward) -> None:
    x = np.ones((2, 3))
    args = (x, np.ones(3), np.zeros(3)) if forward is layers.batchnorm_forward else (x,)
    with pytest.raises(ValueError, match="'train' or 'test'"):
        forward(*args, {"mode": "eval", "p": 0.5})


# ---------------------------------------------------------------- normalised statistics


def _unit_norm_groups(name: str, x: np.ndarray) -> np.ndarray:
    """Apply a normaliser with gamma=1, beta=0; return its output with one group per column."""
    N, C = x.shape[:2]
    if name == "batchnorm":
        return layers.batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})[0]
    if name == "layernorm":
        return layers.layernorm_forward(x, np.ones(C), np.zeros(C), {})[0].T
    if name == "spatial_batchnorm":
        out = layers.spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})[0]
        return out.transpose(1, 0, 2, 3).reshape(C, -1).T
    ones, zeros = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
    return layers.spatial_groupnorm_forward(x, ones, zeros, 2, {})[0].reshape(N * 2, -1).T


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("batchnorm", (20, 3)),
        ("layernorm", (4, 30)),
        ("spatial_batchnorm", (3, 4, 5, 2)),
        ("spatial_groupnorm", (2, 6, 4, 3)),
    ],
)
def test_normalisers_standardise_their_groups(name: str, shape: tuple[int, ...]) -> None:
    x = 4 * np.random.default_rng(0).standard_normal(shape) + 7
    groups = _unit_norm_groups(name, x)
    np.testing.assert_allclose(groups.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(groups.std(axis=0), 1, rtol=1e-5)


def test_groupnorm_rejects_groups_that_do_not_divide_channels() -> None:
    x = np.ones((1, 6, 2, 2))
    with pytest.raises(ValueError, match="divisible"):
        layers.spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 4, {})


# ---------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.3, 0.6, 0.75])
def test_dropout_keeps_fraction_p_and_preserves_the_mean(p: float) -> None:
    np.random.seed(231)
    x = np.random.randn(500, 500) + 10
    train, _ = layers.dropout_forward(x, {"mode": "train", "p": p})
    test, _ = layers.dropout_forward(x, {"mode": "test", "p": p})
    assert np.mean(train == 0) == pytest.approx(1 - p, abs=0.01)
    assert train.mean() == pytest.approx(x.mean(), rel=0.01)
    assert np.array_equal(test, x)


def test_seeded_dropout_is_reproducible() -> None:
    x = np.random.default_rng(0).standard_normal((20, 20))
    first, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})
    again, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})
    other, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 8})
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


# ---------------------------------------------------------------- convolution and pooling


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "pad", "out_hw"),
    [
        ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0, (3, 3)),
        ((1, 1, 5, 5), (1, 1, 3, 3), 1, 1, (5, 5)),
        ((1, 1, 7, 6), (1, 1, 3, 2), 2, 1, (4, 4)),
        ((1, 1, 9, 8), (1, 1, 2, 4), 3, 0, (3, 2)),
    ],
)
def test_conv_matches_a_direct_sum(x_shape, w_shape, stride, pad, out_hw) -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(1)
    out, _ = layers.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    assert out.shape == (1, 1, *out_hw)
    padded = np.pad(x[0, 0], pad)
    HH, WW = w_shape[2:]
    for i, j in np.ndindex(out_hw):
        patch = padded[i * stride : i * stride + HH, j * stride : j * stride + WW]
        assert out[0, 0, i, j] == pytest.approx(np.sum(patch * w[0, 0]) + b[0])


def test_max_pool_ties_route_the_gradient_to_the_first_maximum() -> None:
    x = np.array([[[[1.0, 3.0], [3.0, 0.0]], [[2.0, 2.0], [2.0, 2.0]]]])  # (1, 2, 2, 2)
    _, cache = layers.max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = layers.max_pool_backward_naive(np.array([[[[5.0]], [[7.0]]]]), cache)
    expected = np.array([[[[0.0, 5.0], [0.0, 0.0]], [[7.0, 0.0], [0.0, 0.0]]]])
    assert np.array_equal(dx, expected)


def test_max_pool_non_tiling_ignores_the_leftover_border() -> None:
    x = distinct_values(np.random.default_rng(0), (1, 1, 5, 5))
    out, cache = layers.max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert out.shape == (1, 1, 2, 2)
    dx = layers.max_pool_backward_naive(np.ones_like(out), cache)
    assert not dx[..., 4, :].any() and not dx[..., :, 4].any()
    assert dx.sum() == 4
