"""`find_lr` on a tiny linearly separable problem."""

import keras
import numpy as np
import pytest

from kerasopt.schedules import LRFinderResult, find_lr


@pytest.fixture
def data():
    keras.utils.set_random_seed(0)
    x = np.random.normal(size=(256, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    return x, y


def _classifier():
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])


def test_suggestion_in_range_weights_restored_and_plot_written(data, tmp_path):
    x, y = data
    model = _classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="binary_crossentropy")
    before = model.get_weights()

    result = find_lr(model, x, y, min_lr=1e-5, max_lr=10.0, steps=60, plot_path=tmp_path / "lr.png")

    assert isinstance(result, LRFinderResult)
    assert 1e-5 <= result.suggestion <= 10.0
    assert 3 <= len(result.losses) == len(result.learning_rates) <= 60
    assert np.all(np.diff(result.learning_rates) > 0)
    # The steepest descent lies below the rate where the loss blows up.
    assert result.suggestion < result.learning_rates[-1]
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    # The user's own optimizer was never stepped or retuned.
    assert int(model.optimizer.iterations) == 0
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_uncompiled_model_with_loss_and_optimizer_and_no_plot(data, tmp_path):
    x, y = data
    model = _classifier()
    before = model.get_weights()

    result = find_lr(model, x, y, optimizer="adam", loss="binary_crossentropy", steps=20)

    assert 1e-6 <= result.suggestion <= 1.0
    assert len(result.losses) == 20
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert list(tmp_path.iterdir()) == []


def test_stops_once_smoothed_loss_exceeds_four_times_best(data):
    x, _ = data
    target = x @ np.array([2.0, -3.0], "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    result = find_lr(model, x, target, min_lr=1e-4, max_lr=1e3, steps=100, smoothing=0.9)

    assert len(result.losses) < 100
    assert result.losses[-1] > 4 * result.losses.min()
    assert np.all(result.losses[:-1] <= 4 * np.minimum.accumulate(result.losses)[:-1])


def test_suggestion_ignores_the_noisy_start_and_the_divergence():
    from kerasopt.schedules import suggest_learning_rate

    rates = np.geomspace(1e-6, 1.0, 100)
    curve = 3.0 - np.tanh(np.log10(rates) + 2.5)  # the real descent is steepest at ~3e-3
    curve[:5] = [3.6, 3.2, 3.5, 3.1, 3.3]  # moving-average warm-up: steep, meaningless
    curve[-10:] = np.linspace(curve[-11], 6.0, 10)  # divergence after the minimum
    assert 1e-3 < suggest_learning_rate(rates, curve) < 1e-2


def test_suggestion_of_a_short_test_is_a_tenth_of_the_best_rate():
    from kerasopt.schedules import suggest_learning_rate

    assert suggest_learning_rate(np.array([1e-3, 1e-2]), np.array([2.0, 1.0])) == 1e-3
