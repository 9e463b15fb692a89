import io

import pytest

from gradekit.submission.limits import Budget, Limits, UnpackError, is_junk


def test_budget_stops_a_stream_at_the_byte_cap_and_removes_the_partial_file(tmp_path):
    budget = Budget(Limits(max_bytes=3 * 1024 * 1024))
    target = tmp_path / "big.bin"
    with pytest.raises(UnpackError, match="more than 3 MB"):
        budget.write(io.BytesIO(b"x" * (4 * 1024 * 1024)), target)
    assert not target.exists()


def test_budget_counts_files_across_writes(tmp_path):
    budget = Budget(Limits(max_files=2))
    budget.write(io.BytesIO(b"a"), tmp_path / "a")
    budget.write(io.BytesIO(b"b"), tmp_path / "b")
    assert (budget.files, budget.bytes) == (2, 2)
    with pytest.raises(UnpackError, match="more than 2 files"):
        budget.write(io.BytesIO(b"c"), tmp_path / "c")


def test_budget_never_overwrites_or_follows_a_link(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(OSError):
        Budget(Limits()).write(io.BytesIO(b"pwned"), tmp_path / "link")
    assert outside.read_text() == "keep"


@pytest.mark.parametrize(("parts", "junk"), [
    (("__MACOSX", "cs231n", "layers.py"), True),
    (("cs231n", "._layers.py"), True),
    (("cs231n", ".ipynb_checkpoints", "x-checkpoint.ipynb"), True),
    (("cs231n", "layers.py"), False),
    ((".hidden_but_kept.py",), False),
])
def test_junk_paths(parts, junk):
    assert is_junk(parts) is junk
