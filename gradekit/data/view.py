"""The data a sandbox reads: a view of each data set without the images that earn credit.

A notebook trains on a data set, so its kernel must read it; but a model scored on images the
kernel can read may look their labels up instead of learning them. So a sandbox is never
given a data folder: it gets a *view* of it, a folder holding only the files the loaders read
(``Dataset.contents`` and ``companions``), where the files that hold the held-out images
(``Dataset.held_out``) are rewritten without them and every other file is a hard link to the
original (a copy where a link is impossible or the original is not the grader's). The
held-out images and their labels are kept beside the view, in a folder only the grader reads;
an image whose pixels are also elsewhere in the view is not scored (its label is readable).

A view is built once per content of a data set, in a grader-owned cache (:func:`views_dir`),
never where a sandbox can write: its name is a hash of the data set's files, its manifest
lists the hash of every file it holds, and a view that does not match its manifest is built
again. Builds hold a lock and are renamed into place, so nobody uses a half-built view. File
hashes are remembered per process, keyed by inode, size, mtime and ctime, so a grading
process reads each file once however many submissions it grades.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gradekit.data.locate import cache_dir, find_dataset, locate
from gradekit.data.registry import DATASETS, Dataset, HeldOut

#: Changes whenever the layout of a view or a cutter changes: older views are not reused.
VIEW_FORMAT = 1
#: In a view's data folder (so the sandbox reads it): which images the grader keeps, no labels.
NOTE = "held-out.json"
MANIFEST = "manifest.json"
#: Beside the view's data, readable by the grader only: the held-out images and labels.
PRIVATE = "private"
HELD_OUT_FILE = "held_out.npz"
CHUNK = 1 << 20

#: sha256 of files already read by this process, by (device, inode, size, mtime, ctime).
_digests: dict[tuple[int, ...], str] = {}


class ViewError(RuntimeError):
    """A data view cannot be built or used; the message says what to do."""


@dataclass(frozen=True)
class Split:
    """What a cutter makes of one copy of a data set: the view's rewritten files (name ->
    content), the held-out images as stored (``rows``, uint8), their labels, their positions
    in the held-out files, and a description that names them exactly."""

    rewritten: dict[str, bytes]
    rows: np.ndarray
    labels: np.ndarray
    positions: np.ndarray
    description: str


@dataclass(frozen=True)
class HeldOutImages:
    """The images that earn credit, as stored (uint8 rows), with their labels and positions."""

    rows: np.ndarray
    labels: np.ndarray
    positions: np.ndarray
    description: str


@dataclass(frozen=True)
class DataView:
    """One verified view of a data set; ``built`` is true when this call had to build it."""

    dataset: Dataset
    path: Path
    folder_name: str
    description: str
    built: bool = False

    @property
    def root(self) -> Path:
        """The folder a sandbox reads (read-only) and finds through ``$GRADEKIT_DATA``."""
        return self.path / "data"

    @property
    def folder(self) -> Path:
        """The view's copy of the data set folder, named like the original."""
        return self.root / self.folder_name

    def held_out(self) -> HeldOutImages:
        """The held-out images and labels: the grader's, never in :attr:`root`."""
        saved_file = self.path / PRIVATE / HELD_OUT_FILE
        if not saved_file.is_file():
            raise ViewError(f"{self.dataset.title} declares no held-out images")
        with np.load(saved_file, allow_pickle=False) as saved:
            return HeldOutImages(saved["rows"], saved["labels"], saved["positions"],
                                 self.description)


def read_note(folder: Path) -> dict | None:
    """What the grader kept out of the data folder ``folder``, when it is a view: for the
    loaders to say why an array is smaller than asked."""
    try:
        note = json.loads((folder / NOTE).read_text())
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


def keeps_some(dataset: Dataset, path: Path, available: int, count: int) -> None:
    """Refuse to hold out ``count`` of the ``available`` images of ``path``, the file a
    cutter is about to cut, unless the view keeps some of them."""
    if count >= available:
        raise ValueError(f"{path} holds {available} images, too few to hold out {count} and "
                         f"keep some; lower the held-out count of {dataset.name} in "
                         "gradekit.data.registry")


def held_out_split(held_out: HeldOut, folder: Path, rewritten: dict[str, bytes],
                   images: np.ndarray, labels: np.ndarray,
                   elsewhere: Iterable[np.ndarray]) -> Split:
    """What a cutter returns once it has rewritten the files of ``folder`` as ``rewritten``:
    the held-out ``images`` (as stored, one per item of the first axis) and ``labels``, less
    any image whose pixels are also among ``elsewhere``, the images the view holds (its
    label is readable there, so it cannot earn credit)."""
    seen = {_pixels(image) for others in elsewhere for image in others}
    unseen = np.array([_pixels(image) not in seen for image in images], dtype=bool)
    positions = np.flatnonzero(unseen)
    dropped = len(images) - len(positions)
    description = f"{held_out.summary}, from {folder.name}: {len(positions)} images scored"
    if dropped:
        description += (f" ({dropped} left out: their pixels are also in images the view "
                        "holds)")
    return Split(rewritten, images[unseen], labels[unseen], positions, description)


def sandbox_views() -> list[DataView]:
    """A view of every registered data set that is installed: what a kernel may read."""
    return [data_view(dataset, found) for dataset in DATASETS.values()
            if (found := find_dataset(dataset)) is not None]


def data_view(dataset: Dataset, source: Path | None = None) -> DataView:
    """The view of ``dataset`` (its copy on the search path unless ``source`` is given):
    checked against its manifest, built first when it is missing or does not match."""
    source = (source if source is not None else locate(dataset)).resolve()
    if read_note(source) is not None:
        raise ViewError(f"{source} is the grader's view of {dataset.title}: the images it "
                        "holds out are not in it (they stay with the grader)")
    names = view_files(dataset, source)
    sources = {name: digest(source / name) for name in names}
    key = view_key(dataset, source.name, sources)
    views = views_dir()
    entry = views / f"{dataset.name}-{key}"
    manifest = verified(entry, key)
    built = manifest is None
    if built:
        with _locked(views):
            manifest = verified(entry, key)  # another process may have built it meanwhile
            if manifest is None:
                _clear_leftovers(views)
                manifest = _build(dataset, source, names, key, entry)
    return DataView(dataset, entry, source.name, manifest["description"], built)


def views_dir() -> Path:
    """Where views are cached: ``views`` in the grader's cache dir when every user can reach
    it (a kernel under a plain subprocess runs as a uid of its own), else a folder of the
    grader's own in the system's temporary folder. Only the grader can write either."""
    preferred = cache_dir() / "views"
    chosen = preferred if _traversable(preferred) else \
        Path(tempfile.gettempdir()) / f"gradekit-views-{os.geteuid()}"
    chosen.mkdir(parents=True, exist_ok=True)
    info = os.lstat(chosen)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ViewError(f"{chosen} is not a folder of the grader's own; remove it, or set "
                        "XDG_CACHE_HOME to a folder of yours that every user can traverse")
    os.chmod(chosen, 0o755)
    return chosen


def view_files(dataset: Dataset, source: Path) -> list[str]:
    """The files of ``source`` a view holds: the data set's contents and the companions
    present, and nothing else of the folder."""
    present = [name for name in dataset.companions if (source / name).is_file()]
    return [*dataset.contents, *present]


def view_key(dataset: Dataset, folder_name: str, sources: dict[str, str]) -> str:
    """The name of the view of these files: changes with their content, the held-out
    part and :data:`VIEW_FORMAT`."""
    held_out = asdict(dataset.held_out) if dataset.held_out is not None else None
    spec = {"format": VIEW_FORMAT, "dataset": dataset.name, "folder": folder_name,
            "held_out": held_out, "sources": sources}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def digest(path: Path) -> str:
    """sha256 of a regular file, read once per process while the file is unchanged."""
    with open(path, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ViewError(f"{path} is not a regular file")
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if key not in _digests:
            hashed = hashlib.sha256()
            while chunk := f.read(CHUNK):
                hashed.update(chunk)
            _digests[key] = hashed.hexdigest()
    return _digests[key]


def verified(entry: Path, key: str) -> dict | None:
    """The manifest of the view at ``entry`` when the view is exactly what it lists (every
    file, nothing more, each with its hash), else ``None``."""
    try:
        if not stat.S_ISDIR(os.lstat(entry).st_mode):
            return None
        manifest = json.loads((entry / MANIFEST).read_text())
        listed = manifest["files"]
        if manifest["format"] != VIEW_FORMAT or manifest["key"] != key:
            return None
        found = dict(_files(entry))
        found.pop(MANIFEST)
        if set(found) != set(listed) or any(digest(path) != listed[relative]
                                            for relative, path in found.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError, ViewError):
        return None
    return manifest


def _traversable(path: Path) -> bool:
    """True when every existing folder on the way to ``path`` lets other users through."""
    return all(os.stat(folder).st_mode & stat.S_IXOTH
               for folder in (path, *path.parents) if folder.exists())


def _pixels(image: np.ndarray) -> bytes:
    return hashlib.blake2b(image.tobytes(), digest_size=16).digest()


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file under ``root`` by relative path; a link or special file raises."""
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            mode = os.lstat(Path(folder, name)).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise ViewError(f"{Path(folder, name)} is neither a folder nor a file")
        for name in files:
            path = Path(folder, name)
            yield path.relative_to(root).as_posix(), path


def _cutter(dataset: Dataset) -> Callable[[Path, HeldOut], Split]:
    """How the held-out images are cut out of ``dataset``'s files: one function per format."""
    from gradekit.data import cifar10, mnist

    cutters = {"cifar10": cifar10.cut_held_out, "mnist": mnist.cut_held_out}
    if dataset.name not in cutters:
        raise ViewError(f"{dataset.title} declares held-out images but gradekit.data.view "
                        "has no cutter for its files; add one to _cutter")
    return cutters[dataset.name]


def _build(dataset: Dataset, source: Path, names: list[str], key: str, entry: Path) -> dict:
    """Write the view in a staging folder beside ``entry``, then rename it into place."""
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=entry.parent))
    try:
        folder = staging / "data" / source.name
        folder.mkdir(parents=True)
        cut = _cutter(dataset)(source, dataset.held_out) if dataset.held_out else None
        rewritten = cut.rewritten if cut else {}
        for name in names:
            if name in rewritten:
                _write(folder / name, rewritten[name])
            else:
                _link_or_copy(source / name, folder / name)
        description = cut.description if cut else ""
        held_out = dataset.held_out
        note = {"dataset": dataset.name, "held_out": description,
                "files": list(held_out.files) if held_out else [],
                "count": held_out.count if held_out else 0}
        _write(folder / NOTE, json.dumps(note, indent=1).encode())
        if cut:
            (staging / PRIVATE).mkdir(mode=0o700)
            np.savez(staging / PRIVATE / HELD_OUT_FILE, rows=cut.rows, labels=cut.labels,
                     positions=cut.positions)
        for made in (staging, staging / "data", folder):
            os.chmod(made, 0o755)
        manifest = {"format": VIEW_FORMAT, "key": key, "dataset": dataset.name,
                    "source": str(source), "description": description,
                    "files": {relative: digest(path) for relative, path in _files(staging)}}
        _write(staging / MANIFEST, json.dumps(manifest, indent=1).encode())
        _swap(staging, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _write(path: Path, content: bytes) -> None:
    with open(path, "xb") as f:
        f.write(content)
    os.chmod(path, 0o444)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link when the original is the grader's (or root's), readable by all and
    writable by nobody else, so that it cannot change under the view; a copy otherwise."""
    info = os.stat(source)
    if info.st_uid in (0, os.geteuid()) and info.st_mode & stat.S_IROTH \
            and not info.st_mode & 0o022:
        try:
            os.link(source, target)
            return
        except OSError:  # another file system, or links to others' files are not allowed
            pass
    shutil.copyfile(source, target)
    os.chmod(target, 0o444)


def _swap(staging: Path, entry: Path) -> None:
    """Put ``staging`` where ``entry`` is, moving a stale entry aside first."""
    trash = entry.with_name(f".trash-{uuid.uuid4().hex}")
    if os.path.lexists(entry):
        os.rename(entry, trash)
    os.rename(staging, entry)
    _remove(trash)


def _clear_leftovers(views: Path) -> None:
    """Staging and stale folders a killed build left behind (called under the lock, when no
    build is running)."""
    for leftover in views.iterdir():
        if leftover.name.startswith((".build-", ".trash-")):
            _remove(leftover)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink()


@contextmanager
def _locked(views: Path) -> Iterator[None]:
    """One builder at a time across grading processes (no lock where ``fcntl`` is missing:
    builds are still renamed into place whole)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(views / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
