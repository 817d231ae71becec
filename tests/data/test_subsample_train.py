import numpy as np
import pytest

from kerasopt.data import load_dataset


def test_subsample_is_stratified_seeded_and_keeps_validation_and_test(digits):
    subset = digits.subsample_train(500, seed=1)
    assert len(subset.y_train) == 500
    counts = np.bincount(subset.y_train, minlength=10)
    assert counts.min() >= 45 and counts.max() <= 55  # stratified: about 50 per class
    assert subset.x_val is digits.x_val and subset.x_test is digits.x_test
    again = digits.subsample_train(500, seed=1)
    np.testing.assert_array_equal(subset.x_train, again.x_train)
    other = digits.subsample_train(500, seed=2)
    assert not np.array_equal(subset.x_train, other.x_train)
    assert "500 stratified samples (seed 1)" in subset.describe()["split"]["train_subset"]


def test_subsample_at_or_above_the_size_is_the_whole_split(digits):
    assert digits.subsample_train(len(digits.y_train)) is digits


def test_subsample_refuses_a_non_positive_count():
    with pytest.raises(ValueError, match="samples"):
        load_dataset("digits").subsample_train(0)
