"""Recorded values are read back case by case, exactly the arrays of the case asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradekit.goldens import META_KEY, SEP, GoldenError, Goldens


def test_a_case_gets_its_own_arrays_and_no_neighbours(tmp_path: Path) -> None:
    path = tmp_path / "goldens.npz"
    np.savez_compressed(path, **{f"a{SEP}out": np.arange(3.0), f"a{SEP}dx": np.ones(2),
                                 f"ab{SEP}out": np.zeros(4), META_KEY: np.array('["a", "ab"]')})
    goldens = Goldens(path)
    found = goldens.expected("a")
    assert sorted(found) == ["dx", "out"]
    np.testing.assert_array_equal(found["out"], np.arange(3.0))
    assert sorted(goldens.expected("ab")) == ["out"]
    with pytest.raises(GoldenError, match="no recorded values for case 'b'"):
        goldens.expected("b")


def test_a_missing_file_says_how_to_record_it(tmp_path: Path) -> None:
    with pytest.raises(GoldenError, match="gradekit author goldens"):
        Goldens(tmp_path / "goldens.npz")
