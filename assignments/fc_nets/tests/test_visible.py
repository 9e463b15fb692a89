"""Visible checks of the fc_nets assignment. Run them with ``gradekit check``.

They compare your code with values recorded from our solution (``goldens.npz``) and with
numerical gradients of your own forward passes. Passing them is necessary, not sufficient:
the graders run more checks.
"""

from pathlib import Path

import numpy as np
import pytest

from gradekit.goldens import Goldens, golden_params, load_cases
from gradekit.harness.checks import assert_gradient_matches, assert_model_gradients

HERE = Path(__file__).parent
CASES = load_cases(HERE / "golden_cases.py")


@pytest.mark.parametrize("case", golden_params(CASES))
def test_matches_recorded_values(case, impl):
    Goldens(HERE / "goldens.npz").check(CASES, case, impl)


@pytest.mark.part("normalization")
def test_batchnorm_backward_matches_numerical_gradient(impl):
    rng = np.random.RandomState(0)
    x, gamma, beta, dout = 4 * rng.randn(6, 4) + 3, rng.rand(4) + 0.5, rng.randn(4), rng.randn(6, 4)
    forward = impl.get("layers.batchnorm_forward")
    _, cache = forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = impl.get("layers.batchnorm_backward")(dout, cache)
    args = {"x": x, "gamma": gamma, "beta": beta}
    for name, value, analytic in (("x", x, dx), ("gamma", gamma, dgamma), ("beta", beta, dbeta)):

        def f(v, name=name):
            return forward(**{**args, name: v}, bn_param={"mode": "train"})[0]

        assert_gradient_matches(f, value.copy(), analytic, 1e-7, dout=dout,
                                what=f"batchnorm_backward d{name}")


@pytest.mark.part("fc_net")
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_fully_connected_net_gradients(impl, normalization):
    rng = np.random.RandomState(231)
    X, y = rng.randn(4, 6), rng.randint(3, size=4)
    np.random.seed(231)  # the weights come from the global generator (it travels to the worker)
    model = impl.get("classifiers.fc_net.FullyConnectedNet")(
        [5, 4], input_dim=6, num_classes=3, reg=0.3, weight_scale=0.5,
        normalization=normalization, dtype=np.float64)
    # a bias followed by normalisation has a true gradient of 0: nothing to compare there
    names = ["W1", "W2", "W3", "b3"] + (["gamma1", "beta1", "gamma2", "beta2"]
                                        if normalization else ["b1", "b2"])
    assert_model_gradients(model, X, y, 1e-5, names=names,
                           what=f"FullyConnectedNet({normalization})")


@pytest.mark.part("dropout")
@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout_keeps_a_fraction_p_and_preserves_the_mean(impl, p):
    x = np.random.RandomState(0).randn(300, 300) + 10
    forward = impl.get("layers.dropout_forward")
    train, _ = forward(x, {"mode": "train", "p": p, "seed": 1})
    test, _ = forward(x, {"mode": "test", "p": p})
    kept = np.mean(train != 0)
    assert abs(kept - p) < 0.02, f"kept {kept:.3f} of the units, expected p = {p}"
    assert abs(train.mean() / x.mean() - 1) < 0.02, "train-time output mean should match input"
    assert np.array_equal(test, x), "test-time dropout must return its input"
