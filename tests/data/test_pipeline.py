import numpy as np
import pytest

from kerasopt.augment import RandomAffine
from kerasopt.data import make_dataset


def _first_labels(ds):
    return next(iter(ds))[1].numpy()


def test_batches_and_covers_every_sample_once(digits):
    ds = make_dataset(digits.x_train, digits.y_train, batch_size=100)
    labels = np.concatenate([y.numpy() for _, y in ds])
    assert len(labels) == len(digits.y_train)
    assert np.bincount(labels).tolist() == np.bincount(digits.y_train).tolist()


def test_shuffle_is_seeded(digits):
    a = _first_labels(make_dataset(digits.x_train, digits.y_train, seed=3))
    b = _first_labels(make_dataset(digits.x_train, digits.y_train, seed=3))
    c = _first_labels(make_dataset(digits.x_train, digits.y_train, seed=4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_no_shuffle_keeps_order(digits):
    np.testing.assert_array_equal(
        _first_labels(make_dataset(digits.x_test, digits.y_test, shuffle=False)), digits.y_test[:32]
    )


def test_augmentation_runs_on_batches_and_keeps_labels(digits):
    ds = make_dataset(
        digits.x_train, digits.y_train, shuffle=False, augment=RandomAffine(translation=0.2, seed=0)
    )
    x, y = next(iter(ds))
    assert x.shape == (32, 8, 8)
    np.testing.assert_array_equal(y.numpy(), digits.y_train[:32])
    assert not np.allclose(x.numpy(), digits.x_train[:32])


def test_bad_batch_size(digits):
    with pytest.raises(ValueError, match="batch_size >= 1"):
        make_dataset(digits.x_train, digits.y_train, batch_size=0)
