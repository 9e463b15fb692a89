"""MNIST from its official idx files, and the ASU course's ``digits.get_mnist`` on top.

An idx file is a big-endian header (two zero bytes, a type byte, the number of dimensions,
then each dimension as a 32-bit count) followed by the items; MNIST's hold unsigned bytes,
images ``(count, 28, 28)`` and labels ``(count,)``. Files are read with NumPy only, gzipped
(as downloaded, and as the grader's view writes them) or not, told apart by their first
bytes; every header is checked against the bytes after it, so a truncated, swapped or
foreign file says so instead of loading in the wrong shape.

Under the grader the notebook reads a view of the data set without the held-out test images
(:mod:`gradekit.data.view`); :func:`cut_held_out` makes that view's t10k files, and
:func:`get_mnist_held_out` gives the grader the held-out images as :func:`get_mnist` gives
the others.
"""

from __future__ import annotations

import gzip
import math
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

from gradekit.data.locate import locate
from gradekit.data.registry import (
    MNIST,
    MNIST_TEST_IMAGES,
    MNIST_TEST_LABELS,
    MNIST_TRAIN_IMAGES,
    MNIST_TRAIN_LABELS,
    HeldOut,
)
from gradekit.data.view import Split, ViewError, data_view, held_out_split, keeps_some, read_note

#: The first four bytes of each file, as a big-endian number: 0x08 is "unsigned bytes", the
#: last byte the number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
KINDS = {IMAGES_MAGIC: "MNIST images", LABELS_MAGIC: "MNIST labels"}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
OFFICIAL_TRAIN = 60000
OFFICIAL_TEST = 10000
GZIP_MAGIC = b"\x1f\x8b"
#: For the view's rewritten files: level 6 compresses ten times faster than gzip's default 9
#: here, for 2% more bytes.
GZIP_LEVEL = 6
REPLACE = "replace the copy, e.g. with `gradekit data fetch mnist --force`"


class IdxError(ValueError):
    """A file is not the idx file it should be; the message says which and what to do."""


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """The uint8 array of an idx file (gzipped or not) whose header starts with ``magic``,
    shaped as the header says; read-only, as it shares the file's bytes."""
    path = Path(path)
    content = _content(path)
    header = 4 + 4 * (magic & 0xFF)
    if len(content) < header:
        raise IdxError(f"{path} holds {len(content)} bytes, too few for the header of "
                       f"{KINDS[magic]}; {REPLACE}")
    found = int.from_bytes(content[:4], "big")
    if found != magic:
        raise IdxError(f"{path} starts with {found:#010x} ({KINDS.get(found, 'not MNIST')}), "
                       f"not {magic:#010x} ({KINDS[magic]}); {REPLACE}")
    shape = struct.unpack(f">{magic & 0xFF}I", content[4:header])
    announced, present = math.prod(shape), len(content) - header
    if present != announced:
        raise IdxError(f"{path} announces {' x '.join(map(str, shape))} = {announced} bytes "
                       f"of {KINDS[magic]} but holds {present}; {REPLACE}")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def load_images(path: str | Path) -> np.ndarray:
    """An idx file of MNIST images as stored: uint8 ``(count, 28, 28)``, 0 is background."""
    images = read_idx(path, IMAGES_MAGIC)
    if images.shape[1:] != IMAGE_SHAPE:
        raise IdxError(f"{path} holds images of {images.shape[1]} x {images.shape[2]} pixels, "
                       f"not MNIST's 28 x 28; {REPLACE}")
    return images


def load_labels(path: str | Path) -> np.ndarray:
    """An idx file of MNIST labels as stored: uint8 ``(count,)``, digits 0..9."""
    labels = read_idx(path, LABELS_MAGIC)
    if labels.size and labels.max() >= NUM_CLASSES:
        raise IdxError(f"{path} holds the label {labels.max()}, but MNIST's are 0..9; {REPLACE}")
    return labels


def load_mnist(root: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four files of a copy of MNIST as stored (uint8): training images and labels, then
    test images and labels; each file of images must have as many labels."""
    root = Path(root)
    return (*_pair(root, MNIST_TRAIN_IMAGES, MNIST_TRAIN_LABELS),
            *_pair(root, MNIST_TEST_IMAGES, MNIST_TEST_LABELS))


def scaled(images: np.ndarray) -> np.ndarray:
    """Pixels 0..255 as float64 in [-1, 1]: 0 becomes exactly -1.0 and 255 exactly 1.0."""
    return images / 127.5 - 1.0


def get_mnist(
    root: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``trX, trY, tsX, tsY``: what the ASU course's ``digits.get_mnist()`` returns.

    What the course's notebook shows of it: the official training set and test set in
    their own order (not shuffled), pixels already scaled to [-1, 1] (minimum -1.0, maximum
    1.0), labels 0..9; the notebook reshapes them itself, ``X.reshape(-1, 28*28).T`` and
    ``Y.reshape(1, -1)``, into ``(784, m)`` and ``(1, m)``, so the first axis counts images.
    It shows neither the shapes before that reshape nor the dtypes; here images are float64
    ``(m, 28, 28)`` and labels int64 ``(m,)`` (its printouts show labels without a decimal
    point; the float labels of its unit tests are arrays of their own).

    ``root`` defaults to the folder found on the data search path. A copy with fewer images
    than the official 60000 / 10000 (the CI subset holds 12000 training images) loads whole,
    with a warning that says so; in the grader's view of the data set the first test images
    are held out, and a warning says which ones ``tsX`` holds.
    """
    folder = Path(root) if root is not None else locate(MNIST)
    train_images, train_labels, test_images, test_labels = load_mnist(folder)
    for note in _notes(len(train_images), len(test_images), read_note(folder)):
        warnings.warn(note, stacklevel=2)
    return (scaled(train_images), train_labels.astype(np.int64),
            scaled(test_images), test_labels.astype(np.int64))


def get_mnist_held_out(root: str | Path | None = None) -> dict[str, np.ndarray | str]:
    """The grader's side of :func:`get_mnist`: the held-out test images (``X_held_out``) and
    labels (``y_held_out``) in its layout and scale, and ``held_out`` naming them. Inside a
    sandbox there are none, and it raises :class:`~gradekit.data.view.ViewError`."""
    folder = Path(root) if root is not None else locate(MNIST)
    view = data_view(MNIST, folder)
    kept = view.held_out()
    return {"X_held_out": scaled(kept.rows), "y_held_out": kept.labels,
            "held_out": kept.description}


def get_mnist_data(held_out: bool = False) -> dict[str, np.ndarray | str]:
    """MNIST for the ``dataset`` fixture: ``dataset("mnist")`` gives what :func:`get_mnist`
    returns by name (``X_train``, ``y_train``, ``X_test``, ``y_test``); ``held_out=True``
    gives the grader's held-out images, as :func:`get_mnist_held_out` does."""
    if held_out:
        return get_mnist_held_out()
    X_train, y_train, X_test, y_test = get_mnist()
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) as a gzipped idx file like the official ones; no time stamp in the
    gzip header, so the same array always gives the same bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes(),
                         compresslevel=GZIP_LEVEL, mtime=0)


def cut_held_out(folder: Path, held_out: HeldOut) -> Split:
    """The view's copies of the files ``held_out`` names (test images, then their labels)
    without their first ``count`` images, gzipped idx files as the originals are so that any
    MNIST loader reads the view; and those images, less any also in the view."""
    images_name, labels_name = held_out.files
    try:
        images, labels = _pair(folder, images_name, labels_name)
        training = load_images(folder / MNIST_TRAIN_IMAGES)
    except IdxError as exc:
        raise ViewError(str(exc)) from exc
    count = held_out.count
    keeps_some(MNIST, folder / images_name, len(images), count)
    rewritten = {images_name: idx_bytes(images[count:]), labels_name: idx_bytes(labels[count:])}
    return held_out_split(held_out, folder, rewritten, images[:count],
                          labels[:count].astype(np.int64), (training, images[count:]))


def _content(path: Path) -> bytes:
    """The bytes of a file, decompressed when it is gzipped."""
    try:
        with open(path, "rb") as f:
            gzipped = f.read(len(GZIP_MAGIC)) == GZIP_MAGIC
            f.seek(0)
            return gzip.GzipFile(fileobj=f).read() if gzipped else f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise IdxError(f"{path} is a damaged gzip file ({exc}); {REPLACE}") from exc


def _pair(root: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_images(root / images_name), load_labels(root / labels_name)
    if len(images) != len(labels):
        raise IdxError(f"{root / images_name} holds {len(images)} images but {labels_name} "
                       f"{len(labels)} labels; {REPLACE}")
    return images, labels


def _notes(train: int, test: int, note: dict | None) -> list[str]:
    """Warnings for a copy smaller than the official sets, and, in the grader's view, for the
    test images it keeps."""
    notes = []
    if train < OFFICIAL_TRAIN:
        notes.append(f"this copy of MNIST is a subset: it holds {train} training images, not "
                     f"the official {OFFICIAL_TRAIN}, and trX holds those {train}")
    if note is not None and MNIST_TEST_IMAGES in note.get("files", ()):
        first = int(note.get("count", 0))
        notes.append(f"the grader keeps t10k images 0..{first - 1} to score your model (they "
                     f"are not in this data folder), so tsX holds the {test} after them "
                     f"({first}..{first + test - 1})")
    elif test < OFFICIAL_TEST:
        notes.append(f"this copy of MNIST is a subset: it holds {test} test images, not the "
                     f"official {OFFICIAL_TEST}, and tsX holds those {test}")
    return notes
