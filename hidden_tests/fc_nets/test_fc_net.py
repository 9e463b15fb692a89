"""Hidden checks of TwoLayerNet and FullyConnectedNet.

The nets' computations are checked on ``isolated``: the student's net on the reference's
layers, so a layer bug costs the layers' tests and not these (the visible tests check the
net on the student's own layers).
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_norm_close, assert_rel_close
from gradekit.harness.models import load_params, model_gradient

pytestmark = [pytest.mark.part("fc_net"), pytest.mark.visibility("hidden")]

NORMALIZATIONS = [None, "batchnorm", "layernorm"]


def _pair(impl, ref, cls: str, **kwargs):
    return impl.get(cls)(**kwargs), ref.get(cls)(**kwargs)


def test_two_layer_net_initialisation(impl):
    np.random.seed(0)  # the worker's generator too: a correct init passes on every run
    model = impl.get("classifiers.fc_net.TwoLayerNet")(
        input_dim=40, hidden_dim=60, num_classes=20, weight_scale=2e-2)
    shapes = {"W1": (40, 60), "b1": (60,), "W2": (60, 20), "b2": (20,)}
    for name, shape in shapes.items():
        value = model.params[name]
        assert value.shape == shape, f"{name} has shape {value.shape}, expected {shape}"
    for name in ("W1", "W2"):
        std = model.params[name].std()
        assert abs(std - 2e-2) < 2e-3, f"{name} std is {std:.3g}, expected weight_scale 0.02"
    assert not model.params["b1"].any() and not model.params["b2"].any(), "biases must start at 0"


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_loss_and_gradients(isolated, ref, rng, make_params, reg):
    kwargs = {"input_dim": 6, "hidden_dim": 9, "num_classes": 4, "reg": reg}
    model, reference = _pair(isolated, ref, "classifiers.fc_net.TwoLayerNet", **kwargs)
    params = make_params([6, 9, 4], None)
    load_params(model, params)
    load_params(reference, params)
    X, y = rng.randn(5, 2, 3), rng.randint(4, size=5)
    assert_rel_close(model.loss(X), reference.loss(X), 1e-9, what="TwoLayerNet scores")
    loss, grads = model.loss(X, y)
    want_loss, want_grads = reference.loss(X, y)
    assert_rel_close(loss, want_loss, 1e-9, what=f"TwoLayerNet loss (reg={reg})")
    for name, expected in want_grads.items():
        assert name in grads, f"grads has no entry {name!r}"
        assert_rel_close(grads[name], expected, 1e-8, what=f"TwoLayerNet grad {name} (reg={reg})")


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fc_net_initialisation(impl, normalization, dtype):
    # seeded (the worker's generator too), and every weight matrix large enough that a
    # correct init's std is within 10% of weight_scale by five standard errors
    np.random.seed(0)
    model = impl.get("classifiers.fc_net.FullyConnectedNet")(
        [30, 40], input_dim=50, num_classes=30, weight_scale=3e-2, normalization=normalization,
        dtype=dtype)
    dims = [50, 30, 40, 30]
    expected = {f"W{i + 1}" for i in range(3)} | {f"b{i + 1}" for i in range(3)}
    if normalization:
        expected |= {"gamma1", "gamma2", "beta1", "beta2"}
    names = set(model.params)
    assert names == expected, f"params are {sorted(names)}, expected {sorted(expected)}"
    for i in range(3):
        W, b = model.params[f"W{i + 1}"], model.params[f"b{i + 1}"]
        assert W.shape == (dims[i], dims[i + 1]), f"W{i + 1} has shape {W.shape}"
        assert W.dtype == dtype, f"W{i + 1} is {W.dtype}, expected {np.dtype(dtype)}"
        assert abs(W.std() - 3e-2) < 3e-3, f"W{i + 1} std {W.std():.3g} != weight_scale 0.03"
        assert not b.any(), f"b{i + 1} must start at zero"
    for i in range(2 if normalization else 0):
        assert np.all(model.params[f"gamma{i + 1}"] == 1), "gamma must start at one"
        assert not model.params[f"beta{i + 1}"].any(), "beta must start at zero"


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("reg", [0.0, 1.3])
def test_fc_net_matches_reference(isolated, ref, rng, make_params, normalization, reg):
    kwargs = {"hidden_dims": [8, 7], "input_dim": 6, "num_classes": 5, "reg": reg,
              "normalization": normalization, "dtype": np.float64}
    model, reference = _pair(isolated, ref, "classifiers.fc_net.FullyConnectedNet", **kwargs)
    params = make_params([6, 8, 7, 5], normalization)
    load_params(model, params)
    load_params(reference, params)
    X, y = rng.randn(10, 6), rng.randint(5, size=10)
    loss, grads = model.loss(X, y)
    want_loss, want_grads = reference.loss(X, y)
    what = f"FullyConnectedNet(normalization={normalization}, reg={reg})"
    assert_rel_close(loss, want_loss, 1e-8, what=f"{what} loss")
    for name, expected in want_grads.items():
        assert name in grads, f"{what}: grads has no entry {name!r}"
        assert_rel_close(grads[name], expected, 1e-6, what=f"{what} grad {name}")


def test_fc_net_with_dropout_passes_a_gradient_check(isolated, rng, make_params):
    model = isolated.get("classifiers.fc_net.FullyConnectedNet")(
        [6, 5], input_dim=4, num_classes=3, dropout_keep_ratio=0.7, seed=123,
        dtype=np.float64, reg=0.1)
    load_params(model, make_params([4, 6, 5, 3], None))
    X, y = rng.randn(7, 4), rng.randint(3, size=7)
    _, grads = model.loss(X, y)
    for name in ("W1", "b1", "W3"):
        assert_rel_close(grads[name], model_gradient(model, X, y, name), 1e-5,
                         what=f"dropout net grad {name} vs numerical gradient")


def test_test_mode_batchnorm_uses_running_statistics(isolated, ref, rng, make_params):
    kwargs = {"hidden_dims": [8], "input_dim": 5, "num_classes": 3,
              "normalization": "batchnorm", "dtype": np.float64}
    model, reference = _pair(isolated, ref, "classifiers.fc_net.FullyConnectedNet", **kwargs)
    params = make_params([5, 8, 3], "batchnorm")
    load_params(model, params)
    load_params(reference, params)
    for _ in range(5):  # fill the running statistics
        X, y = rng.randn(16, 5) + 2, rng.randint(3, size=16)
        model.loss(X, y)
        reference.loss(X, y)
    X = rng.randn(12, 5) + 2
    full = model.loss(X)
    assert_rel_close(full, reference.loss(X), 1e-8,
                     what="test-mode scores after 5 training passes (running statistics)")
    assert_rel_close(model.loss(X[:3]), full[:3], 1e-10,
                     what="test-mode scores of the first 3 samples scored alone vs in a batch "
                          "of 12 (test mode must use running statistics)")
    assert_rel_close(model.loss(X), full, 1e-12,
                     what="test-mode scores twice in a row (running stats changed in test mode?)")


def test_train_mode_applies_dropout(isolated, ref, rng, make_params):
    kwargs = {"hidden_dims": [20, 20], "input_dim": 5, "num_classes": 3,
              "dropout_keep_ratio": 0.5, "seed": 123, "dtype": np.float64}
    model, reference = _pair(isolated, ref, "classifiers.fc_net.FullyConnectedNet", **kwargs)
    params = make_params([5, 20, 20, 3], None)
    load_params(model, params)
    load_params(reference, params)
    plain = ref.get("classifiers.fc_net.FullyConnectedNet")(
        [20, 20], input_dim=5, num_classes=3, dtype=np.float64)
    load_params(plain, params)
    X, y = rng.randn(6, 5), rng.randint(3, size=6)
    loss, grads = model.loss(X, y)
    want, want_grads = reference.loss(X, y)
    assert not np.isclose(loss, plain.loss(X, y)[0], rtol=1e-12, atol=0), (
        "with dropout_keep_ratio=0.5 the training loss is the loss of the same net without "
        "dropout: the net never applies dropout in train mode")
    assert_rel_close(loss, want, 1e-9, what="training loss with dropout (keep 0.5, seed 123)")
    for name in ("W1", "b2"):
        assert_rel_close(grads[name], want_grads[name], 1e-8,
                         what=f"training grad {name} with dropout (keep 0.5, seed 123)")


def test_test_mode_disables_dropout(isolated, ref, rng, make_params):
    model = isolated.get("classifiers.fc_net.FullyConnectedNet")(
        [20, 20], input_dim=5, num_classes=3, dropout_keep_ratio=0.5, dtype=np.float64)
    params = make_params([5, 20, 20, 3], None)
    load_params(model, params)
    plain = ref.get("classifiers.fc_net.FullyConnectedNet")(
        [20, 20], input_dim=5, num_classes=3, dtype=np.float64)
    load_params(plain, params)
    X = rng.randn(6, 5)
    assert_rel_close(model.loss(X), plain.loss(X), 1e-9,
                     what="test-mode scores with dropout vs the same net without dropout")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fc_net_computes_in_its_dtype(isolated, ref, rng, make_params, dtype):
    kwargs = {"hidden_dims": [7], "input_dim": 4, "num_classes": 3, "dtype": dtype}
    model, reference = _pair(isolated, ref, "classifiers.fc_net.FullyConnectedNet", **kwargs)
    params = {name: value.astype(dtype) for name, value in make_params([4, 7, 3]).items()}
    load_params(model, params)
    load_params(reference, params)
    X = rng.randn(5, 4)  # float64 input
    scores = model.loss(X)
    assert scores.dtype == dtype, f"scores are {scores.dtype} for a {np.dtype(dtype)} model"
    assert_norm_close(scores, reference.loss(X), 1e-5,
                      what=f"scores of a {np.dtype(dtype)} model")
