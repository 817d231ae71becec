"""The median stopping rule stops a trial exactly when it falls below the median."""

import keras
import numpy as np
import pytest

from kerasopt.tuning import MedianStoppingRule
from kerasopt.tuning.median_stopping import curve_metrics, reference_curves

CURVES = [{0: 0.5, 1: 0.8, 2: 0.9}, {0: 0.4, 1: 0.7, 2: 0.85}, {0: 0.6, 1: 0.9}]


class _Model:
    stop_training = False


def _run(rule, values):
    rule.set_model(_Model())
    for epoch, value in enumerate(values):
        rule.on_epoch_end(epoch, {"val_accuracy": value})
        if rule.model.stop_training:
            return epoch
    return None


def test_stops_at_the_first_epoch_below_the_median_after_the_grace_period():
    rule = MedianStoppingRule(CURVES, min_trials=3, grace_epochs=1)
    # epoch 0 is in the grace period; epoch 1 median is 0.8: 0.75 is below it.
    assert _run(rule, [0.1, 0.75, 0.95]) == 1
    assert "0.7500 at epoch 2 is worse than the median 0.8000" in rule.reason


def test_does_not_stop_at_or_above_the_median_or_without_enough_trials():
    assert _run(MedianStoppingRule(CURVES, min_trials=3, grace_epochs=1), [0.0, 0.8, 0.1]) is None
    # only two trials reached epoch 2, fewer than min_trials=3
    assert MedianStoppingRule(CURVES, min_trials=3).median_at(2) is None
    assert MedianStoppingRule(CURVES, min_trials=2).median_at(2) == pytest.approx(0.875)


def test_min_direction_stops_on_a_higher_loss():
    curves = [{1: 1.0}, {1: 2.0}, {1: 3.0}]
    rule = MedianStoppingRule(curves, metric="val_loss", direction="min", min_trials=3)
    rule.set_model(_Model())
    rule.on_epoch_end(1, {"val_loss": 2.5})
    assert rule.model.stop_training and rule.stopped_epoch == 1


def test_stops_a_real_fit():
    x, y = np.random.rand(64, 4).astype("float32"), np.random.randint(0, 2, 64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rule = MedianStoppingRule([{e: 1.0 for e in range(5)}] * 3, grace_epochs=1)
    history = model.fit(x, y, validation_data=(x, y), epochs=5, callbacks=[rule], verbose=0)
    assert len(history.epoch) == 2 and rule.stopped_epoch == 1


def test_curves_round_trip_through_trial_metrics():
    import keras_tuner

    trial = keras_tuner.engine.trial.Trial(keras_tuner.HyperParameters(), trial_id="0")
    trial.status = "COMPLETED"
    for name, value in curve_metrics({"val_accuracy": [0.3, 0.6]}, "val_accuracy", 2).items():
        trial.metrics.register(name, "max")
        trial.metrics.update(name, value)
    assert reference_curves([trial], "val_accuracy") == [{2: 0.3, 3: 0.6}]


def test_config_round_trip_and_argument_errors():
    rule = MedianStoppingRule(CURVES, metric="val_loss", direction="min", min_trials=2)
    clone = MedianStoppingRule.from_config(rule.get_config())
    assert clone.reference_curves == rule.reference_curves and clone.direction == "min"
    with pytest.raises(ValueError, match="direction 'max' or 'min'. Received: direction='up'"):
        MedianStoppingRule(direction="up")
