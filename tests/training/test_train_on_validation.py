import math

import keras
import numpy as np
import pytest

from kerasopt.data import load_dataset
from kerasopt.models import build_cnn
from kerasopt.training import ConfigError, TrainConfig, train


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_with_validation_in_train_appends_validation_and_keeps_test(digits):
    merged = digits.with_validation_in_train()
    n_train, n_val = len(digits.y_train), len(digits.y_val)
    assert len(merged.y_train) == n_train + n_val
    np.testing.assert_array_equal(merged.x_train[n_train:], digits.x_val)
    np.testing.assert_array_equal(merged.y_train[n_train:], digits.y_val)
    np.testing.assert_array_equal(merged.x_test, digits.x_test)
    assert merged.split["train_on_validation"] is True
    assert len(digits.y_train) == n_train  # the original splits are untouched


def test_train_on_validation_refuses_early_stopping_and_non_booleans():
    with pytest.raises(ConfigError, match=r"early_stopping_patience=15.*Set early_stopping"):
        TrainConfig(train_on_validation=True)
    with pytest.raises(ConfigError, match=r"train_on_validation must be true or false"):
        TrainConfig(train_on_validation="yes", early_stopping_patience=None)


class _BatchCounter(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


@pytest.mark.parametrize("on_validation", [True, False], ids=["train+val", "holdout"])
def test_train_fits_the_validation_samples_only_when_asked(digits, tmp_path, on_validation):
    keras.utils.set_random_seed(0)
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    config = TrainConfig(
        epochs=1,
        batch_size=64,
        augment=None,
        early_stopping_patience=None,
        train_on_validation=on_validation,
    )
    counter = _BatchCounter()
    result = train(model, digits, config, tmp_path, verbose=0, callbacks=[counter])
    samples = len(digits.y_train) + (len(digits.y_val) if on_validation else 0)
    assert counter.batches == math.ceil(samples / 64)
    # Nothing held out: no validation metrics that would only measure fit.
    assert ("val_loss" in result.history) is not on_validation
    # The best checkpoint follows the training loss instead of the missing val_loss.
    assert (tmp_path / "checkpoints" / "best.keras").is_file()
