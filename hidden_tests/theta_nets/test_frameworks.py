"""The TensorFlow/Keras part: run only where TensorFlow is installed beside gradekit (the
part says ``requires = ["tensorflow"]``; elsewhere it is not applicable and none of this
runs). The models are built by the student's functions in the sandboxed worker and asked for
plain values (their configs, their parameter counts); the trained MNIST model is asked, in
the notebook's kernel, for its labels of test images the kernel never had."""

from itertools import pairwise

import numpy as np
import pytest

pytestmark = [pytest.mark.part("frameworks"), pytest.mark.visibility("hidden")]


def _dense_parameters(units: list[int]) -> int:
    return sum(a * b + b for a, b in pairwise(units))


def test_keras_cifar_mlp_has_318410_parameters(impl):
    model = impl.get("nets.keras_cifar_mlp")()
    count = model.count_params()
    assert count == 318410 == _dense_parameters([3072, 100, 100, 10]), \
        f"the CIFAR-10 MLP has {count} parameters; Flatten, Dense(100), Dropout, Dense(100), " \
        "Dense(10) has 318,410"


@pytest.mark.parametrize("n_units, dropout_rate, learning_rate", [(256, 0.5, 0.05),
                                                                 (64, 0.3, 0.002)])
def test_neural_net_model_uses_its_hyperparameters(impl, n_units, dropout_rate, learning_rate):
    model = impl.get("nets.neural_net_model")(learning_rate=learning_rate,
                                              dropout_rate=dropout_rate, n_units=n_units)
    count = model.count_params()
    want = _dense_parameters([784, n_units, n_units, n_units, 10])
    assert count == want, f"neural_net_model(n_units={n_units}) has {count} parameters, " \
        f"expected {want}: does it use n_units?"
    layers = model.get_config()["layers"]
    rates = [layer["config"]["rate"] for layer in layers if layer["class_name"] == "Dropout"]
    assert rates and all(abs(r - dropout_rate) < 1e-9 for r in rates), \
        f"neural_net_model(dropout_rate={dropout_rate}) has dropout rates {rates}"
    rate = float(model.optimizer.get_config()["learning_rate"])
    assert abs(rate - learning_rate) < 1e-6 * learning_rate, \
        f"neural_net_model(learning_rate={learning_rate}) compiles with learning rate {rate}"


@pytest.mark.timeout(600)
def test_mnist_model_held_out_accuracy(notebook, credit, rubrics):
    from gradekit.data.mnist import get_mnist_held_out

    notebook.require("mnist_model")
    split = get_mnist_held_out()
    images = ((split["X_held_out"] + 1) / 2).reshape(len(split["y_held_out"]), -1)
    accuracy = notebook.accuracy("mnist_model", images.astype(np.float32),
                                 split["y_held_out"], via="keras_labels", batch_size=None)
    credit.award_accuracy(accuracy, rubrics["mnist"], split="held-out",
                          held_out=split["held_out"], images=len(split["y_held_out"]))
