"""The best model the student trained in the notebook, scored on the grader's CIFAR-10 split.

The model predicts inside the sandbox on images only; labels never leave the grader. Credit
follows the pack's rubric on validation accuracy; the held-out (test) accuracy is reported
beside it for staff, since validation labels were the student's to tune on.
"""

import pytest


@pytest.mark.part("accuracy")
@pytest.mark.visibility("hidden")
@pytest.mark.timeout(600)
def test_best_model_validation_accuracy(notebook, dataset, credit, rubric):
    data = dataset("cifar10")
    validation = notebook.accuracy("best_model", data["X_val"], data["y_val"])
    held_out = notebook.accuracy("best_model", data["X_test"], data["y_test"])
    credit.award_accuracy(validation, rubric, split="val", held_out_accuracy=held_out)
