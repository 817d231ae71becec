"""TrainingHealth: NaN diagnosis naming the layer, the four health warnings, arguments."""

import re
import warnings

import keras
import numpy as np
import pytest
from small_models import regression_data

from kerasopt.callbacks import TrainingDivergedError, TrainingHealth, TrainingHealthWarning


def _model(lr=0.01, out_kernel="glorot_uniform", between=None, activation="relu"):
    layers = [keras.Input((4,)), keras.layers.Dense(8, activation=activation, name="d1")]
    layers += [between] if between is not None else []
    layers += [keras.layers.Dense(8, name="d2")]
    layers += [keras.layers.Dense(1, kernel_initializer=out_kernel, name="out")]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse", jit_compile=False)
    return model


class _PoisonKernel(keras.callbacks.Callback):
    """Sets one layer's kernel to NaN at the end (or the start) of global step `step`."""

    def __init__(self, layer, step, at="end"):
        super().__init__()
        self.layer, self.step, self.at, self.seen = layer, step, at, 0

    def _poison(self):
        kernel = self.model.get_layer(self.layer).kernel
        kernel.assign(np.full(kernel.shape, np.nan, "float32"))

    def on_train_batch_begin(self, batch, logs=None):
        if self.at == "begin" and self.seen == self.step:
            self._poison()

    def on_train_batch_end(self, batch, logs=None):
        if self.at == "end" and self.seen == self.step:
            self._poison()
        self.seen += 1


class _StepCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


def _fit(model, callbacks, epochs=3):
    """Fits on the row-sum toy (8 batches of 8 per epoch); returns the TrainingHealth warnings."""
    x, y = regression_data(weights=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=epochs, batch_size=8, callbacks=callbacks, verbose=0)
    return [str(w.message) for w in caught if issubclass(w.category, TrainingHealthWarning)]


@pytest.mark.parametrize(
    "poison_first, at, poison_step, stop_step, text",
    [
        (True, "end", 5, 5, r"at step 5 .*The loss was still finite"),
        (False, "end", 5, 6, r"before step 6 .*code outside the training step"),
        (True, "begin", 5, 5, r"before step 5 .*code outside the training step"),
        (True, "begin", 0, 0, r"before step 0 .*started from non-finite weights"),
    ],
    ids=["same-step", "next-step", "batch-begin", "first-step"],
)
def test_nan_weights_stop_training_and_name_the_layer(
    poison_first, at, poison_step, stop_step, text
):
    model, health, counter = _model(), TrainingHealth(), _StepCounter()
    poison = _PoisonKernel("d2", step=poison_step, at=at)
    callbacks = [poison, health, counter] if poison_first else [health, poison, counter]
    messages = _fit(model, callbacks)
    assert counter.steps == stop_step + 1  # Stopped right after the faulty step, in epoch 0.
    assert model.stop_training
    assert messages == [health.diagnosis]
    assert health.diagnosis.startswith("TrainingHealth: the weights of layer 'd2' became")
    assert "Fix:" in health.diagnosis
    assert health.events[0]["kind"] == "nan" and health.events[0]["layer"] == "d2"
    assert health.events[0]["step"] == stop_step and health.events[0]["epoch"] == 0
    assert len(health.events) == 1
    assert re.search(text, health.diagnosis)


def test_on_nan_raise_raises_with_the_diagnosis():
    health = TrainingHealth(on_nan="raise")
    with pytest.raises(TrainingDivergedError, match=r"layer 'd2' became NaN/Inf at step 2") as e:
        _fit(_model(), [_PoisonKernel("d2", step=2), health])
    assert e.value.event["layer"] == "d2" and e.value.diagnosis == health.diagnosis


@pytest.mark.parametrize(
    "activation, text",
    [
        # ReLU turns the NaN into 0: the loss stays finite, only the input layer is hit.
        ("relu", r"layer 'd1' became NaN/Inf at step 2 .*or NaN/Inf inputs reached it"),
        (None, r"layer 'd1' .*3 of 3 layers affected.*every layer failed in the same step"),
    ],
    ids=["relu", "linear"],
)
def test_nan_in_a_data_batch_points_at_the_data(activation, text):
    x, y = regression_data(weights=None)
    x[21, 2] = np.nan  # In batch 2 of the first epoch (no shuffling).
    model, health = _model(activation=activation), TrainingHealth()
    with pytest.warns(TrainingHealthWarning, match=text):
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, callbacks=[health], verbose=0)
    assert "check inputs and labels for NaN/Inf" in health.diagnosis
    assert health.events[0]["step"] == 2 and health.events[0]["layer"] == "d1"


@pytest.mark.parametrize("probe", [False, True], ids=["no-probe", "probe"])
def test_too_high_learning_rate_warns_then_diagnoses(probe):
    x, y = regression_data(weights=None)
    health = TrainingHealth(probe_data=(x[:16], y[:16]) if probe else None, check_every=1)
    messages = _fit(_model(lr=1e3), [health])
    kinds = [e["kind"] for e in health.events]
    assert "diverging_loss" in kinds and ("exploding_gradients" in kinds) == probe
    assert any("learning rate is too high" in m and "find_lr" in m for m in messages)
    assert kinds[-1] == "nan" and "already growing" in health.diagnosis
    assert health.events[-1]["step"] <= 3


def _drive(model, health, losses):
    """Feeds synthetic batch losses to `health` through the callback hooks."""
    health.set_model(model)
    health.on_train_begin()
    health.on_epoch_begin(0)
    for batch, loss in enumerate(losses):
        health.on_train_batch_end(batch, {"loss": loss})


@pytest.mark.parametrize(
    "probe, between, layer, text",
    [
        (False, None, None, r"Gradients were not checked, so no layer can be named"),
        (True, None, None, r"every gradient on probe_data is finite, so the fault is in the"),
        (True, "sqrt", "d1", r"the gradients of layer 'd1' are the first .* to be NaN/Inf"),
    ],
    ids=["no-probe", "probe-finite", "probe-names-layer"],
)
def test_nan_loss_with_finite_weights(probe, between, layer, text):
    x, y = regression_data(weights=None)
    keras.utils.set_random_seed(0)
    # sqrt after a ReLU that outputs exact zeros has an infinite derivative at 0.
    between = keras.layers.Lambda(keras.ops.sqrt, name="sqrt") if between else None
    model = _model(between=between)
    if between is not None:
        model.get_layer("d1").kernel.assign(np.zeros((4, 8), "float32"))
    health = TrainingHealth(probe_data=(x[:16], y[:16]) if probe else None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _drive(model, health, [1.0, float("nan")])
    assert [str(w.message) for w in caught] == [e["message"] for e in health.events]
    assert re.search(text, health.diagnosis) and health.diagnosis.startswith("TrainingHealth:")
    assert health.events[-1]["kind"] == "nan" and health.events[-1]["layer"] == layer
    assert model.stop_training
    if between is not None:  # The step-0 gradient check already saw the NaN gradients.
        assert health.events[0]["kind"] == "exploding_gradients"
        assert "not finite (NaN/Inf first in layer 'd1')" in health.events[0]["message"]


def test_diverging_loss_warns_once():
    health = TrainingHealth(divergence_factor=3.0)
    with pytest.warns(TrainingHealthWarning, match=r"loss is diverging at step 2 .* 3\.5 is over"):
        _drive(_model(), health, [1.0, 2.9, 3.5, 9.0])
    assert [e["kind"] for e in health.events] == ["diverging_loss"]


def test_exploding_gradients_by_threshold_and_by_growth():
    x, y = regression_data(weights=None)
    health = TrainingHealth(probe_data=(x[:16], y[:16]), check_every=1, grad_norm_threshold=1e-3)
    with pytest.warns(TrainingHealthWarning, match=r"exploding gradients at step 0 .*above grad"):
        _drive(_model(), health, [1.0])

    model = _model()
    health = TrainingHealth(
        probe_data=(x[:16], y[:16]), check_every=2, grad_norm_threshold=1e30, grad_growth_factor=50
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingHealthWarning)  # The first check is quiet.
        _drive(model, health, [1.0])
    model.get_layer("out").kernel.assign(model.get_layer("out").kernel * 1e3)
    with pytest.warns(TrainingHealthWarning, match=r"norm on probe_data is .* times the first"):
        health.on_train_batch_end(1, {"loss": 1.0})
        health.on_train_batch_end(2, {"loss": 1.0})
    assert [e["kind"] for e in health.events] == ["exploding_gradients"]
    assert health.events[0]["step"] == 2


def test_vanishing_gradients_name_the_starved_layer():
    x, y = regression_data(weights=None)
    # A near-zero output kernel starves every layer before it of gradient.
    model = _model(out_kernel=keras.initializers.Constant(1e-12))
    health = TrainingHealth(probe_data=(x[:16], y[:16]), check_every=1)
    with pytest.warns(TrainingHealthWarning, match=r"vanishing gradients at step 0 .*'d1'"):
        _drive(model, health, [1.0])
    event = health.events[0]
    assert event["kind"] == "vanishing_gradients" and event["layer"] == "d1"
    assert event["value"] < 1e-7 and "'out'" not in event["message"]


@pytest.mark.parametrize(
    "losses, val_losses, warns",
    [
        ([1.0, 0.8, 0.6, 0.5, 0.4], [1.0, 0.9, 1.0, 1.1, 1.2], True),
        ([1.0, 0.8, 0.6, 0.5, 0.4], [1.0, 0.9, 0.8, 0.7, 0.6], False),
        ([1.0, 0.8, 0.6, 0.5, 0.4], [1.0, 1.1, 1.2, 0.9, 1.0], False),
        ([1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.1, 1.2, 1.3, 1.4], False),
        # Augmented training: train loss above a noisy validation loss is no gap.
        ([0.9, 0.6, 0.5, 0.4, 0.33], [0.5, 0.19, 0.25, 0.28, 0.30], False),
    ],
    ids=["overfitting", "both-falling", "val-recovers", "train-flat", "train-above-val"],
)
def test_train_validation_gap(losses, val_losses, warns):
    health = TrainingHealth(patience=3)
    health.set_model(_model())
    health.on_train_begin()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for epoch, (loss, val_loss) in enumerate(zip(losses, val_losses, strict=True)):
            health.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss})
    assert [e["kind"] for e in health.events] == (["overfitting"] if warns else [])
    assert len(caught) == int(warns)
    if warns:
        assert "overfitting" in str(caught[0].message) and "EarlyStopping" in str(caught[0].message)
        assert "best (0.9 at epoch 1) for 3 epochs" in str(caught[0].message)


@pytest.mark.slow
def test_healthy_digits_cnn_run_is_quiet(digits):
    from kerasopt.models import build_cnn

    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(8,), dense_units=16)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=False)
    x, y = digits.x_train[:256], digits.y_train[:256]
    health = TrainingHealth(probe_data=(x[:32], y[:32]), check_every=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingHealthWarning)
        history = model.fit(
            x, y, epochs=3, batch_size=32, validation_data=(digits.x_val, digits.y_val),
            callbacks=[health], verbose=0,
        )  # fmt: skip
    assert health.events == [] and health.diagnosis is None
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]  # It did train.


def test_config_round_trip():
    health = TrainingHealth(check_every=7, on_nan="raise", patience=5, divergence_factor=10)
    config = health.get_config()
    assert config["check_every"] == 7 and config["divergence_factor"] == 10.0
    assert TrainingHealth.from_config(config).get_config() == config
    assert keras.saving.get_registered_object("kerasopt>TrainingHealth") is TrainingHealth


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"probe_data": np.zeros((4, 2))}, TypeError, r"tuple \(x, y\).*Received: a ndarray"),
        ({"probe_data": (np.zeros(2),)}, TypeError, r"Received: a tuple of length 1"),
        ({"probe_data": (np.array([np.nan]), np.zeros(1))}, ValueError, r"x of probe_data.*1 NaN"),
        ({"check_every": 0}, ValueError, r"check_every to be an integer >= 1.*=0"),
        ({"on_nan": "ignore"}, ValueError, r"'stop', 'raise'. Received: on_nan='ignore'"),
        ({"grad_norm_threshold": 0}, ValueError, r"grad_norm_threshold > 0. Received: .*=0"),
        ({"grad_norm_threshold": "big"}, TypeError, r"grad_norm_threshold to be a number"),
        ({"grad_growth_factor": 1.0}, ValueError, r"grad_growth_factor > 1. Received"),
        ({"vanishing_threshold": 2.0}, ValueError, r"vanishing_threshold in \(0, 1\).*=2\.0"),
        ({"divergence_factor": 0.5}, ValueError, r"divergence_factor > 1. Received: .*=0\.5"),
        ({"patience": True}, ValueError, r"patience to be an integer. Received: patience=True"),
    ],
    ids=[
        "probe-array", "probe-short", "probe-nan", "check_every", "on_nan", "threshold0",
        "threshold-str", "growth1", "vanishing2", "divergence", "patience-bool",
    ],
)  # fmt: skip
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=f"TrainingHealth: expected .*{match}"):
        TrainingHealth(**kwargs)


def test_nan_stop_reaches_the_user_with_warnings_ignored(capsys, caplog):
    model = _model()
    x, y = regression_data(weights=None)
    health = TrainingHealth()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")  # as at the top of many notebooks
        with caplog.at_level("WARNING", logger="kerasopt.callbacks.training_health"):
            model.fit(
                x, y, epochs=2, batch_size=8, verbose=0, callbacks=[_PoisonKernel("d2", 3), health]
            )
    assert health.diagnosis and "layer 'd2'" in health.diagnosis
    printed = capsys.readouterr().out
    assert health.diagnosis in printed and "layer 'd2'" in printed
    logged = [
        r.getMessage() for r in caplog.records if r.name == "kerasopt.callbacks.training_health"
    ]
    assert logged == [health.diagnosis]
