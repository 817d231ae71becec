"""`DatasetSplits.select_classes` and `per_class_train`: the tasks transfer and few-shot cut."""

import numpy as np
import pytest

from kerasopt.data import InvalidDataError, load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_select_classes_keeps_only_those_samples_and_relabels_in_order(digits):
    target = digits.select_classes([7, 2])
    assert target.num_classes == 2
    for part in ("train", "val", "test"):
        y_old = getattr(digits, f"y_{part}")
        y_new = getattr(target, f"y_{part}")
        x_old = getattr(digits, f"x_{part}")
        assert len(y_new) == int(np.sum(y_old == 7) + np.sum(y_old == 2))
        # Label 0 is old class 7: the first such sample is the same image.
        np.testing.assert_array_equal(
            getattr(target, f"x_{part}")[y_new == 0][0], x_old[y_old == 7][0]
        )
    assert target.split["classes"] == [7, 2]
    target.check()


@pytest.mark.parametrize("classes", [[], [3, 3], [3, 10], [-1]])
def test_select_classes_refuses_what_is_not_a_task(digits, classes):
    with pytest.raises(InvalidDataError, match=r"distinct integers in \[0, 10\)"):
        digits.select_classes(classes)


def test_per_class_train_takes_exactly_n_of_each_class_seeded(digits):
    subset = digits.per_class_train(7, seed=3)
    assert np.bincount(subset.y_train).tolist() == [7] * 10
    assert len(subset.y_test) == len(digits.y_test)
    again = digits.per_class_train(7, seed=3)
    np.testing.assert_array_equal(subset.x_train, again.x_train)
    other = digits.per_class_train(7, seed=4)
    assert not np.array_equal(subset.x_train, other.x_train)


def test_per_class_train_refuses_more_than_a_class_has(digits):
    fewest = int(np.bincount(digits.y_train).min())
    with pytest.raises(InvalidDataError, match=f"ask for at most {fewest} per class"):
        digits.per_class_train(fewest + 1)
