"""`best_of_rates`: every candidate rate fits from the same start; the best on validation stays."""

import pytest

from kerasopt.compress import best_of_rates
from kerasopt.compress.accuracy_budget import StageFineTuning


def _fits(outcomes):
    """`fit_at` whose fit at each rate ends with the given (val accuracy, val loss)."""
    calls = []

    def fit_at(rate):
        calls.append(rate)
        accuracy, loss = outcomes[rate]
        record = StageFineTuning(30, 30, 2.0, accuracy, False, best_epoch=20, val_loss=loss)
        return f"model at {rate:g}", record

    return fit_at, calls


def test_keeps_the_highest_validation_accuracy_and_records_every_trial():
    fit_at, calls = _fits({1e-3: (0.95, 0.20), 1e-2: (0.97, 0.25)})
    model, record = best_of_rates(fit_at, (1e-3, 1e-2))
    assert calls == [1e-3, 1e-2] and model == "model at 0.01"
    assert record.learning_rate == 1e-2 and record.val_accuracy == 0.97
    assert record.seconds == pytest.approx(4.0)  # the time of both fits
    assert [t["learning_rate"] for t in record.rate_trials] == [1e-3, 1e-2]
    assert [t["val_loss"] for t in record.rate_trials] == [0.20, 0.25]


def test_a_lower_validation_loss_breaks_a_tie_and_nan_never_wins():
    fit_at, _ = _fits({1e-3: (0.97, 0.10), 1e-2: (0.97, 0.30), 3e-2: (float("nan"), None)})
    model, record = best_of_rates(fit_at, (3e-2, 1e-2, 1e-3))
    assert model == "model at 0.001" and record.learning_rate == 1e-3


def test_one_rate_is_one_fit_without_trials():
    fit_at, calls = _fits({1e-2: (0.9, 0.3)})
    _, record = best_of_rates(fit_at, (1e-2,))
    assert calls == [1e-2] and record.rate_trials == () and record.learning_rate == 1e-2
    assert record.seconds == 2.0
