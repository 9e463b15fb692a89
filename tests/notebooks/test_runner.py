"""A submission's notebooks: finding the submitted file, what a missing one reports, grading
without notebooks, accuracy on labels that stay in the grader, and which tests a failed cell
cost."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from notebook_helpers import write_notebook

from gradekit.harness.results import TestResult
from gradekit.notebooks import ArtifactError
from gradekit.notebooks.runner import NOT_RUN, SubmissionNotebooks, find_notebook
from gradekit.packs import NotebookSpec

SPEC = NotebookSpec("FullyConnectedNets.ipynb", artifacts=("best_model",))
LINEAR = """\
import numpy as np

class Linear:
    def __init__(self, W):
        self.W = W

    def loss(self, X, y=None):
        return X @ self.W
"""


def test_find_notebook_prefers_the_exact_path(tmp_path: Path) -> None:
    exact = write_notebook(tmp_path / SPEC.path, "x = 1")
    write_notebook(tmp_path / "copy" / SPEC.path, "x = 2")
    assert find_notebook(tmp_path, SPEC) == exact


def test_find_notebook_takes_the_shallowest_nested_copy(tmp_path: Path) -> None:
    write_notebook(tmp_path / "a" / "b" / SPEC.path, "x = 1")
    shallow = write_notebook(tmp_path / "z" / SPEC.path, "x = 2")
    assert find_notebook(tmp_path, SPEC) == shallow


def test_find_notebook_skips_checkpoints_and_symlinks(tmp_path: Path) -> None:
    write_notebook(tmp_path / ".ipynb_checkpoints" / SPEC.path, "x = 1")
    write_notebook(tmp_path / "__MACOSX" / SPEC.path, "x = 1")
    outside = write_notebook(tmp_path.parent / f"{tmp_path.name}-elsewhere.ipynb", "x = 1")
    (tmp_path / SPEC.path).symlink_to(outside)
    assert find_notebook(tmp_path, SPEC) is None
    real = write_notebook(tmp_path / "hw" / SPEC.path, "x = 1")
    assert find_notebook(tmp_path, SPEC) == real


def test_a_missing_notebook_is_reported_as_missing(make_run) -> None:
    run = make_run("x = 1")
    run.path = None
    run.execute()
    report = run.report()
    assert (report.status, report.message) == ("missing", "Homework.ipynb was not submitted")
    with pytest.raises(ArtifactError, match=re.escape(
            "best_model is not available: Homework.ipynb: Homework.ipynb was not submitted")):
        run.predict("best_model", np.zeros((1, 2)))


def test_an_invalid_notebook_is_reported_and_not_started(make_run) -> None:
    run = make_run("x = 1")
    run.path.write_text("{not json")
    run.execute()
    assert run.status == "invalid" and "is not valid JSON" in run.message
    assert run.client is None and run.report().cells_total == 0


def test_without_notebooks_predicting_says_how_to_run_them() -> None:
    notebooks = SubmissionNotebooks([], executed=False)
    notebooks.current_test = "test_accuracy"
    with pytest.raises(ArtifactError, match=re.escape(f"best_model is not available: {NOT_RUN}")):
        notebooks.predict("best_model", np.zeros((1, 2)))
    assert notebooks.needed_by == {"best_model": {"test_accuracy"}}


def test_an_artifact_no_notebook_exports_is_named(make_run) -> None:
    notebooks = SubmissionNotebooks([make_run("x = 1", artifacts=("best_model",))])
    with pytest.raises(ArtifactError, match="no notebook of this assignment exports "
                                            "'other_model'"):
        notebooks.run_with("other_model")


def test_accuracy_scores_the_models_predictions_against_the_labels(make_run) -> None:
    W = "np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])"
    with SubmissionNotebooks([make_run(LINEAR, f"best_model = Linear({W})",
                                       artifacts=("best_model",))]) as notebooks:
        notebooks.execute()
        images = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]  # predicted classes 0 1 2 0 1 2 0 1
        labels = np.array([0, 1, 2, 0, 1, 2, 2, 2])
        assert notebooks.accuracy("best_model", images, labels, batch_size=3) == 6 / 8
        run = notebooks.runs[0]
    assert run.client is None  # leaving the block stopped the kernel


CLASSIFY = """\
import numpy as np

def classify(X, parameters, mode="test"):
    # feature-major: X is (features, images); labels come back as a (1, m) row
    assert X.shape[0] == parameters["W"].shape[1], X.shape
    return np.argmax(parameters["W"] @ X, axis=0).reshape(1, -1)
"""


def test_accuracy_through_a_function_of_the_notebook_in_feature_major_layout(make_run) -> None:
    params = 'parameters = {"W": np.eye(3), "act1": "linear"}'
    with SubmissionNotebooks([make_run(CLASSIFY, params, "count = lambda X, p: np.zeros(2)",
                                       artifacts=("parameters",))]) as notebooks:
        notebooks.execute()
        images = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]
        labels = np.array([[0, 1, 2, 0, 1, 2, 2, 2]])  # a (1, m) row, as the course has them
        assert notebooks.accuracy("parameters", images, labels, batch_size=None,
                                  via="classify", features_first=True) == 6 / 8
        assert notebooks.labels("parameters", images, "classify", features_first=True,
                                batch_size=3).tolist() == [0, 1, 2, 0, 1, 2, 0, 1]
        with pytest.raises(ArtifactError, match="count gave 2 labels for 8 images"):
            notebooks.labels("parameters", images, "count", features_first=True)
        with pytest.raises(ValueError, match="Python identifier"):
            notebooks.labels("parameters", images, "os.system", features_first=True)


def test_a_failed_cell_lists_the_tests_that_needed_its_artifact(make_run) -> None:
    run = make_run(LINEAR, "best_model = Linear(trained_weights)",
                   "print('later cells run')", artifacts=("best_model",))
    with SubmissionNotebooks([run]) as notebooks:
        notebooks.execute()
        notebooks.current_test = "test_best_model_validation_accuracy"
        with pytest.raises(ArtifactError) as error:
            notebooks.predict("best_model", np.eye(3))
        assert str(error.value) == ("best_model was not produced: cell 2 (In [2]) of "
                                    "Homework.ipynb failed with NameError: name 'trained_weights' "
                                    "is not defined")
        notebooks.needed_by["best_model"].add("test_passing")
        results = [TestResult("test_best_model_validation_accuracy", "accuracy", 0, 10, "failed"),
                   TestResult("test_passing", "accuracy", 1, 1, "passed")]
        [report] = notebooks.reports(results, {"Homework.ipynb": "Homework.executed.ipynb"})
    assert report.status == "cell-errors" and report.executed == "Homework.executed.ipynb"
    [failure] = report.failed_cells
    assert failure.label == "cell 2 (In [2])"
    assert failure.dependents == ("test_best_model_validation_accuracy",)
