"""The data view a sandbox reads: the data set without its held-out images, built once per
version of the data, checked by content and rebuilt whole when it does not match."""

from __future__ import annotations

import errno
import gzip
import os
import pickle
import shutil
import stat
import tempfile
import tomllib
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from gradekit.data import cifar10, view
from gradekit.data.cifar10 import get_CIFAR10_data, read_batch
from gradekit.data.mnist import get_mnist, get_mnist_held_out
from gradekit.data.registry import (
    CIFAR10,
    CIFAR10_TRAIN_BATCHES,
    MNIST,
    MNIST_TEST_IMAGES,
    MNIST_TEST_LABELS,
    MNIST_TRAIN_IMAGES,
    MNIST_TRAIN_LABELS,
)
from gradekit.data.view import NOTE, ViewError, data_view

REPO = Path(__file__).resolve().parents[2]
HELD_OUT = CIFAR10.held_out.count


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder for views, and no file hash remembered from earlier tests. (pytest's
    own temporary folders are private to root, so views land in the fallback folder.)"""
    monkeypatch.setattr(platformdirs, "user_cache_dir",
                        lambda appname: str(tmp_path / "cache" / appname))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(view, "_digests", {})
    return view.views_dir()


@pytest.fixture
def subset(cifar_subset: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRADEKIT_DATA", str(cifar_subset.parent))
    return cifar_subset


def write_cifar(folder: Path, per_batch: int = 30, test: int = 20, seed: int = 0) -> Path:
    """A small data set in CIFAR-10's format, random pixels and labels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for name in CIFAR10.contents:
        size = test if name == "test_batch" else per_batch
        batch = {"batch_label": name, "labels": rng.integers(0, 10, size).tolist(),
                 "data": rng.integers(0, 256, (size, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


def small(count: int = 5):
    """CIFAR-10's registry entry holding out ``count`` images, for the small data sets."""
    return replace(CIFAR10, held_out=replace(CIFAR10.held_out, count=count))


def pixels_in(folder: Path) -> set[bytes]:
    """The pixels of every image in every batch of ``folder`` (anything that unpickles)."""
    found = set()
    for path in folder.rglob("*"):
        try:
            batch = read_batch(path)
        except Exception:  # not a batch
            continue
        if isinstance(batch, dict) and "data" in batch:
            found.update(row.tobytes() for row in batch["data"])
    return found


def test_the_view_holds_the_data_set_without_the_held_out_images(subset):
    built = data_view(CIFAR10)
    assert built.built and built.root == built.path / "data"
    assert sorted(os.listdir(built.folder)) == sorted([*CIFAR10.contents, "batches.meta", NOTE])
    for name in CIFAR10_TRAIN_BATCHES:  # linked, not copied
        assert os.stat(built.folder / name).st_ino == os.stat(subset / name).st_ino
    source_test, view_test = read_batch(subset / "test_batch"), read_batch(
        built.folder / "test_batch")
    np.testing.assert_array_equal(view_test["data"], source_test["data"][HELD_OUT:])
    assert view_test["labels"] == source_test["labels"][HELD_OUT:]

    kept = built.held_out()
    np.testing.assert_array_equal(kept.rows, source_test["data"][:HELD_OUT])
    np.testing.assert_array_equal(kept.labels, source_test["labels"][:HELD_OUT])
    assert kept.description == ("the first 1000 images of CIFAR-10's test_batch (the "
                                "notebooks' test split), from cifar-10-subset: 1000 images "
                                "scored")
    readable = pixels_in(built.root)
    assert len(readable) == 5 * 1017 + 17
    assert not readable & {row.tobytes() for row in kept.rows}

    assert stat.S_IMODE(os.stat(built.path / "private").st_mode) == 0o700
    assert not (built.path / "private").is_relative_to(built.root)
    assert stat.S_IMODE(os.stat(built.folder).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(built.folder / "test_batch").st_mode) == 0o444


def test_a_second_build_is_a_cache_hit(subset, monkeypatch):
    first = data_view(CIFAR10)
    made = os.stat(first.folder / "test_batch")
    monkeypatch.setattr(view, "_digests", {})  # as a new grading process: hashed again
    second = data_view(CIFAR10)
    assert first.built and not second.built and second.path == first.path
    assert os.stat(second.folder / "test_batch").st_ino == made.st_ino


def flip_a_byte(entry: Path) -> None:
    path = entry / "data" / "cifar-10-subset" / "test_batch"
    os.chmod(path, 0o644)
    content = bytearray(path.read_bytes())
    content[-10] ^= 0xFF
    path.write_bytes(bytes(content))


def replace_by_a_link(entry: Path) -> None:
    path = entry / "data" / "cifar-10-subset" / "data_batch_2"
    path.unlink()
    path.symlink_to(entry / "data" / "cifar-10-subset" / "data_batch_1")


def replace_by_a_file(entry: Path) -> None:
    shutil.rmtree(entry)
    entry.write_text("")


CORRUPTIONS = {
    "a flipped byte": flip_a_byte,
    "a missing batch": lambda entry: (entry / "data/cifar-10-subset/data_batch_3").unlink(),
    "a planted file": lambda entry: (entry / "data/cifar-10-subset/extra").write_text("x"),
    "a link": replace_by_a_link,
    "a truncated held-out file": lambda entry: (entry / "private/held_out.npz").write_bytes(b""),
    "a broken manifest": lambda entry: (entry / "manifest.json").write_text("{"),
    "a file instead of the view": replace_by_a_file,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupted_view_is_rebuilt(subset, corrupt):
    entry = data_view(CIFAR10).path
    corrupt(entry)
    rebuilt = data_view(CIFAR10)
    assert rebuilt.built and rebuilt.path == entry
    assert view.verified(entry, entry.name.removeprefix("cifar10-")) is not None
    np.testing.assert_array_equal(read_batch(entry / "data/cifar-10-subset/test_batch")["data"],
                                  read_batch(subset / "test_batch")["data"][HELD_OUT:])
    assert not data_view(CIFAR10).built
    assert [p.name for p in entry.parent.iterdir() if p.name.startswith(".")] == [".lock"]


def test_a_changed_data_set_gets_a_view_of_its_own(tmp_path, cache):
    source = write_cifar(tmp_path / "cifar-10-batches-py")
    old = data_view(small(), source)
    batch = read_batch(source / "data_batch_1")
    batch["labels"][0] = (batch["labels"][0] + 1) % 10
    (source / "new").write_bytes(pickle.dumps(batch))
    (source / "new").replace(source / "data_batch_1")  # as a fetch puts a new copy in place
    new = data_view(small(), source)
    assert new.built and new.path != old.path
    assert read_batch(new.folder / "data_batch_1")["labels"] == batch["labels"]
    assert view.verified(old.path, old.path.name.removeprefix("cifar10-")) is not None
    with open(source / "data_batch_2", "r+b") as f:  # in place: a linked view changes too
        f.seek(os.fstat(f.fileno()).st_size // 2)  # a pixel
        f.write(b"\x00\xff")
    assert view.verified(new.path, new.path.name.removeprefix("cifar10-")) is None
    assert data_view(small(), source).built  # never a view whose files no longer match


def test_a_failed_build_leaves_nothing_behind(tmp_path, cache, monkeypatch):
    source = write_cifar(tmp_path / "cifar-10-batches-py")
    killed_build = cache / ".build-killed"
    killed_build.mkdir(parents=True)

    def broken(folder, held_out):
        raise OSError(errno.ENOSPC, "No space left on device")

    working = cifar10.cut_held_out
    monkeypatch.setattr(cifar10, "cut_held_out", broken)
    with pytest.raises(OSError, match="No space left"):
        data_view(small(), source)
    assert sorted(p.name for p in cache.iterdir()) == [".lock"]  # the old leftover is gone too
    monkeypatch.setattr(cifar10, "cut_held_out", working)
    assert data_view(small(), source).built


def test_files_a_link_cannot_reach_are_copied(tmp_path, cache, monkeypatch):
    source = write_cifar(tmp_path / "cifar-10-batches-py")

    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    built = data_view(small(), source)
    for name in CIFAR10_TRAIN_BATCHES:
        copied = built.folder / name
        assert os.stat(copied).st_ino != os.stat(source / name).st_ino
        assert copied.read_bytes() == (source / name).read_bytes()
        assert stat.S_IMODE(os.stat(copied).st_mode) == 0o444


def test_a_file_others_may_write_is_copied_not_linked(tmp_path, cache):
    source = write_cifar(tmp_path / "cifar-10-batches-py")
    os.chmod(source / "data_batch_4", 0o666)
    built = data_view(small(), source)
    assert os.stat(built.folder / "data_batch_4").st_ino != os.stat(source / "data_batch_4").st_ino
    assert os.stat(built.folder / "data_batch_1").st_ino == os.stat(source / "data_batch_1").st_ino


def test_an_image_also_in_the_training_batches_is_not_scored(tmp_path, cache):
    source = write_cifar(tmp_path / "cifar-10-batches-py")
    test, train = read_batch(source / "test_batch"), read_batch(source / "data_batch_3")
    test["data"][2] = train["data"][7]
    (source / "test_batch").write_bytes(pickle.dumps(test))
    kept = data_view(small(), source).held_out()
    assert kept.positions.tolist() == [0, 1, 3, 4]
    np.testing.assert_array_equal(kept.rows, test["data"][[0, 1, 3, 4]])
    np.testing.assert_array_equal(kept.labels, np.array(test["labels"])[[0, 1, 3, 4]])
    assert kept.description.endswith(
        "4 images scored (1 left out: their pixels are also in images the view holds)")


def test_an_image_also_among_the_test_images_the_view_keeps_is_not_scored(tmp_path, cache):
    source = write_cifar(tmp_path / "cifar-10-batches-py")
    test = read_batch(source / "test_batch")
    test["data"][0] = test["data"][17]  # the view's test_batch holds images 5.. with labels
    test["data"][3] = test["data"][5]
    (source / "test_batch").write_bytes(pickle.dumps(test))
    built = data_view(small(), source)
    kept = built.held_out()
    assert kept.positions.tolist() == [1, 2, 4]
    assert kept.labels.tolist() == [test["labels"][i] for i in (1, 2, 4)]
    assert built.description == kept.description == (
        f"{CIFAR10.held_out.summary}, from cifar-10-batches-py: 3 images scored (2 left out: "
        "their pixels are also in images the view holds)")
    assert not pixels_in(built.root) & {row.tobytes() for row in kept.rows}


def test_a_batch_that_does_not_unpickle_says_to_fetch_again(tmp_path, cache):
    source = write_cifar(tmp_path / "cifar-10-batches-py")
    (source / "data_batch_5").write_bytes(b"\x80\x04garbage")
    with pytest.raises(ViewError, match=r"data_batch_5 is not a CIFAR-10 batch .*fetch cifar10"):
        data_view(small(), source)


def test_holding_out_a_whole_batch_is_refused(tmp_path, cache):
    source = write_cifar(tmp_path / "cifar-10-batches-py", test=5)
    with pytest.raises(ValueError, match="test_batch holds 5 images, too few to hold out 5 "
                                         "and keep some; lower the held-out count of cifar10"):
        data_view(small(5), source)
    assert [p.name for p in cache.iterdir()] == [".lock"]  # no view, nothing half built


def test_a_view_is_never_a_source(subset):
    built = data_view(CIFAR10)
    with pytest.raises(ViewError, match="the grader's view of CIFAR-10"):
        data_view(CIFAR10, built.folder)
    with pytest.raises(ViewError, match="stay with the grader"):
        get_CIFAR10_data(held_out=True, root=built.folder)


def test_views_live_where_every_user_can_reach_them(tmp_path, cache, monkeypatch):
    assert cache == tmp_path / "tmp" / f"gradekit-views-{os.geteuid()}"  # tmp_path is private
    shared = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        shared.chmod(0o755)
        monkeypatch.setattr(platformdirs, "user_cache_dir", lambda appname: str(shared / appname))
        assert view.views_dir() == shared / "gradekit" / "views"
        assert stat.S_IMODE(os.stat(shared / "gradekit" / "views").st_mode) == 0o755
    finally:
        shutil.rmtree(shared)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder of another user")
def test_a_views_folder_of_another_user_is_refused(cache):
    os.chown(cache, 65534, 65534)
    with pytest.raises(ViewError, match="not a folder of the grader's own"):
        view.views_dir()


def test_held_out_data_is_preprocessed_like_the_notebooks_split(subset):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the subset's warnings have their own tests
        graded = get_CIFAR10_data(held_out=True)
        seen = get_CIFAR10_data(root=data_view(CIFAR10).folder)
    assert set(graded) == {"X_held_out", "y_held_out", "X_val", "y_val", "held_out"}
    np.testing.assert_array_equal(graded["X_val"], seen["X_val"])  # the very same numbers
    np.testing.assert_array_equal(graded["y_val"], seen["y_val"])
    rows = np.concatenate([read_batch(subset / n)["data"] for n in CIFAR10_TRAIN_BATCHES])
    mean = rows[:4085].astype(np.float64).mean(axis=0).reshape(3, 32, 32)
    test = read_batch(subset / "test_batch")
    np.testing.assert_array_equal(
        graded["X_held_out"], test["data"][:HELD_OUT].reshape(-1, 3, 32, 32) - mean)
    np.testing.assert_array_equal(graded["y_held_out"], test["labels"][:HELD_OUT])
    assert graded["X_held_out"].dtype == np.float64 and graded["y_held_out"].dtype == np.int64
    assert graded["held_out"] == data_view(CIFAR10).description


def test_the_notebooks_split_of_the_view_says_which_test_images_it_lacks(subset):
    folder = data_view(CIFAR10).folder
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = get_CIFAR10_data(root=folder)
    assert [str(w.message) for w in caught] == [
        "CIFAR-10 training batches hold 5085 images, fewer than num_training + "
        "num_validation = 50000: training on 4085, validating on 1000",
        "the grader keeps test_batch images 0..999 to score your best model (they are not in "
        "this data folder), so X_test holds the 17 after them (1000..1016), fewer than "
        "num_test=1000"]
    assert {caught[0].filename, caught[1].filename} == {__file__}
    assert [data[k].shape[0] for k in ("X_train", "X_val", "X_test")] == [4085, 1000, 17]
    raw = read_batch(subset / "test_batch")["labels"]
    np.testing.assert_array_equal(data["y_test"], raw[HELD_OUT:])


def test_the_pack_names_the_held_out_images_the_registry_holds_out():
    with open(REPO / "assignments" / "fc_nets" / "assignment.toml", "rb") as f:
        accuracy = tomllib.load(f)["accuracy"]
    assert accuracy["held_out"] == CIFAR10.held_out.summary


MNIST_HELD_OUT = MNIST.held_out.count


@pytest.fixture
def mnist_view_of_subset(mnist_subset: Path, cache: Path,
                         monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRADEKIT_DATA", str(mnist_subset.parent))
    return mnist_subset


def idx_items(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
    """The dimensions an idx.gz file announces and its items, read straight from its bytes."""
    content = gzip.decompress(path.read_bytes())
    ndim = content[3]
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return shape, np.frombuffer(content, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def small_mnist(count: int = 5):
    """MNIST's registry entry holding out ``count`` test images, for the small copies."""
    return replace(MNIST, held_out=replace(MNIST.held_out, count=count))


def test_the_mnist_view_holds_idx_files_without_the_held_out_test_images(
        mnist_view_of_subset):
    source = mnist_view_of_subset
    built = data_view(MNIST)
    assert sorted(os.listdir(built.folder)) == sorted([*MNIST.contents, NOTE])
    for name in (MNIST_TRAIN_IMAGES, MNIST_TRAIN_LABELS):  # linked, not copied
        assert os.stat(built.folder / name).st_ino == os.stat(source / name).st_ino
    (test_shape, test_images), (_, source_images) = (
        idx_items(built.folder / MNIST_TEST_IMAGES), idx_items(source / MNIST_TEST_IMAGES))
    (label_shape, test_labels), (_, source_labels) = (
        idx_items(built.folder / MNIST_TEST_LABELS), idx_items(source / MNIST_TEST_LABELS))
    assert (test_shape, label_shape) == ((5000, 28, 28), (5000,))
    np.testing.assert_array_equal(test_images, source_images[MNIST_HELD_OUT:])
    np.testing.assert_array_equal(test_labels, source_labels[MNIST_HELD_OUT:])

    kept = built.held_out()
    np.testing.assert_array_equal(kept.rows, source_images[:MNIST_HELD_OUT])
    np.testing.assert_array_equal(kept.labels, source_labels[:MNIST_HELD_OUT])
    assert kept.description == ("the first 5000 images of MNIST's t10k test set (the half "
                                "from NIST's training writers), from mnist-subset: 5000 "
                                "images scored")
    readable = {image.tobytes() for name in (MNIST_TRAIN_IMAGES, MNIST_TEST_IMAGES)
                for image in idx_items(built.folder / name)[1]}
    assert not readable & {image.tobytes() for image in kept.rows}
    assert stat.S_IMODE(os.stat(built.folder / MNIST_TEST_IMAGES).st_mode) == 0o444


def test_get_mnist_in_the_view_says_which_test_images_it_lacks(mnist_view_of_subset):
    folder = data_view(MNIST).folder
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, _, tsX, tsY = get_mnist(root=folder)
    assert [str(w.message) for w in caught][1:] == [
        "the grader keeps t10k images 0..4999 to score your model (they are not in this data "
        "folder), so tsX holds the 5000 after them (5000..9999)"]
    _, labels = idx_items(mnist_view_of_subset / MNIST_TEST_LABELS)
    np.testing.assert_array_equal(tsY, labels[MNIST_HELD_OUT:])
    assert tsX.shape == (5000, 28, 28)


def test_the_grader_gets_the_held_out_mnist_images_as_get_mnist_gives_the_rest(
        mnist_view_of_subset):
    graded = get_mnist_held_out()
    _, images = idx_items(mnist_view_of_subset / MNIST_TEST_IMAGES)
    _, labels = idx_items(mnist_view_of_subset / MNIST_TEST_LABELS)
    np.testing.assert_array_equal(graded["X_held_out"],
                                  images[:MNIST_HELD_OUT] / 127.5 - 1.0)
    np.testing.assert_array_equal(graded["y_held_out"], labels[:MNIST_HELD_OUT])
    assert graded["X_held_out"].dtype == np.float64 and graded["y_held_out"].dtype == np.int64
    assert graded["held_out"] == data_view(MNIST).description
    with pytest.raises(ViewError, match="stay with the grader"):
        get_mnist_held_out(root=data_view(MNIST).folder)


def test_an_mnist_test_image_also_in_the_view_is_not_scored(tmp_path, cache, make_mnist, idx):
    source = make_mnist(tmp_path / "mnist")
    _, train = idx_items(source / MNIST_TRAIN_IMAGES)
    _, test = idx_items(source / MNIST_TEST_IMAGES)
    test = test.copy()
    test[1] = train[4]  # readable with its label in the training files
    test[3] = test[12]  # and in the test images the view keeps
    (source / MNIST_TEST_IMAGES).write_bytes(gzip.compress(idx(test)))
    kept = data_view(small_mnist(), source).held_out()
    assert kept.positions.tolist() == [0, 2, 4]
    np.testing.assert_array_equal(kept.rows, test[[0, 2, 4]])
    assert kept.description.endswith(
        "3 images scored (2 left out: their pixels are also in images the view holds)")


def test_a_damaged_mnist_file_says_to_fetch_again(tmp_path, cache, make_mnist):
    source = make_mnist(tmp_path / "mnist")
    (source / MNIST_TEST_LABELS).write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00"))
    with pytest.raises(ViewError, match=f"{MNIST_TEST_LABELS} holds 5 bytes, too few .* "
                                        "fetch mnist --force"):
        data_view(small_mnist(), source)


def test_holding_out_every_mnist_test_image_is_refused(tmp_path, cache, make_mnist):
    source = make_mnist(tmp_path / "mnist", test=5)
    with pytest.raises(ValueError, match="too few to hold out 5 and keep some; lower the "
                                         "held-out count of mnist"):
        data_view(small_mnist(5), source)
