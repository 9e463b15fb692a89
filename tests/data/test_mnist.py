"""The idx reader on small files written by hand, and get_mnist on the real CI subset."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest

import gradekit.data.digits
from gradekit.components import Components, MissingComponent
from gradekit.data import mnist
from gradekit.data.locate import locate
from gradekit.data.mnist import (
    IdxError,
    get_mnist,
    idx_bytes,
    load_images,
    load_labels,
    load_mnist,
    read_idx,
)
from gradekit.data.registry import (
    MNIST,
    MNIST_TEST_IMAGES,
    MNIST_TEST_LABELS,
    MNIST_TRAIN_LABELS,
)
from gradekit.providers import public_names

# The label grid the course's notebook prints: the first 50 training labels, then the first
# 50 test labels, in the official order.
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9, 4, 0, 9, 1, 1,
                      2, 4, 3, 2, 7, 3, 8, 6, 9, 0, 5, 6, 0, 7, 6, 1, 8, 7, 9, 3, 9, 8, 5, 9, 3]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4, 9, 6, 6, 5, 4,
                     0, 7, 4, 0, 1, 3, 1, 3, 4, 7, 2, 7, 1, 2, 1, 1, 7, 4, 2, 3, 5, 1, 2, 4, 4]


def raw_idx(path, header: int):
    """The items of an idx file straight from its bytes, past a header of ``header`` bytes."""
    return np.frombuffer(gzip.decompress(path.read_bytes()), np.uint8, offset=header)


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzipped", "plain"])
def test_images_load_in_the_shape_the_header_gives(tmp_path, idx, gzipped):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    content = idx(images)
    (tmp_path / "images").write_bytes(gzip.compress(content) if gzipped else content)
    loaded = load_images(tmp_path / "images")
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, images)


def test_labels_file_given_as_images_is_named_for_what_it_is(tmp_path, idx):
    (tmp_path / "labels").write_bytes(idx(np.arange(10, dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"starts with 0x00000801 \(MNIST labels\), not "
                                       r"0x00000803 \(MNIST images\); replace the copy, "
                                       r"e\.g\. with `gradekit data fetch mnist --force`"):
        load_images(tmp_path / "labels")


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"these are not pixels at all")
    with pytest.raises(IdxError, match=r"starts with 0x74686573 \(not MNIST\)"):
        load_labels(tmp_path / "notes.txt")


def test_a_file_too_short_for_its_header_is_refused(tmp_path):
    (tmp_path / "images").write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IdxError, match="holds 6 bytes, too few for the header"):
        load_images(tmp_path / "images")


def test_a_truncated_file_says_how_much_is_missing(tmp_path, idx):
    content = idx(np.zeros((4, 28, 28), dtype=np.uint8))
    (tmp_path / "images.gz").write_bytes(gzip.compress(content[:-100]))
    with pytest.raises(IdxError, match="announces 4 x 28 x 28 = 3136 bytes of MNIST images "
                                       "but holds 3036"):
        load_images(tmp_path / "images.gz")


def test_bytes_past_the_announced_items_are_refused(tmp_path, idx):
    (tmp_path / "labels").write_bytes(idx(np.arange(5, dtype=np.uint8)) + b"\x01")
    with pytest.raises(IdxError, match="announces 5 = 5 bytes of MNIST labels but holds 6"):
        load_labels(tmp_path / "labels")


def test_images_of_another_size_are_refused(tmp_path, idx):
    (tmp_path / "images").write_bytes(idx(np.zeros((2, 32, 32), dtype=np.uint8)))
    with pytest.raises(IdxError, match="images of 32 x 32 pixels, not MNIST's 28 x 28"):
        load_images(tmp_path / "images")


def test_a_label_past_nine_is_refused(tmp_path, idx):
    (tmp_path / "labels").write_bytes(idx(np.array([3, 10, 2], dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"the label 10, but MNIST's are 0\.\.9"):
        load_labels(tmp_path / "labels")


def test_a_damaged_gzip_file_is_refused(tmp_path, idx):
    compressed = gzip.compress(idx(np.arange(10, dtype=np.uint8)))
    (tmp_path / "labels.gz").write_bytes(compressed[:-12])
    with pytest.raises(IdxError, match=r"is a damaged gzip file .* fetch mnist --force"):
        load_labels(tmp_path / "labels.gz")


def test_images_and_labels_must_pair_up(tmp_path, make_mnist, idx):
    folder = make_mnist(tmp_path / "mnist", train=6)
    (folder / MNIST_TRAIN_LABELS).write_bytes(idx(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(IdxError, match=f"holds 6 images but {MNIST_TRAIN_LABELS} 5 labels"):
        load_mnist(folder)


def test_written_files_read_back_and_are_the_same_bytes_every_time(tmp_path, idx):
    images = np.random.default_rng(1).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    written = idx_bytes(images)
    assert gzip.decompress(written) == idx(images)
    assert idx_bytes(images.copy()) == written
    (tmp_path / "images.gz").write_bytes(written)
    np.testing.assert_array_equal(read_idx(tmp_path / "images.gz", mnist.IMAGES_MAGIC), images)


def test_scaling_maps_the_pixel_range_onto_minus_one_to_one():
    pixels = np.array([0, 51, 255], dtype=np.uint8)
    np.testing.assert_array_equal(mnist.scaled(pixels), [-1.0, 51 / 127.5 - 1, 1.0])


def test_the_subset_loads_as_the_course_gives_it(mnist_subset):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trX, trY, tsX, tsY = get_mnist(root=mnist_subset)
    assert [str(w.message) for w in caught] == [
        "this copy of MNIST is a subset: it holds 12000 training images, not the official "
        "60000, and trX holds those 12000"]
    assert caught[0].filename == __file__
    assert (trX.shape, trY.shape, tsX.shape, tsY.shape) == (
        (12000, 28, 28), (12000,), (10000, 28, 28), (10000,))
    assert trX.dtype == tsX.dtype == np.float64 and trY.dtype == tsY.dtype == np.int64
    for X in (trX, tsX):
        assert (X.min(), X.max()) == (-1.0, 1.0)
    assert trY[:50].tolist() == FIRST_TRAIN_LABELS
    assert tsY[:50].tolist() == FIRST_TEST_LABELS
    assert sorted(set(tsY.tolist())) == list(range(10))
    pixels = raw_idx(mnist_subset / MNIST_TEST_IMAGES, 16).reshape(10000, 784)
    columns = tsX.reshape(-1, 28 * 28).T  # the notebook's (d, m) layout
    np.testing.assert_array_equal(columns[:, 9], pixels[9] / 127.5 - 1)
    np.testing.assert_array_equal(tsY, raw_idx(mnist_subset / MNIST_TEST_LABELS, 8))


def test_a_copy_of_the_official_size_loads_without_warnings(tmp_path, make_mnist, monkeypatch):
    folder = make_mnist(tmp_path / "mnist", train=30, test=20)
    monkeypatch.setattr(mnist, "OFFICIAL_TRAIN", 30)
    monkeypatch.setattr(mnist, "OFFICIAL_TEST", 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trX, _, tsX, _ = get_mnist(root=folder)
    assert (len(trX), len(tsX)) == (30, 20)


def test_a_smaller_test_set_is_called_a_subset(tmp_path, make_mnist, monkeypatch):
    monkeypatch.setattr(mnist, "OFFICIAL_TRAIN", 30)
    with pytest.warns(UserWarning, match="holds 20 test images, not the official 10000, and "
                                         "tsX holds those 20"):
        get_mnist(root=make_mnist(tmp_path / "mnist", train=30, test=20))


def test_the_subset_is_found_on_the_search_path(mnist_subset, data_roots, monkeypatch):
    monkeypatch.setenv("GRADEKIT_DATA", str(mnist_subset.parent))
    assert locate(MNIST) == mnist_subset
    with pytest.warns(UserWarning, match="subset"):
        _, trY, _, _ = get_mnist()
    assert trY[:50].tolist() == FIRST_TRAIN_LABELS


def test_a_fetched_copy_is_preferred_to_the_subset(data_roots, make_mnist):
    env_root, _ = data_roots
    make_mnist(env_root / "mnist-subset")
    make_mnist(env_root / "mnist")
    assert locate(MNIST) == env_root / "mnist"


def test_a_copy_without_its_test_labels_is_not_found(data_roots, make_mnist):
    env_root, _ = data_roots
    (make_mnist(env_root / "mnist") / MNIST_TEST_LABELS).unlink()
    with pytest.raises(FileNotFoundError, match=rf"mnist is incomplete \(no {MNIST_TEST_LABELS}"
                                                r"\).*gradekit data fetch mnist` to download "
                                                r"it \(12 MB\)"):
        locate(MNIST)



def test_registered_as_the_courses_digits_module():
    given = Components(source="plugin:gradekit.provided")
    assert given.get("digits.get_mnist") is get_mnist  # the course's `from digits import`
    assert given.get("digits.load_mnist") is load_mnist
    names = set(given.names())
    assert {"digits.get_mnist", "digits.read_idx", "data_utils.get_CIFAR10_data"} <= names
    # the course's digits is MNIST, never scikit-learn's 8x8 digits of the same name
    sklearn_digits = {f"digits.{name}" for name in public_names(gradekit.data.digits)}
    assert sklearn_digits and not sklearn_digits & names
    with pytest.raises(MissingComponent):
        given.get("digits.get_digits_data")
