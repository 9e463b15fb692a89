import pickle
import warnings

import numpy as np
import pytest

from gradekit.components import Components
from gradekit.data.cifar10 import get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch

BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def raw_batch(path):
    """A batch straight from its pickle: uint8 rows (N, 3072) and a label list."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="latin1")
    return batch["data"], np.array(batch["labels"])


@pytest.fixture(scope="module")
def raw(cifar_subset):
    train = [raw_batch(cifar_subset / name) for name in BATCHES]
    X_test, y_test = raw_batch(cifar_subset / "test_batch")
    X_train = np.concatenate([X for X, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return X_train, y_train, X_test, y_test


def test_batch_is_channels_last_float64(cifar_subset, raw):
    X, y = load_CIFAR_batch(cifar_subset / "data_batch_1")
    assert X.shape == (1017, 32, 32, 3)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X[5, :, :, 1], raw[0][5, 1024:2048].reshape(32, 32))
    np.testing.assert_array_equal(y, raw[1][:1017])


def test_load_cifar10_concatenates_the_five_batches(cifar_subset, raw):
    Xtr, Ytr, Xte, Yte = load_CIFAR10(cifar_subset)
    assert Xtr.shape == (5 * 1017, 32, 32, 3)
    assert Xte.shape == (1017, 32, 32, 3)
    np.testing.assert_array_equal(Ytr, raw[1])
    np.testing.assert_array_equal(Yte, raw[3])


def test_split_and_mean_subtraction_match_a_hand_computation(cifar_subset, raw):
    X_raw, y_raw, X_test_raw, y_test_raw = raw
    data = get_CIFAR10_data(num_training=3000, num_validation=500, num_test=200,
                            root=cifar_subset)
    images = X_raw.reshape(-1, 3, 32, 32).astype(np.float64)
    mean_image = images[:3000].mean(axis=0)
    expected = {
        "X_train": images[:3000] - mean_image,
        "X_val": images[3000:3500] - mean_image,
        "X_test": X_test_raw[:200].reshape(-1, 3, 32, 32) - mean_image,
        "y_train": y_raw[:3000],
        "y_val": y_raw[3000:3500],
        "y_test": y_test_raw[:200],
    }
    assert list(data) == ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]
    for key, want in expected.items():
        assert data[key].shape == want.shape, key
        np.testing.assert_allclose(data[key], want, rtol=0, atol=1e-9, err_msg=key)
    assert data["X_train"].dtype == np.float64
    assert data["y_train"].dtype == np.int64
    assert data["X_train"].flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-9)


def test_without_mean_subtraction_pixels_are_raw(cifar_subset, raw):
    data = get_CIFAR10_data(num_training=10, num_validation=5, num_test=5,
                            subtract_mean=False, root=cifar_subset)
    np.testing.assert_array_equal(data["X_val"], raw[0][10:15].reshape(-1, 3, 32, 32))


def test_defaults_on_the_subset_keep_validation_and_warn_once(cifar_subset):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = get_CIFAR10_data(root=cifar_subset)
    assert len(caught) == 1
    assert "training on 4085, validating on 1000" in str(caught[0].message)
    assert caught[0].filename == __file__
    assert data["X_train"].shape == (4085, 3, 32, 32)
    assert data["X_val"].shape == (1000, 3, 32, 32)
    assert data["X_test"].shape == (1000, 3, 32, 32)


def test_test_split_shrinks_to_the_test_batch(cifar_subset):
    with pytest.warns(UserWarning, match="testing on all 1017"):
        data = get_CIFAR10_data(num_training=100, num_validation=10, num_test=5000,
                                root=cifar_subset)
    assert data["y_test"].shape == (1017,)
    assert data["y_train"].shape == (100,)


def test_validation_larger_than_the_training_batches_is_an_error(cifar_subset):
    with pytest.raises(ValueError, match="ask for fewer validation images"):
        get_CIFAR10_data(num_validation=5085, root=cifar_subset)


def test_root_defaults_to_the_search_path(cifar_subset, monkeypatch):
    monkeypatch.setenv("GRADEKIT_DATA", str(cifar_subset.parent))
    data = get_CIFAR10_data(num_training=20, num_validation=10, num_test=10)
    expected = get_CIFAR10_data(num_training=20, num_validation=10, num_test=10,
                                root=cifar_subset)
    np.testing.assert_array_equal(data["X_val"], expected["X_val"])


def test_registered_as_the_students_data_utils():
    given = Components(source="plugin:gradekit.provided")
    assert given.get("data_utils.get_CIFAR10_data") is get_CIFAR10_data
    assert "data_utils.load_CIFAR_batch" in given.names()
