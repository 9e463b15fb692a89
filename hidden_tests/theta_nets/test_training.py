"""The TwoLayerNet the notebook trained with the Solver (its ``model``), scored on CIFAR-10
images the notebook's kernel never had: the first 1000 of ``test_batch``, held out of the
data view the kernel reads. The notebook's own validation accuracy, which the student tuned
on, is reported beside it."""

import pytest


@pytest.mark.part("training")
@pytest.mark.visibility("hidden")
@pytest.mark.timeout(600)
def test_trained_two_layer_net_held_out_accuracy(notebook, dataset, credit, rubric):
    notebook.require("model")  # before loading the data: a notebook that never ran
    split = dataset("cifar10", held_out=True)
    images, labels = split["X_held_out"], split["y_held_out"]
    credit.award_accuracy(
        notebook.accuracy("model", images, labels), rubric, split="held-out",
        held_out=split["held_out"], images=len(labels),
        validation_accuracy=notebook.accuracy("model", split["X_val"], split["y_val"]))
