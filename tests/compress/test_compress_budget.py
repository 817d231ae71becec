"""The accuracy budget: BudgetStop, the verdict, BN recalibration, `--max-drop` / `--strict`."""

import json

import keras
import numpy as np
import pytest

from kerasopt.cli import main
from kerasopt.compress import compress_model
from kerasopt.compress.accuracy_budget import (
    BudgetStop,
    default_max_epochs,
    default_min_epochs,
    judge_budget,
)
from kerasopt.models.user_shaped import residual_block_model
from kerasopt.training.batch_norm_recalibration import recalibrate_batch_norm


def _toy_fit(floor, min_epochs, epochs=5):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = BudgetStop(floor, min_epochs=min_epochs)
    model.fit(x, y, epochs=epochs, validation_data=(x, y), callbacks=[stop], verbose=0)
    return stop


class _Model:
    """Stands in for a Keras model: one variable that records the epoch it was set in."""

    def __init__(self):
        self.stop_training = False
        self.weights = [keras.Variable(0.0)]


def _replay(floor, losses, accuracies, min_epochs=2, patience=2):
    stop = BudgetStop(floor, min_epochs=min_epochs, patience=patience)
    stop.set_model(_Model())
    stop.set_params({"epochs": len(losses)})
    stop.on_train_begin()
    for epoch, (loss, accuracy) in enumerate(zip(losses, accuracies, strict=True)):
        stop.model.weights[0].assign(float(epoch + 1))  # the weights "of" this epoch
        stop.on_epoch_end(epoch, {"val_loss": loss, "val_accuracy": accuracy})
        if stop.model.stop_training:
            break
    stop.on_train_end()
    return stop


LOSSES = [0.1, 0.9, 0.5, 0.6, 0.7, 0.4]  # epoch 1 is inside the ramp: never kept
ACCURACIES = [0.9, 0.6, 0.8, 0.7, 0.7, 0.9]


@pytest.mark.parametrize(
    "floor, stops_after, kept",
    [
        (0.75, 5, 3),  # epoch 3 holds; two epochs without a lower loss: stop, keep 3
        (0.85, None, 6),  # epoch 3 does not hold: go on; epoch 6 is lower and holds
        (None, None, 6),  # no budget: a fixed-length fit keeps its last weights
    ],
    ids=["held-then-patience", "best-not-held", "no-budget"],
)
def test_budget_stop_keeps_the_lowest_loss_after_the_ramp(floor, stops_after, kept):
    stop = _replay(floor, LOSSES, ACCURACIES)
    assert stop.epochs_run == (stops_after or len(LOSSES))
    assert stop.stopped_early == (stops_after is not None)
    assert stop.best_epoch == kept
    assert float(stop.model.weights[0]) == kept  # the kept epoch's weights are back
    assert stop.val_accuracy == ACCURACIES[kept - 1]


def test_budget_stop_without_stop_early_runs_every_epoch_and_keeps_the_best():
    stop = BudgetStop(0.75, min_epochs=2, patience=2, stop_early=False)
    stop.set_model(_Model())
    stop.set_params({"epochs": len(LOSSES)})
    stop.on_train_begin()
    for epoch, (loss, accuracy) in enumerate(zip(LOSSES, ACCURACIES, strict=True)):
        stop.model.weights[0].assign(float(epoch + 1))
        stop.on_epoch_end(epoch, {"val_loss": loss, "val_accuracy": accuracy})
        assert not stop.model.stop_training  # epoch 3 holds and the loss stalls: no stop
    stop.on_train_end()
    assert (stop.epochs_run, stop.stopped_early, stop.best_epoch) == (6, False, 6)
    assert float(stop.model.weights[0]) == 6


class _Rate:
    """Records `anneal(step, steps)` calls, as `AnnealableCosine` receives them."""

    def __init__(self):
        self.calls = []

    def anneal(self, step, steps):
        self.calls.append((step, steps))


def test_budget_stop_anneals_the_rate_before_it_stops():
    model = _Model()
    model.optimizer = type("Optimizer", (), {"iterations": keras.Variable(0, dtype="int64")})()
    rate = _Rate()
    stop = BudgetStop(0.75, min_epochs=2, patience=2, rate=rate, anneal_epochs=2)
    stop.set_model(model)
    stop.set_params({"epochs": 10, "steps": 7})
    stop.on_train_begin()
    losses, accuracies = [*LOSSES, 0.3, 0.2], [*ACCURACIES, 0.8, 0.8]
    for epoch, (loss, accuracy) in enumerate(zip(losses, accuracies, strict=True)):
        model.weights[0].assign(float(epoch + 1))
        model.optimizer.iterations.assign((epoch + 1) * 7)
        stop.on_epoch_end(epoch, {"val_loss": loss, "val_accuracy": accuracy})
        if model.stop_training:
            break
    stop.on_train_end()
    # Epoch 5 is the second without a loss below epoch 3's: where the old rule stopped.
    assert rate.calls == [(35, 14)] and stop.annealed_at == 5
    # Two annealed epochs later it stops; epoch 6 then had the lowest loss.
    assert (stop.epochs_run, stop.stopped_early, stop.best_epoch) == (7, True, 7)
    assert float(model.weights[0]) == 7


def test_fine_tune_with_stop_early_ends_a_held_stage_at_a_zero_rate():
    from types import SimpleNamespace

    from kerasopt.compress.fine_tuning import fine_tune

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    # Validation labels flipped: the validation loss rises from the first epoch on.
    data = SimpleNamespace(x_train=x, y_train=y, x_val=x, y_val=1 - y)
    early = fine_tune(
        model, data, min_epochs=1, max_epochs=30, learning_rate=1e-2, floor=0.0, stop_early=True
    )
    # Best at epoch 1, three epochs without better (4), two annealed epochs (6).
    assert (early.epochs, early.best_epoch, early.stopped_early) == (6, 1, True)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == 0.0
    whole = fine_tune(model, data, min_epochs=1, max_epochs=6, learning_rate=1e-2, floor=0.0)
    assert (whole.epochs, whole.stopped_early) == (6, False)


def test_budget_stop_runs_on_when_the_validation_loss_is_nan():
    stop = _replay(0.5, [float("nan")] * 6, ACCURACIES)
    assert (stop.epochs_run, stop.stopped_early) == (6, False)  # nothing judged better
    assert float(stop.model.weights[0]) == 6 and stop.val_accuracy == ACCURACIES[-1]


def test_budget_stop_puts_the_best_weights_of_a_real_fit_back():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.integers(0, 2, 64).astype("int32")  # random labels and a rate far too high:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(
        keras.optimizers.SGD(10.0), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    stop = BudgetStop(0.0, min_epochs=1, patience=100)
    history = model.fit(
        x, y, epochs=8, batch_size=8, validation_data=(x, y), callbacks=[stop], verbose=0
    )
    losses = history.history["val_loss"]
    assert stop.best_epoch == int(np.argmin(losses)) + 1 < 8  # the loss jumps about
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(min(losses), rel=1e-5)


def test_budget_stop_runs_every_epoch_in_a_real_fit_when_the_floor_is_out_of_reach():
    unreachable = _toy_fit(floor=1.01, min_epochs=2)
    assert (unreachable.epochs_run, unreachable.stopped_early) == (5, False)
    no_budget = _toy_fit(floor=None, min_epochs=1)
    assert no_budget.epochs_run == 5 and 0 <= no_budget.val_accuracy <= 1


def test_budget_stop_names_the_missing_validation():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = np.zeros((8, 2), "float32"), np.zeros(8, "int32")
    with pytest.raises(ValueError, match="BudgetStop needs the fit's validation accuracy and loss"):
        model.fit(x, y, epochs=1, callbacks=[BudgetStop(0.5)], verbose=0)


def test_verdict_names_the_first_stage_that_broke_the_budget():
    stages = [("channels -50%", 0.975), ("prune 80% (native)", 0.96)]
    broken = judge_budget(1.0, 0.98, stages, test_drop=2.5)
    assert not broken.held and broken.stage == "prune 80% (native)"
    assert broken.val_drop == pytest.approx(2.0)
    assert broken.line().startswith("budget NOT held: -2.00 points at stage 'prune 80% (native)'")
    assert "test (int8): -2.50" in broken.line()
    held = judge_budget(1.0, 0.98, stages[:1], test_drop=0.0)
    assert held.held and held.line().startswith("budget held: -0.50 points at most")


def test_epoch_budget_is_sized_to_the_data():
    assert default_max_epochs(1293) == 30  # digits: 41 steps per epoch, capped
    assert default_max_epochs(54_000) == 6  # Fashion-MNIST: 1,688 steps per epoch
    assert default_max_epochs(54_000, min_epochs=8) == 8


def test_every_stage_runs_a_ramp_of_a_few_hundred_steps_whatever_the_data():
    assert default_min_epochs(1293) == 8  # digits: 8 x 41 = 328 steps
    assert default_min_epochs(54_000) == 2  # never fewer than 2 epochs
    assert default_min_epochs(54_000, batch_size=2048) == 12  # 27 steps per epoch


def test_batch_norm_statistics_become_the_average_of_the_batches():
    inputs = keras.Input((4,))
    features = keras.layers.Dense(3, name="dense")(inputs)
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(features))
    x = np.random.default_rng(0).normal(3.0, 2.0, (2048, 4)).astype("float32")
    assert recalibrate_batch_norm(model, x, batches=32, batch_size=64) == 1
    bn = model.get_layer("bn")
    expected = keras.ops.convert_to_numpy(model.get_layer("dense")(x)).mean(axis=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), expected, atol=1e-4)
    assert bn.momentum == 0.99  # restored
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert recalibrate_batch_norm(plain, x) == 0


@pytest.fixture(scope="module")
def user_residual(digits):
    """The issue's shape of model (stem conv + BN, a residual block, a conv, a dense head)."""
    keras.utils.set_random_seed(0)
    model = residual_block_model(digits.input_shape, 10, input_max=16, filters=8)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(digits.x_train, digits.y_train, epochs=4, batch_size=32, verbose=0)
    return model


@pytest.mark.slow
def test_the_ramp_is_sized_to_the_data_within_the_epoch_budget(user_residual, digits):
    report = compress_model(
        user_residual, digits, prune=0.8, max_epochs=5, max_drop=100.0, learning_rate=1e-2
    )
    tuning = report.last.fine_tuning
    assert report.settings["epochs"] == 5  # 8 on digits, capped by the budget of 5
    assert (tuning.epochs, tuning.max_epochs, tuning.best_epoch) == (5, 5, 5)
    assert report.budget.held and report.last.kernel_sparsity > 0.75
    assert report.last.val_accuracy == pytest.approx(tuning.val_accuracy)


@pytest.mark.slow
def test_strict_exits_3_when_the_budget_is_not_held(user_residual, tmp_path, capsys):
    path = tmp_path / "mine.keras"
    user_residual.save(path)
    args = ["compress", str(path), "--data", "digits", "--prune", "0.97", "--epochs", "1"]
    args += [
        "--max-epochs",
        "1",
        "--max-drop",
        "0",
        "--strict",
        "--uniform",
        "--learning-rate",
        "0.01",
    ]
    assert main([*args, "--out", str(tmp_path / "o")]) == 3
    assert "budget NOT held" in capsys.readouterr().out.strip().splitlines()[-1]
    settings = json.loads((tmp_path / "o" / "report.json").read_text())["settings"]
    assert settings["allocate"] is False and settings["max_drop"] == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"prune": 0.5, "max_drop": -1}, r"max_drop >= 0"),
        ({"prune": 0.5, "epochs": 3, "max_epochs": 2}, r"max_epochs >= epochs \(3\)"),
        ({"prune": 0.5, "backend": "tfmot", "distill": True}, r"backend='native'"),
    ],
    ids=["negative-drop", "budget-below-epochs", "distill-tfmot"],
)
def test_bad_budget_arguments_are_named(trained_digits_model, digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compress_model(trained_digits_model, digits, **kwargs)


@pytest.mark.parametrize("activation, from_logits", [("softmax", False), (None, True)])
def test_fine_tuning_loss_reads_the_output_kind_through_a_trailing_dropout(activation, from_logits):
    # A softmax followed by Dropout still outputs probabilities; reading only the last
    # layer took them for logits and trained on log(softmax(probabilities)).
    from types import SimpleNamespace

    from kerasopt.compress._tf_keras_finetune import compile_like
    from kerasopt.compress.bridge import to_tf_keras
    from kerasopt.compress.fine_tuning import fine_tune

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    inputs = keras.Input((4,))
    outputs = keras.layers.Dropout(0.1)(keras.layers.Dense(2, activation=activation)(inputs))
    model = keras.Model(inputs, outputs)
    data = SimpleNamespace(x_train=x, y_train=y, x_val=x, y_val=y)
    fine_tune(model, data, min_epochs=1, max_epochs=1, learning_rate=1e-3)
    assert model.loss.from_logits is from_logits
    twin = to_tf_keras(model)
    compile_like(twin, model, 1e-3)
    assert twin.loss.get_config()["from_logits"] is from_logits


def test_the_report_names_the_epoch_a_stage_kept():
    from kerasopt.compress.accuracy_budget import StageFineTuning
    from kerasopt.compress.compression_report import _fine_tuning_cell

    kept_earlier = StageFineTuning(7, 30, 5.2, 0.97, True, best_epoch=4)
    assert _fine_tuning_cell(kept_earlier) == "7/30 ep (kept 4), 5 s"
    assert _fine_tuning_cell(StageFineTuning(30, 30, 23.0, 0.94, False, 30)) == "30/30 ep, 23 s"
