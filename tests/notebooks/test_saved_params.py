"""A params file the notebook saves, read without unpickling and loaded into a model."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.notebooks import ArtifactError, execution
from gradekit.notebooks.runner import SubmissionNotebooks

SAVE = """
import numpy as np
rng = np.random.default_rng(0)
np.savez("best_model.npz", **{"params.W1": rng.normal(size=(4, 3)), "params.b1": np.zeros(3),
                             "params.W2": rng.normal(size=(3, 2)), "params.b2": np.ones(2)})
"""


def test_saved_parameters_come_back_exactly(make_run):
    run = make_run(SAVE)
    run.execute()
    arrays = SubmissionNotebooks([run]).saved_arrays("best_model.npz")
    rng = np.random.default_rng(0)
    assert sorted(arrays) == ["params.W1", "params.W2", "params.b1", "params.b2"]
    np.testing.assert_array_equal(arrays["params.W1"], rng.normal(size=(4, 3)))
    np.testing.assert_array_equal(arrays["params.b2"], np.ones(2))


@pytest.mark.parametrize("source, complaint", [
    ('np.savez("best_model.npz", a=np.array([{"x": 1}], dtype=object))', "not a readable .npz"),
    ('np.savez("best_model.npz", a=np.array(["W1"]))', "non-numeric arrays (a)"),
    ('import os; os.symlink("/etc/passwd", "best_model.npz")', "refused, a link or not"),
    ('os.mkfifo("best_model.npz")', "not a plain file"),
    ('np.savez_compressed("best_model.npz", a=np.zeros(1 << 21))', "unpacks to 16 MB"),
    ('open("best_model.npz", "w").write("not a zip")', "not a readable .npz"),
    ("x = 1", "best_model.npz was not found next to the notebook"),
])
def test_hostile_or_missing_params_files_are_refused(make_run, monkeypatch, source, complaint):
    monkeypatch.setattr(execution, "MAX_SAVED_BYTES", 8 << 20)  # a zip bomb, scaled down
    run = make_run("import os\nimport numpy as np\n" + source)
    run.execute()
    with pytest.raises(ArtifactError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        SubmissionNotebooks([run]).saved_arrays("best_model.npz")
