"""Copy a submitted folder into the grader's working area, following no links.

A folder can be as hostile as a zip: a symlink to ``/etc/passwd`` or to the grader's
``hidden_tests/`` would otherwise be copied *as its target* into the sandbox. Links and
special files are left out with a :class:`Finding`; sizes count against the same
:class:`Budget` as zip extraction.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from gradekit.submission.findings import Finding, FindingKind
from gradekit.submission.limits import Budget, is_junk

_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _left_out(rel: tuple[str, ...], reason: str) -> Finding:
    path = "/".join(rel)
    return Finding(FindingKind.REFUSED_MEMBER, path, f"{path!r} {reason}; it was left out.")


def copy_tree(
    src: Path, dest: Path, budget: Budget, *, exclude: Collection[str] = ()
) -> list[Finding]:
    """Copy regular files and folders of ``src`` into the existing folder ``dest``.

    ``exclude`` names top-level entries to skip (the loader unpacks uploaded zips itself).
    """
    findings: list[Finding] = []
    stack: list[tuple[Path, tuple[str, ...]]] = [(src, ())]
    while stack:
        directory, rel = stack.pop()
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            parts = (*rel, entry.name)
            if is_junk(parts) or (not rel and entry.name in exclude):
                continue
            if entry.is_symlink():
                findings.append(_left_out(parts, "is a symbolic link (links are never followed)"))
            elif entry.is_dir(follow_symlinks=False):
                dest.joinpath(*parts).mkdir()
                stack.append((Path(entry.path), parts))
            elif entry.is_file(follow_symlinks=False):
                try:
                    with os.fdopen(os.open(entry.path, _READ), "rb") as stream:
                        budget.write(stream, dest.joinpath(*parts))
                except OSError as exc:
                    findings.append(_left_out(parts, f"could not be copied ({exc.strerror})"))
            else:
                findings.append(_left_out(parts, "is a special file, not a regular file"))
    return findings
