"""Supplying the files the course gave: what a submission's own tree can and cannot do."""

from __future__ import annotations

import os

import pytest

from gradekit.authoring.release import build_starter, supply_given
from gradekit.course import find_course_root
from gradekit.packs import get_pack

COURSE = find_course_root()


@pytest.fixture
def submission(tmp_path):
    assert COURSE is not None
    pack = get_pack("fc_nets")
    build_starter(pack, COURSE, tmp_path / "sub", keep_solutions=True)
    return pack, tmp_path / "sub"


def test_missing_and_unparsable_given_files_are_written_from_the_release(submission):
    pack, root = submission
    (root / "cs231n" / "fast_layers.py").unlink()
    (root / "cs231n" / "solver.py").write_text("def train(:\n")
    supplied = supply_given(pack, COURSE, root, "cs231n")
    assert supplied == {"cs231n/solver.py": "its copy does not parse (line 1)",
                        "cs231n/fast_layers.py": "missing"}
    assert "gradekit.fast_layers" in (root / "cs231n" / "fast_layers.py").read_text()
    assert supply_given(pack, COURSE, root, "cs231n") == {}  # a student's own edits stay


def test_a_folder_or_link_in_a_given_files_place_is_left_alone(submission, tmp_path):
    pack, root = submission
    (root / "cs231n" / "solver.py").unlink()
    (root / "cs231n" / "solver.py").mkdir()
    outside = tmp_path / "outside.py"
    (root / "cs231n" / "fast_layers.py").unlink()
    os.symlink(outside, root / "cs231n" / "fast_layers.py")  # dangling: would write outside
    (root / "cs231n" / "classifiers" / "regularization.py").unlink()
    supplied = supply_given(pack, COURSE, root, "cs231n")
    assert supplied == {"cs231n/classifiers/regularization.py": "missing"}
    assert not outside.exists() and (root / "cs231n" / "solver.py").is_dir()
