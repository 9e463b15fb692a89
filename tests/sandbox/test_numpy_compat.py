"""Code of earlier years that uses names NumPy has removed (np.int, np.NaN) runs as it did."""

from pathlib import Path

import numpy as np
import pytest

from gradekit.sandbox import numpy_compat


def test_only_names_numpy_lacks_are_put_back(monkeypatch):
    monkeypatch.setattr(numpy_compat, "REMOVED", {"int": int, "zeros": None, "NaN": np.nan})
    for name in ("int", "NaN"):  # absent, and absent again once the test is over
        monkeypatch.setattr(np, name, None, raising=False)
        monkeypatch.delattr(np, name)
    restored = numpy_compat.restore_removed_names()
    assert restored == ["int", "NaN"] and np.int is int and np.isnan(np.NaN)
    assert np.zeros is not None  # a name NumPy has is never touched


@pytest.mark.slow
def test_a_2017_submission_using_np_int_is_graded_as_it_ran(tmp_path: Path) -> None:
    from tests.test_grading import graded_solution

    result = graded_solution(tmp_path / "np-int", {"layers": (
        "    return np.maximum(x, 0), x\n",
        "    keep = np.array(x > 0, dtype=np.int)\n    return x * keep, x\n")})
    relu = [t for t in result.tests if "relu" in t.name and t.part == "layers"]
    assert relu and all(t.status == "passed" for t in relu), [t.message for t in relu]
