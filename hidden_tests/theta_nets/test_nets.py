"""Hidden checks of TwoLayerNet and ThreeLayerNet.

Their computations are checked on ``isolated``: the student's net with the
reference's layers and loss, so a layer bug costs the layers' tests and not these. One
low-weight gradient check per net runs on the student's own layers, as the notebook does,
so a net that only works with the reference's layers still shows.
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_model_gradients, assert_rel_close
from gradekit.harness.models import load_params

pytestmark = pytest.mark.visibility("hidden")

#: per net: its part, its constructor's size keywords and sizes (input, hidden..., classes)
NETS = {
    "TwoLayerNet": ("two_layer", ("input_dim", "hidden_dim", "num_classes"), [6, 9, 4]),
    "ThreeLayerNet": ("three_layer", ("input_dim", "hidden_dim_1", "hidden_dim_2",
                                      "num_classes"), [6, 9, 8, 4]),
}
NET_PARAMS = [pytest.param(name, id=name, marks=pytest.mark.part(part))
              for name, (part, _, _) in NETS.items()]


def _build(view, cls: str, dims: list[int] | None = None, **kwargs):
    _, names, default = NETS[cls]
    sizes = dict(zip(names, dims or default, strict=True))
    return view.get(f"nets.{cls}")(**sizes, **kwargs)


def _pair(view, ref, make_params, cls: str, **kwargs):
    """The student's and the reference's net with the same non-zero-bias parameters."""
    params = make_params(NETS[cls][2])
    model, reference = _build(view, cls, **kwargs), _build(ref, cls, **kwargs)
    load_params(model, params)
    load_params(reference, params)
    return model, reference, params


@pytest.mark.parametrize("cls", NET_PARAMS)
def test_initialisation_shapes_and_statistics(impl, cls):
    np.random.seed(0)  # the worker's generator too
    dims = [60, 50, 40, 30][:len(NETS[cls][2])]
    model = _build(impl, cls, dims, weight_scale=3e-2)
    expected = {f"theta{layer}{end}" for layer in range(1, len(dims)) for end in ("", "_0")}
    names = set(model.params)
    assert names == expected, f"params are {sorted(names)}, expected {sorted(expected)}"
    for layer in range(1, len(dims)):
        theta, theta0 = np.asarray(model.params[f"theta{layer}"]), \
            np.asarray(model.params[f"theta{layer}_0"])
        assert theta.shape == (dims[layer - 1], dims[layer]), \
            f"theta{layer} has shape {theta.shape}, expected {(dims[layer - 1], dims[layer])}"
        assert theta0.shape == (dims[layer],), \
            f"theta{layer}_0 has shape {theta0.shape}, expected {(dims[layer],)}"
        assert abs(theta.std() - 3e-2) < 3e-3, \
            f"theta{layer} std {theta.std():.3g}, expected weight_scale 0.03"
        assert abs(theta.mean()) < 3e-3, f"theta{layer} should be centred on 0"
        assert not theta0.any(), f"theta{layer}_0 must start at zero"


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("cls", NET_PARAMS)
def test_loss_and_gradients_match_reference(isolated, ref, rng, make_params, cls, reg):
    model, reference, _ = _pair(isolated, ref, make_params, cls, reg=reg)
    X, y = rng.randn(5, 2, 3), rng.randint(4, size=5)  # inputs of more than one dimension
    scores = model.loss(X)
    assert np.shape(scores) == (5, 4), f"{cls} scores have shape {np.shape(scores)}, " \
        "expected (m, num_classes) = (5, 4)"
    assert_rel_close(scores, reference.loss(X), 1e-9, what=f"{cls} scores")
    loss, grads = model.loss(X, y)
    want_loss, want_grads = reference.loss(X, y)
    assert_rel_close(loss, want_loss, 1e-9, what=f"{cls} loss (reg={reg})")
    for name, expected in want_grads.items():
        assert name in grads, f"{cls}: grads has no entry {name!r}"
        assert_rel_close(grads[name], expected, 1e-8, what=f"{cls} grad {name} (reg={reg})")


@pytest.mark.parametrize("cls", NET_PARAMS)
def test_penalty_is_half_reg_times_the_squared_weights_only(isolated, rng, make_params, cls):
    """With non-zero biases: the penalty and its gradient, told apart from their usual slips."""
    model = _build(isolated, cls)
    params = make_params(NETS[cls][2])
    load_params(model, params)
    X, y = rng.randn(5, 6), rng.randint(4, size=5)
    model.reg = 0.0
    plain, plain_grads = model.loss(X, y)
    model.reg = 2.0
    loss, grads = model.loss(X, y)
    weights = sorted(k for k in params if not k.endswith("_0"))
    squares = {k: float(np.sum(v ** 2)) for k, v in params.items()}
    penalty, want = loss - plain, 0.5 * 2.0 * sum(squares[k] for k in weights)
    slips = {"it lacks its factor 0.5": 2 * want,
             "the biases are regularised too (only the theta weights are)":
                 0.5 * 2.0 * sum(squares.values())}
    slips |= {f"{k} is not regularised": want - squares[k] for k in weights}
    why = next((s for s, value in slips.items() if abs(penalty - value) < 1e-8 * want), "")
    assert abs(penalty - want) < 1e-8 * want, \
        f"{cls}'s penalty at reg = 2 is {penalty:.6g}, expected 0.5 * reg * sum(theta**2) = " \
        f"{want:.6g}" + (f": {why}" if why else "")
    for name in params:
        extra = np.asarray(grads[name]) - np.asarray(plain_grads[name])
        expected = 2.0 * params[name] if name in weights else np.zeros_like(params[name])
        assert_rel_close(extra, expected, 1e-8, what=f"{cls}: the penalty's gradient of {name}"
                         + (" (biases are not regularised)" if name not in weights else ""))


@pytest.mark.points(0.5)
@pytest.mark.parametrize("cls", NET_PARAMS)
def test_gradient_check_on_the_students_own_layers(impl, rng, make_params, cls):
    model = _build(impl, cls, reg=0.3)
    load_params(model, make_params(NETS[cls][2]))
    X, y = rng.randn(4, 6), rng.randint(4, size=4)
    assert_model_gradients(model, X, y, 1e-6, what=f"{cls} on your own layers")
