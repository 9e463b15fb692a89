import stat
import struct
import zipfile
from pathlib import Path

import pytest
from submission_builders import make_zip, symlink_info

from gradekit.submission.findings import FindingKind
from gradekit.submission.limits import Budget, Limits, UnpackError
from gradekit.submission.safe_zip import central_directory, extract_zip


def extract(archive: Path, tmp_path: Path, limits: Limits | None = None):
    dest = tmp_path / "out"
    dest.mkdir()
    return dest, extract_zip(archive, dest, Budget(limits or Limits()))


def refused_names(findings) -> set[str]:
    assert all(f.kind is FindingKind.REFUSED_MEMBER for f in findings)
    return {f.path for f in findings}


def test_honest_members_are_extracted(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"cs231n/layers.py": "x = 1\n", "README.md": "hi"})
    dest, findings = extract(archive, tmp_path)
    assert findings == []
    assert (dest / "cs231n" / "layers.py").read_text() == "x = 1\n"
    assert (dest / "README.md").read_text() == "hi"


@pytest.mark.parametrize("name", ["../evil.py", "cs231n/../../evil.py", "..\\evil.py"])
def test_path_traversal_is_refused(tmp_path, name):
    archive = make_zip(tmp_path / "a.zip", {name: "pwned", "cs231n/layers.py": "x = 1\n"})
    dest, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {name}
    assert "outside the submission folder" in findings[0].message
    assert not (tmp_path / "evil.py").exists()
    assert (dest / "cs231n" / "layers.py").is_file()


def test_absolute_paths_are_refused(tmp_path):
    target = tmp_path / "absolute.py"
    archive = make_zip(tmp_path / "a.zip", {str(target): "pwned", "C:\\evil.py": "pwned"})
    dest, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {str(target), "C:\\evil.py"}
    assert all("absolute path" in f.message for f in findings)
    assert not target.exists()
    assert list(dest.iterdir()) == []


def test_symlink_member_to_etc_passwd_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {symlink_info("cs231n/layers.py"): "/etc/passwd"})
    dest, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {"cs231n/layers.py"}
    assert "symbolic link" in findings[0].message
    assert not (dest / "cs231n" / "layers.py").exists()
    assert not (dest / "cs231n" / "layers.py").is_symlink()


def test_too_many_files_refuses_the_archive(tmp_path):
    limits = Limits()
    members = {f"f{i}.txt": "" for i in range(limits.max_files + 1)}
    archive = make_zip(tmp_path / "a.zip", members)
    with pytest.raises(UnpackError, match=f"more than the {limits.max_files} allowed"):
        extract(archive, tmp_path, limits)


def test_too_many_bytes_refuses_the_archive(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a.txt": "x" * 600, "b.txt": "y" * 600})
    with pytest.raises(UnpackError, match="unpacks to 1200 bytes"):
        extract(archive, tmp_path, Limits(max_bytes=1000))


def test_compression_bomb_member_is_refused_and_the_rest_extracted(tmp_path):
    bomb = b"\0" * (5 * 1024 * 1024)
    archive = make_zip(tmp_path / "a.zip", {"weights.npy": bomb, "cs231n/optim.py": "x = 1"})
    dest, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {"weights.npy"}
    assert "compression bomb" in findings[0].message
    assert not (dest / "weights.npy").exists()
    assert (dest / "cs231n" / "optim.py").is_file()


def test_small_well_compressed_files_are_not_bombs(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"zeros.txt": "0" * 100_000})
    dest, findings = extract(archive, tmp_path)
    assert findings == []
    assert (dest / "zeros.txt").stat().st_size == 100_000


def patch_central_directory(archive: Path, offset: int, fmt: str, value: int) -> None:
    """Overwrite one field of the (single) central directory record, as a forger would."""
    data = bytearray(archive.read_bytes())
    record = data.index(b"PK\x01\x02")
    struct.pack_into(fmt, data, record + offset, value)
    archive.write_bytes(bytes(data))


def test_a_member_larger_than_its_header_says_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a.txt": "x" * 5000})
    patch_central_directory(archive, 24, "<I", 10)  # uncompressed size
    dest, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {"a.txt"}
    assert "could not be extracted" in findings[0].message
    assert not (dest / "a.txt").exists()


def test_os_clutter_is_skipped_silently(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {
        "__MACOSX/cs231n/._layers.py": "junk",
        "cs231n/.DS_Store": "junk",
        "cs231n/__pycache__/layers.cpython-311.pyc": "junk",
        "cs231n/layers.py": "x = 1",
    })
    dest, findings = extract(archive, tmp_path)
    assert findings == []
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == [
        "cs231n/layers.py"
    ]


def test_duplicate_members_keep_the_first(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("layers.py", "first")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("layers.py", "second")
    dest, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {"layers.py"}
    assert "twice" in findings[0].message
    assert (dest / "layers.py").read_text() == "first"


def test_encrypted_members_are_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"secret.py": "x = 1"})
    patch_central_directory(archive, 8, "<H", 0x1)  # general purpose flags: encrypted
    _, findings = extract(archive, tmp_path)
    assert refused_names(findings) == {"secret.py"}
    assert "password" in findings[0].message


def test_a_file_that_is_not_a_zip_is_refused_whole(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_text("not a zip at all")
    with pytest.raises(UnpackError, match="not a readable zip archive"):
        extract(archive, tmp_path)


def test_a_directory_entry_without_a_trailing_slash_is_not_written_as_a_file(tmp_path):
    folder = zipfile.ZipInfo("cs231n")
    folder.external_attr = (stat.S_IFDIR | 0o755) << 16
    archive = make_zip(tmp_path / "a.zip", {folder: "", "cs231n/layers.py": "x = 1"})
    dest, findings = extract(archive, tmp_path)
    assert findings == []
    assert (dest / "cs231n" / "layers.py").read_text() == "x = 1"


def test_central_directory_reads_the_end_record(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"{i}.txt": "" for i in range(7)})
    entries, size = central_directory(archive)
    assert entries == 7
    assert size == 7 * (46 + len("0.txt"))
    (tmp_path / "b.zip").write_bytes(b"no end record here")
    assert central_directory(tmp_path / "b.zip") is None


def test_central_directory_reads_the_zip64_end_record(tmp_path):
    """Past 65535 entries the count lives in the zip64 record only."""
    archive = make_zip(tmp_path / "a.zip", {f"{i}": "" for i in range(65_536)})
    assert central_directory(archive)[0] == 65_536


def test_an_archive_with_too_many_entries_is_refused_before_its_directory_is_read(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"d{i}/": "" for i in range(60)})
    with pytest.raises(UnpackError, match=r"directory of 60 entries .* than the 50 entries"):
        extract(archive, tmp_path, Limits(max_entries=50))


def test_a_forged_entry_count_does_not_hide_a_huge_directory(tmp_path):
    """zipfile reads the directory by its size, not by the declared count."""
    archive = make_zip(tmp_path / "a.zip", {f"{'x' * 200}{i}": "" for i in range(600)})
    data = bytearray(archive.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # claim a single entry
    archive.write_bytes(bytes(data))
    with pytest.raises(UnpackError, match="directory of 1 entries"):
        extract(archive, tmp_path, Limits(max_entries=100))
