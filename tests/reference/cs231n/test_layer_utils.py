"""Tests for reference/cs231n/layer_utils.py: the sandwiches backpropagate like their parts."""

import numpy as np
import pytest
from cs231n_layer_cases import (
    LayerCase,
    assert_gradients_match,
    assert_inputs_untouched,
    assert_keeps_float32,
    notebook_gradient_errors,
    widest_gap_midpoint,
)

from reference.cs231n import layer_utils, layers

CONV = {"stride": 2, "pad": 1}
POOL = {"pool_height": 3, "pool_width": 2, "stride": 2}  # does not tile the 8x8 conv output


def _affine_relu_args(rng):
    x, w = rng.standard_normal((3, 2, 5)), rng.standard_normal((10, 6))
    b = -widest_gap_midpoint(x.reshape(3, -1) @ w, channel_axis=1)
    return x, w, b


def _affine_norm_relu_args(normalization, normalise, norm_param):
    def make(rng):
        x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 6)), rng.standard_normal(6)
        gamma = rng.standard_normal(6)
        normalised, _ = normalise(x @ w + b, gamma, np.zeros(6), dict(norm_param))
        beta = -widest_gap_midpoint(normalised, channel_axis=1)
        return x, w, b, gamma, beta, dict(norm_param), normalization

    return make


def _conv_relu_args(x_shape, w_shape):
    def make(rng):
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        pre, _ = layers.conv_forward_naive(x, w, np.zeros(w_shape[0]), CONV)
        return x, w, -widest_gap_midpoint(pre, channel_axis=1), CONV

    return make


def _conv_relu_pool_args(rng):
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((3, 3, 3, 3))
    conv = {"stride": 1, "pad": 1}
    pre, _ = layers.conv_forward_naive(x, w, np.zeros(3), conv)
    return x, w, -widest_gap_midpoint(pre, channel_axis=1), conv, POOL


def _conv_bn_relu_args(rng):
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 2)), np.ones(4)
    gamma = rng.standard_normal(4)
    pre, _ = layers.conv_forward_naive(x, w, b, CONV)
    normalised, _ = layers.spatial_batchnorm_forward(pre, gamma, np.zeros(4), {"mode": "train"})
    beta = -widest_gap_midpoint(normalised, channel_axis=1)
    return x, w, b, gamma, beta, CONV, {"mode": "train"}


AFFINE_GRADS = ("dx", "dw", "db")
NORM_GRADS = ("dx", "dw", "db", "dgamma", "dbeta")

SANDWICH_CASES = [
    LayerCase(
        "affine_relu",
        layer_utils.affine_relu_forward,
        layer_utils.affine_relu_backward,
        _affine_relu_args,
        AFFINE_GRADS,
    ),
    LayerCase(
        "affine_batchnorm_relu",
        layer_utils.affine_norm_relu_forward,
        layer_utils.affine_norm_relu_backward,
        _affine_norm_relu_args("batchnorm", layers.batchnorm_forward, {"mode": "train"}),
        NORM_GRADS,
        # Batchnorm subtracts the batch mean, so a bias placed before it has no effect.
        zero_grads=frozenset({"db"}),
    ),
    LayerCase(
        "affine_layernorm_relu",
        layer_utils.affine_norm_relu_forward,
        layer_utils.affine_norm_relu_backward,
        _affine_norm_relu_args("layernorm", layers.layernorm_forward, {}),
        NORM_GRADS,
    ),
    LayerCase(
        "conv_relu_stride2_nonsquare",
        layer_utils.conv_relu_forward,
        layer_utils.conv_relu_backward,
        _conv_relu_args((2, 3, 7, 6), (4, 3, 3, 2)),
        AFFINE_GRADS,
    ),
    LayerCase(
        "conv_relu_pool_non_tiling",
        layer_utils.conv_relu_pool_forward,
        layer_utils.conv_relu_pool_backward,
        _conv_relu_pool_args,
        AFFINE_GRADS,
    ),
    LayerCase(
        "conv_bn_relu",
        layer_utils.conv_bn_relu_forward,
        layer_utils.conv_bn_relu_backward,
        _conv_bn_relu_args,
        NORM_GRADS,
        zero_grads=frozenset({"db"}),
    ),
]


@pytest.mark.parametrize("case", SANDWICH_CASES, ids=str)
def test_backward_matches_numerical_gradient(case: LayerCase) -> None:
    assert_gradients_match(case)


@pytest.mark.parametrize("case", SANDWICH_CASES, ids=str)
def test_sandwich_does_not_mutate_inputs(case: LayerCase) -> None:
    assert_inputs_untouched(case)


@pytest.mark.parametrize("case", SANDWICH_CASES, ids=str)
def test_float32_in_float32_out(case: LayerCase) -> None:
    assert_keeps_float32(case)


def test_unknown_normalization_names_the_choices() -> None:
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="batchnorm"):
        layer_utils.affine_norm_relu_forward(
            x, np.ones((3, 2)), np.zeros(2), np.ones(2), np.zeros(2), {}, "groupnorm"
        )


# (forward, backward, shapes drawn with randn in order, dout shape, extra args, tolerance)
NOTEBOOK_GRADIENT_CHECKS = {
    "affine_relu": (
        layer_utils.affine_relu_forward,
        layer_utils.affine_relu_backward,
        [(2, 3, 4), (12, 10), (10,)],
        (2, 10),
        (),
        1e-9,
    ),
    "conv_relu": (
        layer_utils.conv_relu_forward,
        layer_utils.conv_relu_backward,
        [(2, 3, 8, 8), (3, 3, 3, 3), (3,)],
        (2, 3, 8, 8),
        ({"stride": 1, "pad": 1},),
        1e-7,
    ),
    "conv_relu_pool": (
        layer_utils.conv_relu_pool_forward,
        layer_utils.conv_relu_pool_backward,
        [(2, 3, 16, 16), (3, 3, 3, 3), (3,)],
        (2, 3, 8, 8),
        ({"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}),
        1e-7,
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        # 1536 inputs x two naive 16x16 convolutions each: several seconds.
        pytest.param(name, marks=pytest.mark.slow) if name == "conv_relu_pool" else name
        for name in NOTEBOOK_GRADIENT_CHECKS
    ],
)
def test_notebook_gradient_checks(name: str) -> None:
    *setup, tolerance = NOTEBOOK_GRADIENT_CHECKS[name]
    errors = notebook_gradient_errors(*setup)
    assert max(errors) < tolerance, errors
