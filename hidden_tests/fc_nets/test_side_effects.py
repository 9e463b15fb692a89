"""Hidden checks that layers leave their inputs, upstream gradients and caches alone.

A layer that writes into ``x`` or ``dout`` corrupts the caller's arrays (the next layer's
cache, the Solver's data); through the sandbox such writes still come back to the grader,
so these checks see them as they would in a notebook.
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_not_mutated, assert_rel_close, unchanged

pytestmark = pytest.mark.visibility("hidden")


@pytest.mark.part("layers")
def test_affine_leaves_inputs_gradients_and_cache_alone(impl, rng):
    x, w, b, dout = rng.randn(4, 3, 2), rng.randn(6, 5), rng.randn(5), rng.randn(4, 5)
    _, cache = assert_not_mutated(impl.get("layers.affine_forward"), x, w, b,
                                  what="affine_forward", names=("x", "w", "b"))
    assert_not_mutated(impl.get("layers.affine_backward"), dout, cache,
                       what="affine_backward", names=("dout", "cache"))


@pytest.mark.part("layers")
def test_relu_leaves_inputs_gradients_and_cache_alone(impl, rng):
    x, dout = rng.randn(5, 6), rng.randn(5, 6)
    _, cache = assert_not_mutated(impl.get("layers.relu_forward"), x,
                                  what="relu_forward", names=("x",))
    assert_not_mutated(impl.get("layers.relu_backward"), dout, cache,
                       what="relu_backward", names=("dout", "cache"))


@pytest.mark.part("layers")
@pytest.mark.parametrize("loss", ["svm_loss", "softmax_loss"])
def test_losses_leave_scores_and_labels_alone(impl, rng, loss):
    assert_not_mutated(impl.get(f"layers.{loss}"), rng.randn(6, 4), rng.randint(4, size=6),
                       what=loss, names=("x", "y"))


@pytest.mark.part("normalization")
def test_batchnorm_backward_leaves_gradient_and_cache_alone(impl, rng):
    x, gamma, beta, dout = rng.randn(8, 3), rng.rand(3) + 0.5, rng.randn(3), rng.randn(8, 3)
    _, cache = impl.get("layers.batchnorm_forward")(x, gamma, beta, {"mode": "train"})
    assert_not_mutated(impl.get("layers.batchnorm_backward"), dout, cache,
                       what="batchnorm_backward", names=("dout", "cache"))


@pytest.mark.part("normalization")
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_normalization_leaves_its_input_alone(impl, ref, rng, norm):
    x, gamma, beta = rng.randn(8, 3), rng.rand(3) + 0.5, rng.randn(3)
    with unchanged(x=x, gamma=gamma, beta=beta):  # bn_param keeps the running statistics
        out, _ = impl.get(f"layers.{norm}_forward")(x, gamma, beta, {"mode": "train"})
    want, _ = ref.get(f"layers.{norm}_forward")(x, gamma, beta, {"mode": "train"})
    assert_rel_close(out, want, 1e-9, what=f"{norm}_forward output")


@pytest.mark.part("dropout")
def test_dropout_leaves_its_input_alone(impl, rng):
    x = rng.rand(40, 50) + 0.5
    with unchanged(x=x):
        out, _ = impl.get("layers.dropout_forward")(x, {"mode": "train", "p": 0.5, "seed": 0})
    out = np.asarray(out)
    kept = out != 0
    assert 0 < kept.mean() < 1 and np.allclose(out[kept], x[kept] / 0.5), \
        "dropout_forward must zero some units and scale the others by 1/p"


@pytest.mark.part("fc_net")
def test_the_net_leaves_its_data_alone(impl, rng):
    model = impl.get("classifiers.fc_net.FullyConnectedNet")(
        [6], input_dim=4, num_classes=3, normalization="batchnorm", dtype=np.float64)
    assert_not_mutated(model.loss, rng.randn(5, 4), rng.randint(3, size=5),
                       what="FullyConnectedNet.loss", names=("X", "y"))


@pytest.mark.part("fc_net")
def test_the_net_leaves_its_constructor_arguments_alone(impl):
    hidden_dims = [6, 5]
    assert_not_mutated(impl.get("classifiers.fc_net.FullyConnectedNet"), hidden_dims,
                       input_dim=4, num_classes=3, dtype=np.float64,
                       what="FullyConnectedNet(hidden_dims, ...)", names=("hidden_dims",))
