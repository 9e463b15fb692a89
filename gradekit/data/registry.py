"""The data sets gradekit knows how to find and download.

One entry per data set: the folder names it may live under, the files to download with
their checksums, and the part held out from the sandbox (:class:`HeldOut`), whose images earn
accuracy credit. Adding MNIST means adding an entry whose files are the four gzipped idx
files, and a cutter for its format in :mod:`gradekit.data.view`; :mod:`gradekit.data.fetch`
extracts archives and keeps other files as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file and the md5 it must have before anything is unpacked."""

    url: str
    md5: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def is_archive(self) -> bool:
        return self.filename.endswith((".tar.gz", ".tgz", ".tar"))


@dataclass(frozen=True)
class HeldOut:
    """The images of a data set that earn accuracy credit: the first ``count`` images of
    ``files``. The sandbox gets a view of the data set without them (:mod:`gradekit.data.view`),
    so a model scored on them never had their labels; ``summary`` says which they are, in
    words a student and the staff read (the pack and the feedback quote it)."""

    files: tuple[str, ...]
    count: int
    summary: str


@dataclass(frozen=True)
class Dataset:
    """A data set on disk (``folders``, preferred first) and where to download it from.

    ``folders[0]`` is what a fetch produces (for an archive, the folder it unpacks to);
    later names are accepted alternatives, such as the small CI subset of CIFAR-10. A folder
    only counts once it holds every name in ``contents`` (a half-copied one does not).
    ``companions`` are further files the loaders may read when present; a sandbox's view of
    the data set holds ``contents`` and ``companions`` and nothing else of the folder.
    """

    name: str
    title: str
    folders: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    size: str
    contents: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()
    held_out: HeldOut | None = None

    def missing_from(self, folder: Path) -> list[str]:
        """The names in ``contents`` that ``folder`` lacks."""
        return [name for name in self.contents if not (folder / name).exists()]


CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"


CIFAR10 = Dataset(
    name="cifar10",
    title="CIFAR-10 (python pickle batches)",
    folders=("cifar-10-batches-py", "cifar-10-subset"),
    files=(
        RemoteFile(
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            md5="c58f30108f718f92721af3b95e74349a",
        ),
    ),
    size="163 MB",
    contents=(*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH),
    companions=("batches.meta",),
    # The notebooks' test split: drawn at random from the same photos as the training batches
    # (1000 per class in the official test_batch), and the same images in the CI subset,
    # which holds the first 1017 of each batch. Holding out the end of the training batches
    # instead would cost the notebook 1000 training images, a quarter of the CI subset's.
    held_out=HeldOut(
        files=(CIFAR10_TEST_BATCH,),
        count=1000,
        summary="the first 1000 images of CIFAR-10's test_batch (the notebooks' test split)",
    ),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (CIFAR10,)}


def get_dataset(name: str) -> Dataset:
    """The registered data set called ``name``; a ``KeyError`` lists the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown data set {name!r}; known data sets: {known}") from None
