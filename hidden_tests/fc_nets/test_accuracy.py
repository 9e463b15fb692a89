"""The best model the student trained in the notebook, scored on CIFAR-10 images its code
never had the labels of.

The notebook's kernel reads the grader's view of the data set (``gradekit.data.view``): the
five training batches and what is left of ``test_batch`` once its first 1000 images (the
notebooks' test split) are taken out. Those 1000 earn the credit: the model predicts on them
inside the sandbox, the labels stay here, and the pack's rubric applies to that accuracy.
The accuracy on the notebook's own validation split, which the student tuned on, is reported
beside it for staff (a memorising model scores far better there than on the held-out images).
"""

import pytest


@pytest.mark.part("accuracy")
@pytest.mark.visibility("hidden")
@pytest.mark.timeout(600)
def test_best_model_held_out_accuracy(notebook, dataset, credit, rubric):
    notebook.require("best_model")  # before loading the data: a notebook that never ran
    data = dataset("cifar10", held_out=True)
    accuracy = notebook.accuracy("best_model", data["X_held_out"], data["y_held_out"])
    validation = notebook.accuracy("best_model", data["X_val"], data["y_val"])
    credit.award_accuracy(accuracy, rubric, split="held-out", held_out=data["held_out"],
                          images=len(data["y_held_out"]), validation_accuracy=validation)
