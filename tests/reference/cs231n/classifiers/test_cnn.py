"""ThreeLayerConvNet: architecture, the notebook's sanity losses, whole-net gradient checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.gradient_check import rel_error
from reference.cs231n.classifiers.cnn import ThreeLayerConvNet


def test_default_architecture_and_initialisation():
    np.random.seed(0)
    model = ThreeLayerConvNet()
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {
        "W1": (32, 3, 7, 7),
        "b1": (32,),
        "W2": (32 * 16 * 16, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert all(value.dtype == np.float32 for value in model.params.values())
    assert all(np.all(model.params[b] == 0) for b in ("b1", "b2", "b3"))
    assert abs(model.params["W2"].std() - 1e-3) < 1e-4
    assert model.conv_param == {"stride": 1, "pad": 3}


def test_weights_are_drawn_in_order_w1_w2_w3():
    np.random.seed(5)
    model = ThreeLayerConvNet(
        input_dim=(2, 4, 4),
        num_filters=2,
        filter_size=3,
        hidden_dim=3,
        num_classes=2,
        weight_scale=1.0,
        dtype=np.float64,
    )
    np.random.seed(5)
    draws = np.random.randn(2 * 2 * 3 * 3 + 2 * 2 * 2 * 3 + 3 * 2)
    flat = np.concatenate([model.params[w].ravel() for w in ("W1", "W2", "W3")])
    np.testing.assert_array_equal(flat, draws)


def test_even_filters_pad_by_half_the_filter_minus_one():
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=2, filter_size=4, hidden_dim=3)
    assert model.conv_param["pad"] == 1
    # 8 + 2*1 - 4 + 1 = 7 rows after the convolution, 3 after the 2x2 pool.
    scores = model.loss(np.zeros((1, 1, 8, 8)))
    assert scores.shape == (1, 10)


def test_sanity_loss_is_log_c_and_grows_with_regularisation():
    np.random.seed(231)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, hidden_dim=20)
    X = np.random.randn(20, 3, 16, 16)
    y = np.random.randint(10, size=20)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(math.log(10), abs=1e-3)
    model.reg = 0.5
    reg_loss, _ = model.loss(X, y)
    penalty = (
        0.5
        * 0.5
        * sum(float(np.sum(model.params[w].astype(np.float64) ** 2)) for w in ("W1", "W2", "W3"))
    )
    assert reg_loss > loss
    assert reg_loss - loss == pytest.approx(penalty, rel=1e-4)


def test_test_mode_returns_scores_and_casts_to_the_model_dtype():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4)
    scores = model.loss(np.random.randn(5, 3, 8, 8))
    assert scores.shape == (5, 10)
    assert scores.dtype == np.float32


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_gradients_match_central_differences(reg, gradients, kink_margin):
    # Weights of scale 0.3 on a tiny 8x8 input keep every gradient entry far above the
    # round-off of a float64 central difference, and for seed 1 the nearest ReLU input and
    # the smallest gap between a pool window's top two entries are both > 100 h: a step of
    # h = 1e-5 in one parameter moves those values by far less, so no kink is crossed.
    h = 1e-5
    np.random.seed(1)
    X = np.random.randn(2, 3, 8, 8)
    y = np.random.randint(4, size=2)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8),
        num_filters=3,
        filter_size=3,
        hidden_dim=6,
        num_classes=4,
        weight_scale=0.3,
        reg=reg,
        dtype=np.float64,
    )
    model.loss(X, y)
    kink_margin.assert_wider_than(100 * h)
    analytic, numeric = gradients(model, X, y, h)
    errors = {name: rel_error(numeric[name], analytic[name]) for name in analytic}
    assert max(errors.values()) <= 1e-5, errors


@pytest.mark.slow
def test_notebook_gradient_check_reproduces_its_printed_errors(gradients):
    # The notebook's own setup (seed 231, weight scale 1e-3) has gradients so small that
    # round-off dominates; its text allows "up to the order of e-2", and its printed errors
    # (W1 1.38e-04, W2 1.82e-02, ...) are reproduced only with h = 1e-6.
    np.random.seed(231)
    X = np.random.randn(2, 3, 16, 16)
    y = np.random.randint(10, size=2)
    model = ThreeLayerConvNet(
        num_filters=3, filter_size=3, input_dim=(3, 16, 16), hidden_dim=7, dtype=np.float64
    )
    analytic, numeric = gradients(model, X, y, 1e-6)
    errors = {name: rel_error(numeric[name], analytic[name]) for name in analytic}
    printed = {
        "W1": 1.380104e-04,
        "W2": 1.822723e-02,
        "W3": 3.064049e-04,
        "b1": 3.477652e-05,
        "b2": 2.516375e-03,
        "b3": 7.945660e-10,
    }
    assert errors == pytest.approx(printed, rel=1e-5)
    assert max(errors.values()) < 1e-1
