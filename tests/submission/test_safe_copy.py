import os

import pytest

from gradekit.submission.findings import FindingKind
from gradekit.submission.limits import Budget, Limits, UnpackError
from gradekit.submission.safe_copy import copy_tree


def copy(src, tmp_path, limits=None, **kwargs):
    dest = tmp_path / "dest"
    dest.mkdir()
    return dest, copy_tree(src, dest, Budget(limits or Limits()), **kwargs)


def test_files_and_folders_are_copied(tmp_path):
    src = tmp_path / "src"
    (src / "cs231n" / "classifiers").mkdir(parents=True)
    (src / "cs231n" / "classifiers" / "fc_net.py").write_text("x = 1")
    (src / "notes.txt").write_text("hi")
    dest, findings = copy(src, tmp_path)
    assert findings == []
    assert (dest / "cs231n" / "classifiers" / "fc_net.py").read_text() == "x = 1"
    assert (dest / "notes.txt").read_text() == "hi"


def test_symlinks_are_left_out_never_followed(tmp_path):
    src = tmp_path / "src"
    (src / "cs231n").mkdir(parents=True)
    (src / "cs231n" / "layers.py").symlink_to("/etc/passwd")
    (src / "grader").symlink_to(tmp_path, target_is_directory=True)
    dest, findings = copy(src, tmp_path)
    assert {f.path for f in findings} == {"cs231n/layers.py", "grader"}
    assert all(f.kind is FindingKind.REFUSED_MEMBER for f in findings)
    assert all("symbolic link" in f.message for f in findings)
    assert not os.path.lexists(dest / "cs231n" / "layers.py")
    assert not os.path.lexists(dest / "grader")


def test_special_files_are_left_out(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    dest, findings = copy(src, tmp_path)
    assert [f.path for f in findings] == ["pipe"]
    assert "special file" in findings[0].message
    assert not os.path.lexists(dest / "pipe")


def test_excluded_top_level_entries_and_clutter_are_skipped(tmp_path):
    src = tmp_path / "src"
    (src / "__pycache__").mkdir(parents=True)
    (src / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (src / "upload.zip").write_bytes(b"PK")
    (src / "layers.py").write_text("x = 1")
    dest, findings = copy(src, tmp_path, exclude={"upload.zip"})
    assert findings == []
    assert sorted(p.name for p in dest.iterdir()) == ["layers.py"]


def test_the_copy_counts_against_the_budget(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"{i}.py").write_text("x = 1")
    with pytest.raises(UnpackError, match="more than 3 files"):
        copy(src, tmp_path, Limits(max_files=3))
