import csv

import keras
import numpy as np
import pytest

from kerasopt.models import build_cnn
from kerasopt.training import ConfigError, TrainConfig, build_optimizer, compile_for_training, train

SMALL = {"input_max": 16, "filters": (4,), "dense_units": 16, "bn_momentum": 0.9}


class CrashAtEpoch(keras.callbacks.Callback):
    """Simulates a crash: raises after `epoch` epochs have finished."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def test_training_learns(digits):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    result = train(model, digits, TrainConfig(epochs=4, early_stopping_patience=None), verbose=0)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.history["val_accuracy"][-1] > 0.3  # chance is 0.1
    assert result.epochs_run == 4 and result.resumed_from_epoch == 0


@pytest.mark.slow
def test_resume_after_crash_continues_epochs_and_schedule(digits, tmp_path):
    config = TrainConfig(epochs=5, early_stopping_patience=None, checkpoint=False)
    model = build_cnn(digits.input_shape, 10, **SMALL)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(model, digits, config, tmp_path, verbose=0, callbacks=[CrashAtEpoch(3)])
    assert (tmp_path / "_backup" / "training_metadata.json").is_file()

    fresh = build_cnn(digits.input_shape, 10, **SMALL)
    result = train(fresh, digits, config, tmp_path, verbose=0)
    assert result.resumed_from_epoch == 3
    assert result.epochs_run == 2
    steps_per_epoch = int(np.ceil(len(digits.y_train) / config.batch_size))
    assert int(fresh.optimizer.iterations) == 5 * steps_per_epoch
    with open(tmp_path / "training_log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1, 2, 3, 4]
    assert len(result.history["loss"]) == 5
    assert not (tmp_path / "_backup").exists()  # removed once training completes


def test_early_stopping_restores_best_weights(digits):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    # A learning rate this high diverges; patience 1 stops soon after the best epoch.
    config = TrainConfig(
        epochs=30, learning_rate=5.0, lr_schedule="constant", early_stopping_patience=1
    )
    result = train(model, digits, config, verbose=0)
    assert result.epochs_run < 30


def test_artifacts_of_a_run(digits, tmp_path):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    train(model, digits, TrainConfig(epochs=2, tensorboard=True), tmp_path, verbose=0)
    assert (tmp_path / "checkpoints" / "best.keras").is_file()
    assert (tmp_path / "training_log.csv").is_file()
    assert any((tmp_path / "logs").rglob("*tfevents*"))


@pytest.mark.parametrize(
    "schedule, check",
    [
        ("constant", lambda lr: lr(0) == lr(100)),
        ("cosine", lambda lr: lr(0) > lr(50) > lr(99)),
        ("warmup_cosine", lambda lr: lr(0) < lr(10) and lr(10) > lr(99)),
        ("exponential", lambda lr: np.isclose(lr(100), 3e-4, rtol=1e-3)),
        ("one_cycle", lambda lr: lr(0) < lr(29) and np.isclose(lr(29), 3e-3) and lr(99) < lr(0)),
    ],
    ids=["constant", "cosine", "warmup-cosine", "exponential", "one-cycle"],
)
def test_schedules_shape(schedule, check):
    optimizer = build_optimizer(TrainConfig(epochs=10, lr_schedule=schedule), steps_per_epoch=10)
    rate = optimizer._learning_rate
    lr = (lambda step: float(rate(step))) if callable(rate) else (lambda step: float(rate))
    assert check(lr)


def test_optimizer_kwargs_and_clipnorm():
    config = TrainConfig(optimizer="adamw", optimizer_kwargs={"weight_decay": 0.01}, clipnorm=1.0)
    optimizer = build_optimizer(config, steps_per_epoch=10)
    assert isinstance(optimizer, keras.optimizers.AdamW)
    assert optimizer.weight_decay == 0.01 and optimizer.clipnorm == 1.0


@pytest.mark.parametrize(
    "option, value",
    [("clipvalue", 0.5), ("global_clipnorm", 2.0)],
    ids=["clipvalue", "global_clipnorm"],
)
def test_keras_clipping_options_reach_the_optimizer(option, value):
    optimizer = build_optimizer(TrainConfig(**{option: value}), steps_per_epoch=10)
    assert getattr(optimizer, option) == value


@pytest.mark.parametrize("name", ["radam", "adabound"], ids=["radam", "adabound"])
def test_kerasopt_optimizers_by_name(name):
    from kerasopt import optimizers

    optimizer = build_optimizer(TrainConfig(optimizer=name), steps_per_epoch=10)
    assert isinstance(optimizer, {"radam": optimizers.RAdam, "adabound": optimizers.AdaBound}[name])


def test_lookahead_wraps_the_configured_optimizer():
    from kerasopt.optimizers import Lookahead

    config = TrainConfig(optimizer="sgd", lookahead={"sync_period": 4})
    optimizer = build_optimizer(config, steps_per_epoch=10)
    assert isinstance(optimizer, Lookahead) and optimizer.sync_period == 4
    assert isinstance(optimizer.inner_optimizer, keras.optimizers.SGD)
    # Resume sets the wrapper's step counter; the schedule reads the inner one's.
    optimizer.build([keras.Variable([1.0])])
    optimizer.iterations.assign(7)
    assert int(optimizer.inner_optimizer.iterations) == 7


def test_adaptive_gradient_clipping_wraps_the_optimizer():
    from kerasopt.optimizers import AdaptiveGradientClipping

    config = TrainConfig(optimizer="sgd", agc_clip_factor=0.02)
    optimizer = build_optimizer(config, steps_per_epoch=10)
    assert isinstance(optimizer, AdaptiveGradientClipping)
    assert optimizer.clip_factor == 0.02


def test_label_smoothing_keeps_integer_labels(digits):
    from kerasopt.regularizers import SmoothedSparseCategoricalCrossentropy

    model = build_cnn(digits.input_shape, 10, **SMALL)
    config = TrainConfig(
        epochs=3, label_smoothing=0.1, augment=None, lr_schedule="constant", checkpoint=False
    )
    prepared = compile_for_training(model, digits, config)
    _, labels = next(iter(prepared.train_ds))
    assert labels.shape == (config.batch_size,)  # not one-hot
    result = train(model, digits, config, verbose=0)
    assert isinstance(model.loss, SmoothedSparseCategoricalCrossentropy)
    assert model.loss.get_config()["label_smoothing"] == 0.1
    assert result.history["val_accuracy"][-1] > 0.3


def test_mixup_policy_switches_to_soft_label_loss(digits):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    config = TrainConfig(epochs=2, augment="mixup(alpha=0.2)", checkpoint=False)
    result = train(model, digits, config, verbose=0)
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    assert np.isfinite(result.history["loss"]).all()


def test_label_changing_flip_on_digits_warns(digits):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    config = TrainConfig(epochs=1, augment="flip(horizontal)", checkpoint=False)
    with pytest.warns(UserWarning, match="digits"):
        train(model, digits, config, verbose=0)


def test_unknown_optimizer():
    with pytest.raises(ConfigError, match="'adamx' is not a Keras optimizer"):
        build_optimizer(TrainConfig(optimizer="adamx"), steps_per_epoch=1)


def test_data_that_does_not_fit_the_model_is_named(digits):
    wrong_shape = build_cnn((28, 28), 10, **{**SMALL, "input_max": 255})
    with pytest.raises(
        ValueError, match=r"x_train samples have shape \(8, 8\) but the model expects \(28, 28\)"
    ):
        train(wrong_shape, digits, TrainConfig(epochs=1), verbose=0)
    too_few_classes = build_cnn(digits.input_shape, 5, **SMALL)
    with pytest.raises(ValueError, match=r"y_train has labels outside the class range \[0, 4\]"):
        train(too_few_classes, digits, TrainConfig(epochs=1), verbose=0)


def test_bad_data_fails_before_training(digits):
    import dataclasses

    broken = dataclasses.replace(digits, y_val=digits.y_val + 20)
    with pytest.raises(ValueError, match="y_val has labels outside"):
        train(build_cnn(digits.input_shape, 10, **SMALL), broken, TrainConfig(epochs=1), verbose=0)


def test_health_checks_stop_a_diverging_run_at_the_first_nan(digits):
    from kerasopt.callbacks import TrainingHealthWarning

    config = TrainConfig(
        epochs=5, optimizer="sgd", learning_rate=1e6, lr_schedule="constant", augment=None
    )
    model = build_cnn(digits.input_shape, 10, **SMALL)
    with pytest.warns(TrainingHealthWarning, match="NaN|Inf|diverging"):
        result = train(model, digits, config, verbose=0)
    assert result.epochs_run == 1  # stopped inside the first epoch

    unchecked = build_cnn(digits.input_shape, 10, **SMALL)
    result = train(unchecked, digits, config.replace(health_checks=False), verbose=0)
    assert result.epochs_run == 5


def test_adabound_under_warmup_trains_finite(digits):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    config = TrainConfig(epochs=1, optimizer="adabound", augment=None, checkpoint=False)
    result = train(model, digits, config, verbose=0)
    assert np.isfinite(result.history["loss"]).all()
    assert all(np.isfinite(w).all() for w in model.get_weights())
