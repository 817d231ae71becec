import csv
import dataclasses

import keras
import numpy as np
import pytest

from kerasopt.models import build_cnn
from kerasopt.training import ConfigError, Stage, StageError, TrainConfig, train


def size_agnostic_cnn(num_classes=10):
    """A small CNN that takes any image size: `Input((None, None, 1))`, global pooling."""
    inputs = keras.Input((None, None, 1), name="pixels")
    x = keras.layers.Rescaling(1 / 16, name="rescale")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="body_conv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="agnostic")


@pytest.fixture(scope="module")
def digits_hwc(digits):
    """Digits with a channel axis, the input `size_agnostic_cnn` takes (512 to train on)."""
    return dataclasses.replace(
        digits,
        x_train=digits.x_train[:512, ..., None],
        y_train=digits.y_train[:512],
        x_val=digits.x_val[..., None],
        x_test=digits.x_test[..., None],
    )


QUIET = {
    "early_stopping_patience": None,
    "augment": None,
    "checkpoint": False,
    "health_checks": False,
}


class CrashAtEpoch(keras.callbacks.Callback):
    """Raises when epoch `epoch` (counted over the whole run) begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def test_stages_from_dict_and_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        "[train]\nbatch_size = 16\n\n"
        '[[train.stages]]\nepochs = 2\ninput_size = [14, 14]\nfreeze = ["stem"]\naugment = ""\n\n'
        "[[train.stages]]\nepochs = 3\nlearning_rate = 1e-3\n"
    )
    config = TrainConfig.from_toml(path)
    assert config.epochs == 5  # the stages' total
    assert config.stages == (
        Stage(epochs=2, input_size=(14, 14), freeze=("stem",), augment=""),
        Stage(epochs=3, learning_rate=1e-3),
    )
    assert TrainConfig.from_dict(config.to_dict()) == config  # report.json round trip
    assert TrainConfig(stages=[{"epochs": 1, "input_size": 7}]).stages[0].input_size == (7, 7)
    assert config.replace(seed=1).epochs == 5
    assert TrainConfig().stages == () and TrainConfig().epochs == 40  # unchanged without stages


@pytest.mark.parametrize(
    "values, error, match",
    [
        (
            {"stages": [{"epochs": 2, "input_sise": 14}]},
            StageError,
            r"Unknown key 'input_sise' in stage 1\. Did you mean 'input_size'\?",
        ),
        ({"stages": [{"epochs": 2}, {"freeze": ["stem"]}]}, StageError, r"Stage 2 needs 'epochs'"),
        ({"stages": [{"epochs": 0}]}, StageError, r"Stage.epochs must be an integer >= 1"),
        ({"stages": [{"epochs": 1, "input_size": [14]}]}, StageError, r"input_size must be"),
        ({"stages": [{"epochs": 1, "freeze": [3]}]}, StageError, r"freeze must be a list"),
        (
            {"stages": [{"epochs": 1, "learning_rate": -1}]},
            StageError,
            r"learning_rate must be > 0",
        ),
        ({"stages": {"epochs": 1}}, StageError, r"stages must be a list of stages"),
        (
            {"epochs": 7, "stages": [{"epochs": 2}]},
            ConfigError,
            r"epochs=7 but the stages add up to 2 epochs",
        ),
    ],
    ids=["key", "no-epochs", "epochs", "size", "freeze", "rate", "not-a-list", "total"],
)
def test_bad_stages_are_named(values, error, match):
    with pytest.raises(error, match=match):
        TrainConfig.from_dict(values)


def test_bad_stage_is_refused_before_anything_is_written(digits, digits_hwc, tmp_path):
    fixed = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    resize = TrainConfig(stages=[{"epochs": 1, "input_size": 4}, {"epochs": 1}])
    with pytest.raises(StageError, match=r"fixes its input at \(8, 8\) in layer 'pixels'"):
        train(fixed, digits, resize, tmp_path / "a", verbose=0)
    freeze = TrainConfig(stages=[{"epochs": 1}, {"epochs": 1, "freeze": ["stme"]}])
    with pytest.raises(StageError, match=r"Stage 2 .* starts with 'stme'\. Did you mean 'stem'\?"):
        train(size_agnostic_cnn(), digits_hwc, freeze, tmp_path / "b", verbose=0)
    policy = TrainConfig(stages=[{"epochs": 1}, {"epochs": 1, "augment": "flip(sideways)"}])
    with pytest.raises(ValueError, match="sideways"):
        train(size_agnostic_cnn(), digits_hwc, policy, tmp_path / "c", verbose=0)
    assert not any(tmp_path.iterdir())


def test_progressive_resizing_freezing_and_schedules(digits_hwc):
    model = size_agnostic_cnn()
    start_stem = model.get_layer("stem_conv").kernel.numpy().copy()
    start_mean = model.get_layer("stem_bn").moving_mean.numpy().copy()
    shapes = []
    config = TrainConfig(
        batch_size=64,
        lr_schedule="constant",
        stages=[
            {"epochs": 1, "input_size": 4, "freeze": ["stem"], "learning_rate": 1e-2},
            {"epochs": 2, "learning_rate": 2e-3},
        ],
        **QUIET,
    )

    class AtStageEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            shapes.append(
                {
                    "rate": float(self.model.optimizer.learning_rate),
                    "stem": self.model.get_layer("stem_conv").kernel.numpy().copy(),
                    "mean": self.model.get_layer("stem_bn").moving_mean.numpy().copy(),
                    "stem_trainable": self.model.get_layer("stem_conv").trainable,
                }
            )

    result = train(model, digits_hwc, config, verbose=0, callbacks=[AtStageEnd()])
    first, second = shapes
    # Stage 1 froze the stem: its kernel and BatchNorm statistics (inference mode) held.
    assert not first["stem_trainable"]
    np.testing.assert_array_equal(first["stem"], start_stem)
    np.testing.assert_array_equal(first["mean"], start_mean)
    # Stage 2 trained it, each stage at its own rate.
    assert second["stem_trainable"]
    assert not np.allclose(second["stem"], start_stem)
    assert (first["rate"], second["rate"]) == pytest.approx((1e-2, 2e-3))
    assert [(s.stage, s.first_epoch, s.epochs_run, s.input_size) for s in result.stages] == [
        (1, 0, 1, (4, 4)),
        (2, 1, 2, None),
    ]
    assert result.stages[0].frozen_layers == 3  # stem_conv, stem_bn, stem_relu
    assert result.epochs_run == 3 and len(result.history["loss"]) == 3
    steps = int(np.ceil(len(digits_hwc.y_train) / 64))
    assert int(model.optimizer.iterations) == 2 * steps  # stage 2's own optimizer
    assert all(layer.trainable for layer in model.layers)  # unfrozen at the end
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_stage_training_in_4x4_images_reaches_the_model(digits_hwc):
    seen = []

    class Spy(keras.layers.Layer):
        def call(self, x):
            seen.append(tuple(x.shape[1:3]))
            return x

    inputs = keras.Input((None, None, 1))
    x = Spy()(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    config = TrainConfig(stages=[{"epochs": 1, "input_size": [4, 2]}], **QUIET)
    train(model, digits_hwc, config, verbose=0)
    # Traced on the 4x2 training batches and the 8x8 validation batches.
    assert (4, 2) in seen and (8, 8) in seen


def test_killed_run_resumes_in_stage_2(digits_hwc, tmp_path):
    config = TrainConfig(
        batch_size=64,
        stages=[{"epochs": 1, "input_size": 4}, {"epochs": 2, "freeze": ["stem"]}],
        **{**QUIET, "checkpoint": True},
    )
    weights = []

    class Weights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            weights.append(("begin", [w.copy() for w in self.model.get_weights()]))

        def on_train_end(self, logs=None):
            weights.append(("end", [w.copy() for w in self.model.get_weights()]))

    def run(crash_at=None):
        crash = [CrashAtEpoch(crash_at)] if crash_at is not None else []
        model = size_agnostic_cnn()  # a fresh process would build fresh weights
        return model, train(
            model, digits_hwc, config, tmp_path, verbose=0, callbacks=[Weights(), *crash]
        )

    # Killed as stage 2 begins: no stage-2 epoch is backed up yet.
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(crash_at=1)
    assert (tmp_path / "_backup" / "stages.json").is_file()
    (_, stage_1_end), _ = weights[-2:]  # stage 1's end, then stage 2's aborted begin
    # Killed again after stage 2's first epoch.
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(crash_at=2)
    # The resumed stage 2 started from stage 1's weights, not from fresh ones.
    assert weights[-1][0] == "begin"
    for restored, saved in zip(weights[-1][1], stage_1_end, strict=True):
        np.testing.assert_array_equal(restored, saved)

    model, result = run()
    # Stage 1 is not run again: the run continues in stage 2's second epoch.
    assert [(s.stage, s.first_epoch, s.resumed_from_epoch) for s in result.stages] == [(2, 1, 1)]
    assert result.resumed_from_epoch == 2 and result.epochs_run == 1
    steps = int(np.ceil(len(digits_hwc.y_train) / 64))
    assert int(model.optimizer.iterations) == 2 * steps  # stage 2's schedule, not restarted
    with open(tmp_path / "training_log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1, 2]
    assert len(result.history["loss"]) == 3
    assert (tmp_path / "checkpoints" / "best.keras").is_file()
    assert not (tmp_path / "_backup").exists()  # removed once every stage is done
