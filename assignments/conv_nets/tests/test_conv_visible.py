"""Visible checks of the conv nets part. Run them with ``gradekit check``.

They compare your code with values recorded from our solution (``goldens.npz``) and with
numerical gradients of your own forward passes; ``tests/fc_nets/`` holds the fully connected
checks. Passing them is necessary, not sufficient: the graders run more checks.
"""

from pathlib import Path

import numpy as np
import pytest

from gradekit.goldens import Goldens, golden_params, load_cases
from gradekit.harness.checks import assert_gradient_matches

HERE = Path(__file__).parent
CASES = load_cases(HERE / "golden_cases.py")


@pytest.mark.parametrize("case", golden_params(CASES))
def test_matches_recorded_values(case, impl):
    Goldens(HERE / "goldens.npz").check(CASES, case, impl)


@pytest.mark.part("fc_net")
def test_two_layer_net_initialisation(impl):
    """The notebook's asserts: weights of std ``weight_scale`` (within a tenth), zero biases,
    drawn after the notebook's seed and data (a correct init passes on every run)."""
    np.random.seed(231)  # the generator in your code's process too
    np.random.randn(3, 5), np.random.randint(7, size=3)  # the notebook's X and y
    std = 1e-3
    model = impl.get("classifiers.fc_net.TwoLayerNet")(
        input_dim=5, hidden_dim=50, num_classes=7, weight_scale=std)
    for name in ("W1", "W2"):
        assert abs(model.params[name].std() - std) < std / 10, f"{name} does not seem right"
    for name in ("b1", "b2"):
        assert np.all(model.params[name] == 0), f"{name} must start at zero"


@pytest.mark.part("conv")
def test_conv_backward_matches_numerical_gradient(impl):
    rng = np.random.RandomState(231)
    x, w, b = rng.randn(2, 3, 5, 6), rng.randn(2, 3, 3, 2), rng.randn(2)
    conv_param = {"stride": 2, "pad": 1}
    forward = impl.get("layers.conv_forward_naive")
    out, cache = forward(x, w, b, conv_param)
    dout = rng.randn(*out.shape)
    dx, dw, db = impl.get("layers.conv_backward_naive")(dout, cache)
    args = {"x": x, "w": w, "b": b}
    for name, analytic in (("x", dx), ("w", dw), ("b", db)):

        def f(v, name=name):
            return forward(**{**args, name: v}, conv_param=conv_param)[0]

        assert_gradient_matches(f, args[name].copy(), analytic, 1e-7, dout=dout,
                                what=f"conv_backward_naive d{name}")
