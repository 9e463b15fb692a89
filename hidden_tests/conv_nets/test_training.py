"""Training checks of the notebooks.

The overfitting checks train the student's nets in the grader (the reference Solver, SGD) on
the reference's layers (``isolated``), so a layer bug costs the layers and not these; each
counts in its net's part, so a net bug costs that part once. The notebooks' printed
accuracies are the student's own output and are never read: the one-epoch conv net is the
``model`` the ConvolutionalNetworks notebook leaves, scored here on images whose labels stay
with the grader.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gradekit.solver import Solver

pytestmark = pytest.mark.visibility("hidden")


def _small_data(dataset, count: int) -> dict[str, np.ndarray]:
    data = dataset("cifar10")  # as get_CIFAR10_data() gives the notebook
    return {"X_train": data["X_train"][:count], "y_train": data["y_train"][:count],
            "X_val": data["X_val"][:20], "y_val": data["y_val"][:20]}  # not what is asked


def _train(model, data, *, epochs: int, batch_size: int, learning_rate: float) -> Solver:
    np.random.seed(231)  # the Solver's minibatches
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": learning_rate},
                    num_epochs=epochs, batch_size=batch_size, print_every=10**9, verbose=False)
    # the reference's stand-in layers run here: one BLAS thread, as small arrays want (more
    # spin against the sandboxed worker on a shared machine)
    with threadpool_limits(limits=1, user_api="blas"):
        solver.train()
    return solver


@pytest.mark.part("fc_net")
@pytest.mark.parametrize("hidden, weight_scale, learning_rate", [
    pytest.param([100, 100], 5e-2, 1e-3, id="three-layer"),
    pytest.param([100, 100, 100, 100], 9e-2, 1e-3, id="five-layer"),
])
def test_fc_net_overfits_50_examples(isolated, dataset, hidden, weight_scale, learning_rate):
    """The notebook's task: 100% training accuracy on 50 images within 20 epochs (SGD, batch
    25), with the settings that reach it on the reference."""
    np.random.seed(231)
    model = isolated.get("classifiers.fc_net.FullyConnectedNet")(
        hidden, weight_scale=weight_scale, dtype=np.float64)
    data = _small_data(dataset, 50)
    solver = _train(model, data, epochs=20, batch_size=25, learning_rate=learning_rate)
    accuracy = max(solver.train_acc_history)
    assert accuracy == 1.0, (
        f"a {len(hidden) + 1}-layer FullyConnectedNet reached {accuracy:.0%} training accuracy "
        f"on 50 images in 20 epochs (weight_scale {weight_scale}, learning rate "
        f"{learning_rate}); a correct net reaches 100%")


@pytest.mark.part("cnn")
def test_conv_net_overfits_100_examples(isolated, dataset):
    """ThreeLayerConvNet(weight_scale=1e-2) with SGD on 100 images: the notebook expects
    "very high training accuracy" (35 epochs at 1e-3); 15 epochs at 3e-3, asking 80%."""
    np.random.seed(231)
    model = isolated.get("classifiers.cnn.ThreeLayerConvNet")(weight_scale=1e-2)
    solver = _train(model, _small_data(dataset, 100), epochs=15, batch_size=50,
                    learning_rate=3e-3)
    accuracy = max(solver.train_acc_history)
    assert accuracy >= 0.8, (
        f"ThreeLayerConvNet reached {accuracy:.0%} training accuracy on 100 images in 15 "
        "epochs; a correct net overfits them (over 90%)")


@pytest.mark.part("training")
@pytest.mark.timeout(600)
def test_conv_net_after_one_epoch_held_out_accuracy(notebook, dataset, credit, rubrics):
    """The ConvolutionalNetworks notebook's last ``model``: the net trained for one epoch."""
    notebook.require("model")
    data = dataset("cifar10", held_out=True)
    accuracy = notebook.accuracy("model", data["X_held_out"], data["y_held_out"])
    credit.award_accuracy(accuracy, rubrics["conv_one_epoch"], split="held-out",
                          held_out=data["held_out"], images=len(data["y_held_out"]))
