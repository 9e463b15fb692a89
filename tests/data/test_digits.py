import numpy as np
import pytest
from sklearn.datasets import load_digits

from gradekit.data.digits import get_digits_data


def test_shapes_dtypes_and_labels():
    data = get_digits_data()
    assert data["X_train"].shape == (1297, 64)
    assert data["X_val"].shape == (250, 64)
    assert data["X_test"].shape == (250, 64)
    assert data["X_train"].dtype == np.float64
    assert data["y_train"].dtype == np.int64
    assert set(np.unique(data["y_train"])) == set(range(10))


def test_split_is_deterministic_and_seeded():
    first, again, other = get_digits_data(), get_digits_data(), get_digits_data(seed=1)
    np.testing.assert_array_equal(first["X_val"], again["X_val"])
    assert not np.array_equal(first["y_val"], other["y_val"])


def test_splits_partition_every_image_exactly_once():
    data = get_digits_data(subtract_mean=False)
    rows = np.concatenate([data["X_train"], data["X_val"], data["X_test"]])
    labels = np.concatenate([data["y_train"], data["y_val"], data["y_test"]])
    digits = load_digits()
    expected = np.column_stack([digits.data / 16.0, digits.target])
    got = np.column_stack([rows, labels])
    np.testing.assert_array_equal(got[np.lexsort(got.T)], expected[np.lexsort(expected.T)])
    assert rows.min() == 0.0
    assert rows.max() == 1.0


def test_mean_subtraction_uses_the_training_mean():
    raw, centred = get_digits_data(subtract_mean=False), get_digits_data()
    mean_image = raw["X_train"].mean(axis=0)
    np.testing.assert_allclose(centred["X_test"], raw["X_test"] - mean_image)


def test_splits_that_leave_nothing_to_train_on_are_refused():
    with pytest.raises(ValueError, match="leaves no training images"):
        get_digits_data(num_validation=1000, num_test=797)
