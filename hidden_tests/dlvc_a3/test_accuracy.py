"""The network the notebook trained (``parameters``), scored through the notebook's own
``classify`` on MNIST: at least 95% on the training images and on test images the kernel
never had (the first 5000 of t10k; the kernel's get_mnist() returns the other 5000). With or
without batchnorm: ``bnorm_list = [0, ...]`` is the course's partial-credit switch."""

import numpy as np
import pytest


@pytest.mark.part("training")
@pytest.mark.visibility("hidden")
@pytest.mark.timeout(600)
def test_trained_network_accuracy(notebook, dataset, credit, rubric):
    notebook.require("parameters")
    held = dataset("mnist", held_out=True)
    train = dataset("mnist")
    held_acc = notebook.accuracy("parameters", held["X_held_out"], held["y_held_out"],
                                 via="classify", features_first=True, batch_size=None)
    train_acc = notebook.accuracy("parameters", train["X_train"], train["y_train"],
                                  via="classify", features_first=True, batch_size=None)
    # both must pass: the lower of the two is graded
    credit.award_accuracy(min(held_acc, train_acc), rubric, split="held-out and train",
                          held_out=held["held_out"], images=len(held["y_held_out"]),
                          train_accuracy=train_acc, held_out_accuracy=held_acc)
    assert np.isfinite(held_acc)
