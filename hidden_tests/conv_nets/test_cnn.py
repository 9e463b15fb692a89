"""Hidden checks of ThreeLayerConvNet.

Its computations are checked on ``isolated``: the student's net on the reference's layers, so
a bug in the student's affine or conv layers costs those layers' tests, not these. The
initialisation is checked on the student's own code (it calls no layer).
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_rel_close, assert_shape
from gradekit.harness.models import load_params, model_gradient

pytestmark = [pytest.mark.part("cnn"), pytest.mark.visibility("hidden")]

NET = "classifiers.cnn.ThreeLayerConvNet"


def _params(rng, C, H, W, F, fs, hidden, classes, scale=0.1):
    pooled = F * (H // 2) * (W // 2)  # odd filters keep H x W; the pool halves it
    shapes = {"W1": (F, C, fs, fs), "b1": (F,), "W2": (pooled, hidden), "b2": (hidden,),
              "W3": (hidden, classes), "b3": (classes,)}
    return {name: scale * rng.randn(*shape) for name, shape in shapes.items()}


def _nets(isolated, ref, rng, C, H, W, F, fs, hidden, classes):
    """The student's net (on the reference's layers) and the reference's, same weights."""
    kwargs = {"input_dim": (C, H, W), "num_filters": F, "filter_size": fs,
              "hidden_dim": hidden, "num_classes": classes, "dtype": np.float64}
    model, reference = isolated.get(NET)(**kwargs), ref.get(NET)(**kwargs)
    params = _params(rng, C, H, W, F, fs, hidden, classes)
    load_params(model, params)
    load_params(reference, params)
    return model, reference


def test_default_architecture(impl):
    """The defaults the notebook relies on: 32 filters of 7x7, 100 hidden units, 10 classes,
    on 3x32x32 images."""
    model = impl.get(NET)()
    shapes = {"W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,),
              "W3": (100, 10), "b3": (10,)}
    assert set(model.params) == set(shapes), \
        f"params has keys {sorted(model.params)}, expected {sorted(shapes)}"
    for name, shape in shapes.items():
        assert_shape(model.params[name], shape, what=f"ThreeLayerConvNet() params[{name!r}]")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialisation(impl, dtype):
    # seeded (the worker's generator too), and every weight large enough that a correct
    # init's std is within 10% of weight_scale by five standard errors
    np.random.seed(0)
    scale = 2e-2
    model = impl.get(NET)(input_dim=(3, 16, 16), num_filters=16, filter_size=5, hidden_dim=50,
                          num_classes=25, weight_scale=scale, dtype=dtype)
    for name in ("W1", "W2", "W3"):
        std = model.params[name].std()
        assert abs(std - scale) < scale / 10, \
            f"{name} has std {std:.3g}: expected weight_scale * randn (std {scale})"
    for name in ("b1", "b2", "b3"):
        assert not np.any(model.params[name]), f"{name} must start at zero"
    for name, value in model.params.items():
        assert value.dtype == dtype, f"params[{name!r}] is {value.dtype}, expected {dtype}"


def test_w2_takes_the_pooled_size_of_a_non_square_image(impl):
    model = impl.get(NET)(input_dim=(2, 12, 10), num_filters=6, filter_size=5, hidden_dim=40,
                          num_classes=5)
    assert_shape(model.params["W1"], (6, 2, 5, 5), what="W1 (filters, channels, fs, fs)")
    assert_shape(model.params["W2"], (6 * 6 * 5, 40), what="W2 (filters * H/2 * W/2, hidden)")


@pytest.mark.parametrize("filter_size", [3, 5, 7])
def test_same_padding_keeps_the_image_size(isolated, ref, rng, filter_size):
    """The conv pads by (filter_size - 1) // 2 with stride 1, so only the pool halves H, W."""
    C, H, W = 2, 10, 8
    model, reference = _nets(isolated, ref, rng, C, H, W, 3, filter_size, 6, 4)
    X = rng.randn(3, C, H, W)
    assert_rel_close(model.loss(X), reference.loss(X), 1e-9,
                     what=f"ThreeLayerConvNet scores (filter_size {filter_size})")


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_loss_and_gradients_match_reference(isolated, ref, rng, reg):
    C, H, W, classes = 3, 8, 8, 6
    model, reference = _nets(isolated, ref, rng, C, H, W, 4, 3, 10, classes)
    model.reg = reg  # set after construction: loss() must read it when it runs
    reference.reg = reg
    X, y = rng.randn(4, C, H, W), rng.randint(classes, size=4)
    assert_shape(model.loss(X), (4, classes), what="loss(X) without y: class scores (N, C)")
    loss, grads = model.loss(X, y)
    want_loss, want_grads = reference.loss(X, y)
    assert_rel_close(loss, want_loss, 1e-9,
                     what=f"ThreeLayerConvNet loss (reg={reg}; the penalty is 0.5*reg*sum(W**2) "
                          "over W1, W2, W3)")
    assert set(grads) == set(want_grads), \
        f"grads has keys {sorted(grads)}, expected one per parameter {sorted(want_grads)}"
    for name, expected in want_grads.items():
        assert_rel_close(grads[name], expected, 1e-8,
                         what=f"ThreeLayerConvNet grad {name} (reg={reg})")


def test_gradients_match_numerical_gradients(isolated, rng):
    """Your loss and your gradients agree: a central difference of your own loss."""
    C, H, W, F, fs, hidden, classes = 2, 6, 6, 2, 3, 5, 3
    model = isolated.get(NET)(input_dim=(C, H, W), num_filters=F, filter_size=fs,
                              hidden_dim=hidden, num_classes=classes, reg=0.2,
                              dtype=np.float64)
    load_params(model, _params(rng, C, H, W, F, fs, hidden, classes, scale=0.3))
    X, y = rng.randn(2, C, H, W), rng.randint(classes, size=2)
    _, grads = model.loss(X, y)
    for name in ("W3", "b3", "b2", "b1"):  # the small ones: every entry is a loss call
        numerical = model_gradient(model, X, y, name, h=1e-6)
        assert_rel_close(grads[name], numerical, 1e-6,
                         what=f"ThreeLayerConvNet grad {name} vs numerical gradient")
