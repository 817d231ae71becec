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
    stop_training = False


@pytest.mark.parametrize(
    "floor, accuracies, stops_after",
    [
        (0.55, [0.50, 0.60, 0.70, 0.70, 0.80], 4),  # held from epoch 2, settled at 4
        (0.55, [0.90, 0.60, 0.70, 0.80, 0.85], 2),  # held at 2, below the best so far
        (0.75, [0.50, 0.60, 0.70, 0.70, 0.80], None),  # settles only below the floor
    ],
    ids=["settles", "held-after-ramp", "never-held"],
)
def test_budget_stop_waits_for_the_ramp_then_for_the_accuracy_to_settle(
    floor, accuracies, stops_after
):
    stop = BudgetStop(floor, min_epochs=2)
    stop.set_model(_Model())
    stop.set_params({"epochs": len(accuracies)})
    for epoch, accuracy in enumerate(accuracies):
        stop.on_epoch_end(epoch, {"val_accuracy": accuracy})
        if stop.model.stop_training:
            break
    assert stop.model.stop_training == (stops_after is not None)
    assert stop.epochs_run == (stops_after or len(accuracies))
    assert stop.stopped_early == (stops_after is not None)


def test_budget_stop_runs_every_epoch_in_a_real_fit_when_the_floor_is_out_of_reach():
    unreachable = _toy_fit(floor=1.01, min_epochs=2)
    assert (unreachable.epochs_run, unreachable.stopped_early) == (5, False)
    no_budget = _toy_fit(floor=None, min_epochs=1)
    assert no_budget.epochs_run == 5 and 0 <= no_budget.val_accuracy <= 1


def test_budget_stop_names_the_missing_validation():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = np.zeros((8, 2), "float32"), np.zeros(8, "int32")
    with pytest.raises(ValueError, match="BudgetStop needs the fit's validation accuracy"):
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
    assert default_max_epochs(1150) == 30  # digits: 36 steps per epoch, capped
    assert default_max_epochs(54_000) == 2  # Fashion-MNIST: 1,688 steps per epoch
    assert default_max_epochs(54_000, min_epochs=4) == 4


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
def test_a_generous_budget_stops_early(user_residual, digits):
    report = compress_model(user_residual, digits, prune=0.8, epochs=2, max_drop=100.0)
    tuning = report.last.fine_tuning
    assert 2 <= tuning.epochs < 30 and tuning.max_epochs == 30 and tuning.stopped_early
    assert report.budget.held and report.last.kernel_sparsity > 0.75
    assert report.last.val_accuracy == pytest.approx(tuning.val_accuracy)


@pytest.mark.slow
def test_strict_exits_3_when_the_budget_is_not_held(user_residual, tmp_path, capsys):
    path = tmp_path / "mine.keras"
    user_residual.save(path)
    args = ["compress", str(path), "--data", "digits", "--prune", "0.97", "--epochs", "1"]
    args += ["--max-epochs", "1", "--max-drop", "0", "--strict", "--uniform"]
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
