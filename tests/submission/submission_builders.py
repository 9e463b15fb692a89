"""Test helpers that build submissions on disk: packages, zips with hostile members, snapshots."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

CS231N_FILES = (
    "layers.py",
    "layer_utils.py",
    "optim.py",
    "classifiers/fc_net.py",
    "classifiers/cnn.py",
)
HONEST_SOURCE = "def f(x):\n    return x\n"


def write_package(
    base: Path, name: str = "cs231n", files: tuple[str, ...] = CS231N_FILES, **sources: str
) -> Path:
    """Write a package folder ``base/name`` holding ``files``; ``sources`` overrides the text
    of a file by its stem (``optim="def f(:"``)."""
    package = base / name
    for rel in (*files, "__init__.py"):
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sources.get(Path(rel).stem, HONEST_SOURCE))
    return package


def symlink_info(name: str) -> zipfile.ZipInfo:
    """A zip member that unpacks as a symbolic link on Unix archivers."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def make_zip(path: Path, members: dict[str | zipfile.ZipInfo, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def zip_folder(folder: Path, path: Path, *, under: str = "") -> Path:
    """Zip every file of ``folder`` with paths relative to it, optionally below ``under``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, str(Path(under) / file.relative_to(folder)))
    return path


def snapshot(root: Path) -> dict[str, int]:
    """Every path under ``root`` with its size, to prove what a call did not write."""
    return {
        str(p.relative_to(root)): (p.lstat().st_size if not p.is_dir() else -1)
        for p in root.rglob("*")
    }
