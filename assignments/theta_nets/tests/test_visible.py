"""Visible checks of the Multi-Layer Neural Nets notebook. Run them with ``gradekit check``.

They are the notebook's own check cells, with its expected numbers: the affine and ReLU
differences, the gradient checks (seeded here, with thresholds loose enough for any correct
code), the nets' initial weights, their scores and losses on the linspace parameters. Other
values were recorded from our solution (``goldens.npz``). Passing them is necessary, not
sufficient: the graders run more checks.
"""

from pathlib import Path

import numpy as np
import pytest

from gradekit.goldens import Goldens, golden_params, load_cases
from gradekit.gradient_check import rel_error
from gradekit.harness.checks import assert_gradient_matches, assert_model_gradients

HERE = Path(__file__).parent
CASES = load_cases(HERE / "golden_cases.py")
# the cases' input builders, shared with the checks below (a test folder is not importable)
linspace, linspace_net, make_net, seeded = (
    load_cases(HERE / "golden_cases.py", name)
    for name in ("linspace", "linspace_net", "make_net", "seeded"))

TWO = ("TwoLayerNet", [5, 50, 7])
THREE = ("ThreeLayerNet", [5, 50, 30, 7])
NETS = {"two_layer": TWO, "three_layer": THREE}
#: the notebook's expected scores of the linspace nets on the linspace X
SCORES = {
    "TwoLayerNet": [
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765,
         16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135,
         16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506,
         16.2846319]],
    "ThreeLayerNet": [
        [24.7529953, 26.30758862, 27.86218194, 29.41677527, 30.97136859, 32.52596191,
         34.08055524],
        [24.2416125, 25.82700689, 27.41240129, 28.99779568, 30.58319008, 32.16858448,
         33.75397887],
        [23.7302297, 25.34642517, 26.96262063, 28.5788161, 30.19501157, 31.81120704,
         33.42740251]],
}
#: the notebook's expected losses without and with reg = 1.0
LOSSES = {"TwoLayerNet": (3.4702243556, 26.5948426952),
          "ThreeLayerNet": (6.56064352723, 59.1928674811)}
LAYER_NAMES = {1: "first", 2: "second", 3: "third"}


@pytest.mark.parametrize("case", golden_params(CASES))
def test_matches_recorded_values(case, impl):
    Goldens(HERE / "goldens.npz").check(CASES, case, impl)


@pytest.mark.part("layers")
def test_affine_forward_difference(impl):
    x, theta = linspace(-0.1, 0.5, 2, 4, 5, 6), linspace(-0.2, 0.3, 120, 3)
    out, _ = impl.get("nets.affine_forward")(x, theta, np.linspace(-0.3, 0.1, num=3))
    correct = np.array([[1.49834967, 1.70660132, 1.91485297],
                        [3.25553199, 3.5141327, 3.77273342]])
    assert np.shape(out) == (2, 3), f"affine_forward gave shape {np.shape(out)}, expected (2, 3)"
    error = rel_error(out, correct)
    assert error < 1e-9, f"affine_forward differs from the expected output by {error:.2e} " \
        "(the notebook prints 9.769849468192957e-10)"


@pytest.mark.part("layers")
def test_relu_forward_difference(impl):
    out, _ = impl.get("nets.relu_forward")(linspace(-0.5, 0.5, 3, 4))
    correct = np.array([[0, 0, 0, 0], [0, 0, 0.04545455, 0.13636364],
                        [0.22727273, 0.31818182, 0.40909091, 0.5]])
    error = rel_error(out, correct)
    assert error < 1e-7, f"relu_forward differs from the expected output by {error:.2e} " \
        "(the notebook prints 4.999999798022158e-08)"


@pytest.mark.part("layers")
def test_affine_backward_gradient_check(impl):
    rng = seeded(1)
    x, theta, theta0, dout = rng.randn(10, 2, 3), rng.randn(6, 5), rng.randn(5), rng.randn(10, 5)
    forward = impl.get("nets.affine_forward")
    _, cache = forward(x, theta, theta0)
    grads = impl.get("nets.affine_backward")(dout, cache)
    args = {"x": x, "theta": theta, "theta0": theta0}
    for (name, value), analytic in zip(args.items(), grads, strict=True):

        def f(v, name=name):
            return forward(**{**args, name: v})[0]

        assert_gradient_matches(f, value.copy(), analytic, 1e-8, dout=dout,
                                what=f"affine_backward d{name}")


@pytest.mark.part("layers")
def test_relu_backward_gradient_check(impl):
    rng = seeded(1)
    x, dout = rng.randn(10, 10), rng.randn(10, 10)
    forward = impl.get("nets.relu_forward")
    _, cache = forward(x)
    dx = impl.get("nets.relu_backward")(dout, cache)
    assert_gradient_matches(lambda v: forward(v)[0], x.copy(), dx, 1e-10, dout=dout,
                            what="relu_backward dx")


@pytest.mark.part("softmax")
def test_softmax_loss_gradient_check(impl):
    rng = seeded(1)
    x, y = 0.001 * rng.randn(50, 10), rng.randint(10, size=50)
    softmax = impl.get("nets.softmax_loss")
    loss, dx = softmax(x, y)
    assert abs(loss - np.log(10)) < 0.01, \
        f"softmax_loss of near-zero scores over 10 classes should be about 2.3, got {loss}"
    assert_gradient_matches(lambda v: softmax(v, y)[0], x.copy(), dx, 1e-7,
                            what="softmax_loss dx")


def _parts(*names: str) -> list:
    return [pytest.param(NETS[name], id=name, marks=pytest.mark.part(name)) for name in names]


@pytest.mark.parametrize("net", _parts("two_layer", "three_layer"))
def test_initialisation(impl, net):
    cls, dims = net
    np.random.seed(0)  # the worker's generator too: a correct init passes on every run
    model = make_net(impl, cls, dims, weight_scale=1e-2)
    for layer in range(1, len(dims)):
        theta, theta0 = model.params[f"theta{layer}"], model.params[f"theta{layer}_0"]
        which = LAYER_NAMES[layer].capitalize()
        shape = (dims[layer - 1], dims[layer])
        assert np.shape(theta) == shape, f"theta{layer} has shape {np.shape(theta)}, " \
            f"expected {shape}"
        assert abs(np.std(theta) - 1e-2) < 1e-3, \
            f"{which} layer weights do not seem right: std {np.std(theta):.3g}, expected " \
            "weight_scale 0.01"
        assert np.all(np.asarray(theta0) == 0), f"{which} layer biases must start at zero"


@pytest.mark.parametrize("net", _parts("two_layer", "three_layer"))
def test_scores_of_the_linspace_net(impl, net):
    model, X, _ = linspace_net(impl, *net)
    scores = np.asarray(model.loss(X))
    assert scores.shape == (3, 7), f"scores have shape {scores.shape}, expected (3, 7)"
    difference = np.abs(scores - SCORES[net[0]]).sum()
    assert difference < 1e-6, f"{net[0]} scores differ from the notebook's by {difference:.3g}"


def _penalty_diagnosis(got: float, data_loss: float, params: dict, reg: float) -> str:
    """Which wrong regulariser gives ``got``, in words, or ''."""
    weights = sorted(k for k in params if not k.endswith("_0"))
    half = {k: 0.5 * reg * float(np.sum(np.asarray(v) ** 2)) for k, v in params.items()}
    total = sum(half[k] for k in weights)
    wrong = {"the penalty lacks its factor 0.5": data_loss + 2 * total,
             "the biases are regularised too (only the theta weights are)":
                 data_loss + sum(half.values()),
             "the loss has no regularisation term": data_loss}
    for k in weights:
        layer = LAYER_NAMES[int(k.removeprefix("theta"))]
        wrong[f"the {layer} layer's weights are not regularised"] = data_loss + total - half[k]
        for other in weights:
            if other != k:
                wrong[f"the {layer} layer's weights are not regularised ({other} is counted "
                      "twice instead)"] = data_loss + total - half[k] + half[other]
    return next((why for why, value in wrong.items() if abs(got - value) < 1e-6), "")


@pytest.mark.parametrize("net", _parts("two_layer", "three_layer"))
def test_loss_of_the_linspace_net(impl, net):
    model, X, y = linspace_net(impl, *net)
    expected, expected_reg = LOSSES[net[0]]
    loss, _ = model.loss(X, y)
    assert abs(loss - expected) < 1e-10, \
        f"{net[0]} loss without regularisation is {loss}, expected {expected}"
    model.reg = 1.0
    reg_loss, _ = model.loss(X, y)
    params = {k: np.asarray(model.params[k]) for k in model.params}
    why = _penalty_diagnosis(reg_loss, expected, params, 1.0)
    assert abs(reg_loss - expected_reg) < 1e-10, \
        f"{net[0]} loss with reg = 1.0 is {reg_loss}, expected {expected_reg}" + \
        (f": {why}" if why else "")


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("net", _parts("two_layer", "three_layer"))
def test_gradient_check(impl, net, reg):
    cls, dims = net
    rng = seeded(2)
    X, y = rng.randn(3, dims[0]), rng.randint(dims[-1], size=3)
    np.random.seed(2)
    model = make_net(impl, cls, dims, weight_scale=5e-2, reg=reg)
    assert_model_gradients(model, X, y, 1e-5, what=f"{cls}(reg={reg})")
