"""``gradekit author gradescope PACK --out autograder.zip``: a Gradescope autograder bundle.

The zip holds what Gradescope's autograder format asks for at its top, ``setup.sh`` (run
once, as root, on Gradescope's Ubuntu image) and ``run_autograder`` (run per submission),
and beside them gradekit's source and the course material the pack needs: its lineage's
packs, hidden tests and the reference. Student code never reads any of it: it is graded
in gradekit's sandbox (bubblewrap, which ``setup.sh`` installs), whose allow-list leaves
``/autograder/source`` and ``/autograder/results`` out.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from gradekit.packs import AssignmentPack

#: what of a source tree never goes into a bundle
SKIPPED = ("__pycache__", ".pytest_cache", ".ruff_cache")
SKIPPED_SUFFIXES = (".pyc", ".so", ".c")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap build-essential python3 python3-venv python3-dev
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu 22.04 ships Python 3.10; gradekit needs 3.11 or later
    apt-get install -y -qq software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv python3.11-dev
    PYTHON=python3.11
fi
"$PYTHON" -m venv /autograder/gradekit-venv
/autograder/gradekit-venv/bin/python -m pip install --quiet --upgrade pip
/autograder/gradekit-venv/bin/python -m pip install --quiet "$SOURCE/gradekit"
mkdir -p /autograder/data
for dataset in {data}; do
    /autograder/gradekit-venv/bin/gradekit data fetch "$dataset" --dest /autograder/data
done
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission with {pack} and
# write /autograder/results/results.json. $GRADEKIT_AUTOGRADER_ROOT moves the root (tests).
set -u
ROOT="${{GRADEKIT_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{GRADEKIT_PYTHON:-$ROOT/gradekit-venv/bin/python}}"
export GRADEKIT_COURSE="$ROOT/source/course"
export GRADEKIT_DATA="${{GRADEKIT_DATA:-$ROOT/data}}"
export GRADEKIT_AUTOGRADER_ROOT="$ROOT"
exec "$PYTHON" -m gradekit.autograder --pack {pack} "$@"
"""


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not path.is_symlink() and not set(parts) & set(SKIPPED) \
                and not path.name.endswith(SKIPPED_SUFFIXES):
            yield path


def bundle_contents(pack: AssignmentPack, course_root: Path, gradekit_root: Path
                    ) -> dict[str, Path]:
    """Each file of the bundle (path inside the zip) and where it comes from: gradekit's
    source (to install), the lineage's packs and hidden tests, the whole reference (one
    package per API; the solution notebooks of other packs left out)."""
    contents: dict[str, Path] = {}
    for name in ("pyproject.toml", "setup.py", "README.md"):
        contents[f"gradekit/{name}"] = gradekit_root / name
    for path in _files(gradekit_root / "gradekit"):
        contents[f"gradekit/{path.relative_to(gradekit_root).as_posix()}"] = path
    lineage = [name for name, _ in pack.chain]
    for name, folder in pack.chain:
        for path in _files(folder):
            contents[f"course/assignments/{name}/{path.relative_to(folder).as_posix()}"] = path
        hidden = course_root / "hidden_tests" / name
        for path in _files(hidden) if hidden.is_dir() else ():
            contents[f"course/hidden_tests/{name}/{path.relative_to(hidden).as_posix()}"] = path
    reference = course_root / "reference"
    for path in _files(reference):
        rel = path.relative_to(reference)
        if rel.parts[0] == "notebooks" and rel.parts[1] not in lineage:
            continue
        contents[f"course/reference/{rel.as_posix()}"] = path
    return contents


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_bundle(pack: AssignmentPack, course_root: Path, out: Path) -> Path:
    """Write the autograder zip of ``pack`` to ``out``: the same bytes for the same
    material (fixed timestamps, sorted names), so a rebuild is a no-op upload."""
    import gradekit

    gradekit_root = Path(gradekit.__file__).resolve().parents[1]
    settings = pack.data.get("gradescope", {})
    data = " ".join(settings.get("data", ["cifar10"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        _add(archive, "setup.sh", SETUP.format(data=data or "").encode(), executable=True)
        _add(archive, "run_autograder", RUN.format(pack=pack.name).encode(), executable=True)
        for name, path in sorted(bundle_contents(pack, course_root, gradekit_root).items()):
            _add(archive, name, path.read_bytes())
    return out
