"""Unpack an uploaded zip without trusting a single byte of it.

Python's ``zipfile.extractall`` already drops ``..`` components silently; a grader should
rather *refuse* unsafe members and tell the student: absolute paths, path traversal,
symlinks and other special files, encrypted members and members that inflate like a
compression bomb are left out, each with a :class:`Finding`. Caps on the size of the zip's
directory, the number of files and the total size refuse the whole archive
(:class:`UnpackError`); sizes are checked against the central directory first and again
while writing, since headers can lie.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
from pathlib import Path

from gradekit.submission.findings import Finding, FindingKind
from gradekit.submission.limits import Budget, Limits, UnpackError, is_junk

_DRIVE = re.compile(r"^[A-Za-z]:")
_EOCD, _EOCD_SIZE = b"PK\x05\x06", 22
_ZIP64_LOCATOR, _ZIP64_LOCATOR_SIZE = b"PK\x06\x07", 20
_ZIP64_EOCD, _ZIP64_EOCD_SIZE = b"PK\x06\x06", 56
#: Central directory bytes allowed per entry (46-byte header, name, extra fields).
_ENTRY_BYTES = 512


class BadArchiveError(UnpackError):
    """The file is not a zip archive Python can read."""


class UnsafeMemberError(ValueError):
    """A zip member that must not be extracted; the message completes "'name' ..."."""


def member_parts(info: zipfile.ZipInfo, limits: Limits) -> tuple[str, ...]:
    """The path components ``info`` would be written to, or :class:`UnsafeMemberError`."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeMemberError("is an absolute path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise UnsafeMemberError("points outside the submission folder ('..')")
    if any("\x00" in part for part in parts):
        raise UnsafeMemberError("has a NUL byte in its name")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeMemberError("is a symbolic link (links are never followed; include the file)")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeMemberError("is a special file, not a regular file")
    if info.flag_bits & 0x1:
        raise UnsafeMemberError("is encrypted; zip it again without a password")
    if info.file_size > limits.ratio_floor and (
        info.file_size > limits.max_ratio * max(info.compress_size, 1)
    ):
        raise UnsafeMemberError(
            f"inflates {info.file_size // max(info.compress_size, 1)}x "
            f"(more than {limits.max_ratio:g}x): it looks like a compression bomb"
        )
    return parts


def central_directory(archive: Path) -> tuple[int, int] | None:
    """``(entries, bytes)`` of the central directory, from the end records ``zipfile`` uses.

    ``zipfile.ZipFile`` loads the whole central directory into memory, one object per
    entry; a forged directory of millions of entries would exhaust the grader before any
    cap applies. The records are found the way ``zipfile`` finds them. ``None`` when there
    is no end record (``zipfile`` then reports the archive as unreadable).
    """
    with archive.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _EOCD_SIZE - 0xFFFF))
        tail = f.read()
    end = len(tail) - _EOCD_SIZE
    if not (end >= 0 and tail.startswith(_EOCD, end) and tail.endswith(b"\0\0")):
        end = tail.rfind(_EOCD)
        if end < 0 or len(tail) - end < _EOCD_SIZE:
            return None
    entries, directory_bytes = struct.unpack_from("<HI", tail, end + 10)
    locator = end - _ZIP64_LOCATOR_SIZE
    record = locator - _ZIP64_EOCD_SIZE
    if record >= 0 and tail.startswith(_ZIP64_LOCATOR, locator) and tail.startswith(
        _ZIP64_EOCD, record
    ):
        entries, directory_bytes = struct.unpack_from("<QQ", tail, record + 32)
    return entries, directory_bytes


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.is_dir() or stat.S_ISDIR(info.external_attr >> 16)


def _refused(archive: Path, name: str, reason: str) -> Finding:
    return Finding(
        FindingKind.REFUSED_MEMBER,
        name,
        f"{archive.name}: {name!r} {reason}; it was left out.",
    )


def extract_zip(archive: Path, dest: Path, budget: Budget) -> list[Finding]:
    """Extract the safe members of ``archive`` into the existing folder ``dest``.

    Returns a finding per refused member; raises :class:`BadArchiveError` when the archive
    is unreadable and :class:`UnpackError` when it is over the caps left in ``budget``
    (``dest`` may then hold a partial extraction).
    """
    directory = central_directory(archive)
    max_entries = budget.limits.max_entries
    if directory is not None and (
        directory[0] > max_entries or directory[1] > max_entries * _ENTRY_BYTES
    ):
        raise UnpackError(
            f"{archive.name} has a directory of {directory[0]} entries ({directory[1]} bytes), "
            f"more than the {max_entries} entries allowed; submit only your code and notebooks"
        )
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadArchiveError(f"{archive.name} is not a readable zip archive ({exc})") from exc
    with zf:
        return _extract(zf, archive, dest, budget)


def _extract(zf: zipfile.ZipFile, archive: Path, dest: Path, budget: Budget) -> list[Finding]:
    limits = budget.limits
    findings: list[Finding] = []
    planned: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    for info in zf.infolist():
        try:
            parts = member_parts(info, limits)
        except UnsafeMemberError as exc:
            findings.append(_refused(archive, info.filename, str(exc)))
            continue
        if parts and not _is_dir(info) and not is_junk(parts):
            planned.append((info, parts))

    if budget.files + len(planned) > limits.max_files:
        raise UnpackError(
            f"{archive.name} holds {len(planned)} files, more than the "
            f"{limits.max_files} allowed; submit only your code and notebooks"
        )
    declared = sum(info.file_size for info, _ in planned)
    if budget.bytes + declared > limits.max_bytes:
        raise UnpackError(
            f"{archive.name} unpacks to {declared} bytes, more than the "
            f"{limits.max_bytes} allowed; leave data sets and saved outputs out"
        )

    root = dest.resolve()
    for info, parts in planned:
        target = root.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.parent.resolve().is_relative_to(root):
                raise UnsafeMemberError("points outside the submission folder")
            with zf.open(info) as stream:
                budget.write(stream, target)
        except FileExistsError:
            findings.append(_refused(archive, info.filename, "appears twice in the archive"))
        except UnsafeMemberError as exc:
            findings.append(_refused(archive, info.filename, str(exc)))
        except (zipfile.BadZipFile, NotImplementedError, OSError) as exc:
            findings.append(_refused(archive, info.filename, f"could not be extracted ({exc})"))
    return findings
