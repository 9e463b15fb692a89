"""CIFAR-10 loaders with the notebooks' preprocessing (the students' ``data_utils``).

These are the functions the assignments give to students, with the same names (hence the
``noqa: N802``), return values and dtypes: images come back as float64, labels as int64.
Unlike the classic loader, batches of any size load (the CI subset holds 1017 images per
batch), and the folder is found through :func:`gradekit.data.locate.locate` instead of a
path relative to the notebook.

Under the grader the notebook reads a view of the data set without the held-out images
(:mod:`gradekit.data.view`); :func:`cut_held_out` makes that view's ``test_batch``, and
``get_CIFAR10_data(held_out=True)`` gives the grader the held-out images preprocessed like
the notebook's split.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np

from gradekit.data.locate import locate
from gradekit.data.registry import CIFAR10, CIFAR10_TEST_BATCH, CIFAR10_TRAIN_BATCHES, HeldOut
from gradekit.data.view import Split, ViewError, data_view, held_out_split, keeps_some, read_note

#: The entries of a batch that hold one item per image (the official batches have all three,
#: the CI subset no file names); they are cut together.
PER_IMAGE = ("data", "labels", "filenames")


def read_batch(filename: str | Path) -> dict:
    """One pickled batch as stored: ``data`` uint8 rows ``(N, 3072)``, channels first."""
    with open(filename, "rb") as f:
        return pickle.load(f, encoding="latin1")


def load_CIFAR_batch(filename: str | Path) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
    """One pickled batch as images ``(N, 32, 32, 3)`` float64 and labels ``(N,)``."""
    batch = read_batch(filename)
    X = batch["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float")
    y = np.array(batch["labels"])
    return X, y


def load_CIFAR10(  # noqa: N802
    ROOT: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The five training batches concatenated, and the test batch: ``Xtr, Ytr, Xte, Yte``."""
    root = Path(ROOT)
    parts = [load_CIFAR_batch(root / name) for name in CIFAR10_TRAIN_BATCHES]
    Xtr = np.concatenate([X for X, _ in parts])
    Ytr = np.concatenate([y for _, y in parts])
    Xte, Yte = load_CIFAR_batch(root / CIFAR10_TEST_BATCH)
    return Xtr, Ytr, Xte, Yte


def get_CIFAR10_data(  # noqa: N802
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    subtract_mean: bool = True,
    root: str | Path | None = None,
    held_out: bool = False,
) -> dict[str, np.ndarray]:
    """The notebooks' split and preprocessing, channels first.

    Training images ``[0, num_training)`` train, the next ``num_validation`` validate, the
    first ``num_test`` of ``test_batch`` test; the mean training image is subtracted from all
    three. ``root`` defaults to the folder found on the data search path.

    When the training batches hold fewer than ``num_training + num_validation`` images (the
    CI subset has 5085), the validation size is kept, training gets the rest, and a warning
    says so; likewise the test split shrinks to what ``test_batch`` holds. In the grader's
    view of the data set the first images of ``test_batch`` are held out, and a warning says
    that ``X_test`` holds the images after them.

    ``held_out=True`` is the grader's call: it returns the held-out images (``X_held_out``,
    ``y_held_out``) and the validation split (``X_val``, ``y_val``), preprocessed exactly as
    the notebook's split of the view is (same sizes, same mean image), and ``held_out``
    naming the images. Inside a sandbox there are none, and it raises.
    """
    folder = Path(root) if root is not None else locate(CIFAR10)
    if held_out:
        return _held_out_data(folder, num_training, num_validation, subtract_mean)
    Xtr, Ytr, Xte, Yte = load_CIFAR10(folder)
    num_training, num_test, notes = _fit_split(len(Xtr), len(Xte), num_training,
                                               num_validation, num_test, read_note(folder))
    for note in notes:
        warnings.warn(note, stacklevel=2)
    X_train, y_train = Xtr[:num_training], Ytr[:num_training]
    val = slice(num_training, num_training + num_validation)
    X_val, y_val = Xtr[val], Ytr[val]
    X_test, y_test = Xte[:num_test], Yte[:num_test]

    if subtract_mean:
        mean_image = X_train.mean(axis=0)
        X_train = X_train - mean_image
        X_val = X_val - mean_image
        X_test = X_test - mean_image

    return {
        "X_train": X_train.transpose(0, 3, 1, 2).copy(),
        "y_train": y_train,
        "X_val": X_val.transpose(0, 3, 1, 2).copy(),
        "y_val": y_val,
        "X_test": X_test.transpose(0, 3, 1, 2).copy(),
        "y_test": y_test,
    }


def cut_held_out(folder: Path, held_out: HeldOut) -> Split:
    """The view's copy of the batch ``held_out`` names, without its first ``count`` images,
    and those images, less any whose pixels are also in an image the view holds (in the
    batch's other images or in another batch: its label is readable there)."""
    (name,) = held_out.files
    batch = _checked_batch(folder / name)
    count = held_out.count
    keeps_some(CIFAR10, folder / name, len(batch["data"]), count)
    kept = {key: value[count:] if key in PER_IMAGE else value for key, value in batch.items()}
    others = [_checked_batch(folder / other)["data"]
              for other in CIFAR10.contents if other != name]
    return held_out_split(held_out, folder, {name: pickle.dumps(kept, protocol=4)},
                          batch["data"][:count],
                          np.array(batch["labels"][:count], dtype=np.int64),
                          (kept["data"], *others))


def _checked_batch(path: Path) -> dict:
    """A batch of the grader's copy, or an error saying how to replace a broken copy."""
    try:
        batch = read_batch(path)
        if len(batch["data"]) != len(batch["labels"]) or batch["data"].shape[1:] != (3072,):
            raise ValueError("data and labels do not match")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
            pickle.UnpicklingError) as exc:
        raise ViewError(f"{path} is not a CIFAR-10 batch ({exc}); replace the copy, e.g. "
                        f"with `gradekit data fetch cifar10 --force`") from exc
    return batch


def _held_out_data(folder: Path, num_training: int, num_validation: int,
                   subtract_mean: bool) -> dict[str, np.ndarray]:
    """The grader's arrays (see :func:`get_CIFAR10_data`): the mean image is the mean of
    the view's training split, summed exactly in integers as the notebook's float64 mean is,
    so both sides subtract the very same numbers."""
    view = data_view(CIFAR10, folder)
    kept = view.held_out()
    parts = [read_batch(view.folder / name) for name in CIFAR10_TRAIN_BATCHES]
    rows = np.concatenate([batch["data"] for batch in parts])
    labels = np.concatenate([np.array(batch["labels"], dtype=np.int64) for batch in parts])
    num_training, _, _ = _fit_split(len(rows), 0, num_training, num_validation, 0, None)
    mean = rows[:num_training].sum(axis=0, dtype=np.int64) / num_training \
        if subtract_mean else np.zeros(rows.shape[1])
    val = slice(num_training, num_training + num_validation)

    def prepared(images: np.ndarray) -> np.ndarray:
        return (images - mean).reshape(-1, 3, 32, 32)

    return {"X_held_out": prepared(kept.rows), "y_held_out": kept.labels,
            "X_val": prepared(rows[val]), "y_val": labels[val], "held_out": kept.description}


def _fit_split(
    available_train: int, available_test: int, num_training: int, num_validation: int,
    num_test: int, note: dict | None,
) -> tuple[int, int, list[str]]:
    """Shrink the training and test sizes to what exists, keeping the validation size; the
    warnings that say so (and, in the grader's view, which test images are held out)."""
    if num_validation >= available_train:
        raise ValueError(
            f"num_validation={num_validation} leaves no training images: the training "
            f"batches hold only {available_train}; ask for fewer validation images"
        )
    notes = []
    if num_training + num_validation > available_train:
        fitted = available_train - num_validation
        notes.append(
            f"CIFAR-10 training batches hold {available_train} images, fewer than "
            f"num_training + num_validation = {num_training + num_validation}: "
            f"training on {fitted}, validating on {num_validation}")
        num_training = fitted
    fitted_test = min(num_test, available_test)
    if note is not None and CIFAR10_TEST_BATCH in note.get("files", ()) and num_test:
        first = int(note.get("count", 0))
        notes.append(
            f"the grader keeps test_batch images 0..{first - 1} to score your best model "
            f"(they are not in this data folder), so X_test holds the {fitted_test} after "
            f"them ({first}..{first + fitted_test - 1})"
            + (f", fewer than num_test={num_test}" if fitted_test < num_test else ""))
    elif fitted_test < num_test:
        notes.append(
            f"CIFAR-10 test_batch holds {available_test} images, fewer than "
            f"num_test={num_test}: testing on all {available_test}")
    return num_training, fitted_test, notes
