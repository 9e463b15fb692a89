"""Build what students receive: starter code and the student bundle of a pack.

The starter package is generated from ``reference/<api>/`` by stripping solution regions, for
exactly the files the pack names (its modules and its ``given`` files). The bundle adds the
pack's ``assignment.toml`` and its visible tests with their recorded goldens, so that
``gradekit check`` works inside it with no reference anywhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gradekit.authoring.notebooks import write_stripped_notebook
from gradekit.authoring.strip import strip_solutions
from gradekit.packs import PACK_FILE, AssignmentPack


class ReleaseError(RuntimeError):
    """The release cannot be built as asked."""


def reference_package(pack: AssignmentPack, course_root: Path) -> Path:
    """The reference package that the pack's starter code is generated from."""
    folder = course_root / "reference" / pack.api
    if not folder.is_dir():
        raise ReleaseError(f"{folder} does not exist: the reference for API {pack.api!r} "
                           "must live in the course repository's reference/ folder")
    return folder


def starter_files(pack: AssignmentPack) -> list[str]:
    """Files of the student package, relative to it, in a stable order."""
    files = set(pack.modules.values()) | set(pack.given)
    for file in list(files):  # every package folder needs its __init__.py
        for parent in Path(file).parents:
            files.add(str(parent / "__init__.py") if str(parent) != "." else "__init__.py")
    return sorted(files)


def build_starter(pack: AssignmentPack, course_root: Path, dest: Path, *,
                  keep_solutions: bool = False) -> Path:
    """Write the starter package to ``dest/<package>/`` and return that folder.

    With ``keep_solutions`` the same files keep their solutions (markers removed): a complete,
    correct submission, as examples and end-to-end tests need. The pack's notebooks go to
    ``dest/`` beside the package, stripped the same way.
    """
    source = reference_package(pack, course_root)
    target = dest / pack.package
    for rel in starter_files(pack):
        src = source / rel
        if not src.is_file():
            raise ReleaseError(f"pack {pack.name!r} lists {rel}, but {src} does not exist")
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(strip_solutions(src.read_text(encoding="utf-8"), str(src),
                                       keep_solutions=keep_solutions), encoding="utf-8")
    build_notebooks(pack, course_root, dest, keep_solutions=keep_solutions)
    return target


def build_notebooks(pack: AssignmentPack, course_root: Path, dest: Path, *,
                    keep_solutions: bool = False) -> list[Path]:
    """Write the pack's notebooks under ``dest`` from their solution versions."""
    solutions = pack.solution_notebooks(course_root)
    written = []
    for spec in pack.notebooks:
        src = solutions / spec.path
        if not src.is_file():
            raise ReleaseError(f"pack {pack.name!r} lists the notebook {spec.path}, but its "
                               f"solution version {src} does not exist; put it there")
        written.append(write_stripped_notebook(src, dest / spec.path,
                                               keep_solutions=keep_solutions))
    return written


def build_release(pack: AssignmentPack, course_root: Path, out: Path) -> Path:
    """Write the whole student bundle of ``pack`` to ``out`` (which must not exist)."""
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty: choose a new folder for the release")
    if not pack.goldens.is_file():
        raise ReleaseError(f"{pack.goldens} is missing: run 'gradekit author goldens "
                           f"{pack.name}' first")
    out.mkdir(parents=True, exist_ok=True)
    build_starter(pack, course_root, out)
    shutil.copy2(pack.path / PACK_FILE, out / PACK_FILE)
    shutil.copytree(pack.visible_tests, out / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return out
