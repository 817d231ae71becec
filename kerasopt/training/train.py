"""`train`: fits a model with a `TrainConfig`, resumable after a crash."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

from kerasopt.data.pipeline import make_dataset
from kerasopt.data.splits import DatasetSplits
from kerasopt.data.validation import check_arrays
from kerasopt.training.config import ConfigError, TrainConfig

BACKUP_DIR = "_backup"
TRAINING_LOG = "training_log.csv"


@dataclasses.dataclass
class TrainResult:
    """What `train` did: the per-epoch history (all epochs, resumed ones included)."""

    history: dict[str, list[float]]
    epochs_run: int
    resumed_from_epoch: int
    seconds: float


@dataclasses.dataclass
class PreparedTraining:
    """What `compile_for_training` set up: the pipelines `fit` reads and their optimizer."""

    train_ds: object
    val_ds: object
    optimizer: object
    steps_per_epoch: int
    #: One training batch (inputs, targets) for `TrainingHealth`'s gradient probe.
    probe: tuple

    def start_at_epoch(self, model, epoch: int) -> None:
        """Moves the optimizer's step counter to `epoch`, for a fit that continues.

        `BackupAndRestore` and Hyperband restore weights and the epoch but not the step
        counter, which would restart the learning-rate schedule.
        """
        if epoch > 0:
            self.optimizer.build(model.trainable_variables)
            # Lookahead/AGC's `iterations` is their inner optimizer's, so this reaches
            # the step counter the schedule reads.
            self.optimizer.iterations.assign(epoch * self.steps_per_epoch)


def compile_for_training(
    model, data: DatasetSplits, config: TrainConfig, *, augment=None, dataset_cache=None
) -> PreparedTraining:
    """Compiles `model` for `config` and builds its training and validation pipelines.

    The optimizer and its learning-rate schedule span `config.epochs`; the augmentation
    policy runs inside the tf.data pipeline. Mixed (MixUp/CutMix) labels switch every
    split to one-hot targets and categorical cross-entropy, so training and validation
    losses are the same function; label smoothing alone keeps integer labels
    (`SmoothedSparseCategoricalCrossentropy`). `train` and the tuner's `HyperModel.fit`
    both start here. `augment`, a batch function `(x, y) -> (x, y)` such as
    `kerasopt.text.TextAugmentation`, replaces `config.augment`. A `dataset_cache` dict
    keeps the pipelines of each (batch size, augmentation, targets) for the next call,
    so a search's trials do not rebuild the same tf.data graphs.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training import TrainConfig, compile_for_training
    >>> data = load_dataset("digits")
    >>> model = build_cnn(data.input_shape, 10, input_max=16)
    >>> prepared = compile_for_training(model, data, TrainConfig(epochs=2))
    >>> history = model.fit(prepared.train_ds, validation_data=prepared.val_ds, epochs=2)
    """
    import keras

    from kerasopt.augment import build_policy, check_label_safety
    from kerasopt.regularizers import SmoothedSparseCategoricalCrossentropy

    steps_per_epoch = math.ceil(len(data.y_train) / config.batch_size)
    optimizer = build_optimizer(config, steps_per_epoch)
    num_classes = int(model.output_shape[-1])
    policy = augment
    if policy is None:
        policy = build_policy(config.augment, seed=config.seed, num_classes=num_classes)
    if policy is not None and augment is None:
        check_label_safety(policy, data.name)
    one_hot = bool(getattr(policy, "soft_labels", False))
    y_train, y_val = data.y_train, data.y_val
    if config.label_smoothing > 0 and not one_hot:
        # Integer labels stay integers: no one-hot float copy of every split.
        loss = SmoothedSparseCategoricalCrossentropy(config.label_smoothing)
    elif one_hot:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
        y_train = keras.utils.to_categorical(y_train, num_classes).astype("float32")
        y_val = keras.utils.to_categorical(y_val, num_classes).astype("float32")
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    key = (config.batch_size, repr(config.augment), id(augment), config.seed, one_hot)
    cached = dataset_cache.get(key) if dataset_cache is not None else None
    if cached is None:
        cached = (
            make_dataset(
                data.x_train,
                y_train,
                batch_size=config.batch_size,
                augment=policy,
                seed=config.seed,
            ),
            make_dataset(data.x_val, y_val, batch_size=256, shuffle=False),
        )
        if dataset_cache is not None:
            dataset_cache[key] = cached
    train_ds, val_ds = cached
    probe = (data.x_train[: config.batch_size], y_train[: config.batch_size])
    return PreparedTraining(train_ds, val_ds, optimizer, steps_per_epoch, probe)


def build_optimizer(config: TrainConfig, steps_per_epoch: int):
    """Creates the optimizer of `config` with its learning-rate schedule.

    Example:

    >>> from kerasopt.training import TrainConfig, build_optimizer
    >>> optimizer = build_optimizer(TrainConfig(optimizer="adamw"), steps_per_epoch=40)
    """
    import keras

    total = max(1, config.epochs * steps_per_epoch)
    lr = config.learning_rate
    if config.lr_schedule == "constant":
        schedule = lr
    elif config.lr_schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(lr, total)
    elif config.lr_schedule == "warmup_cosine":
        warmup = int(total * config.warmup_fraction)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, total - warmup, warmup_target=lr, warmup_steps=warmup
        )
    elif config.lr_schedule == "one_cycle":
        from kerasopt.schedules import OneCycle

        schedule = OneCycle(lr, total)
    else:  # exponential: the rate falls tenfold over the whole run.
        schedule = keras.optimizers.schedules.ExponentialDecay(lr, total, 0.1)
    optimizer_class = _optimizer_class(config.optimizer)
    kwargs = dict(config.optimizer_kwargs)
    for name in ("clipnorm", "clipvalue", "global_clipnorm"):
        if getattr(config, name) is not None:
            kwargs[name] = getattr(config, name)
    if config.optimizer.lower() == "adabound":
        # AdaBound quotes final_lr at base_lr; a warmup schedule starts at 0.
        kwargs.setdefault("base_lr", lr)
    optimizer = optimizer_class(learning_rate=schedule, **kwargs)
    if config.lookahead is not None:
        from kerasopt.optimizers import Lookahead

        optimizer = Lookahead(optimizer, **config.lookahead)
    if config.agc_clip_factor is not None:
        from kerasopt.optimizers import AdaptiveGradientClipping

        optimizer = AdaptiveGradientClipping(optimizer, clip_factor=config.agc_clip_factor)
    return optimizer


def _optimizer_class(name: str):
    import keras

    from kerasopt.optimizers import AdaBound, RAdam

    extra = {"radam": RAdam, "adabound": AdaBound}
    if name.lower() in extra:
        return extra[name.lower()]
    try:
        return type(keras.optimizers.get(name))
    except ValueError as error:
        raise ConfigError(
            f"TrainConfig.optimizer={name!r} is not a Keras optimizer. Use a name such as "
            "'adam', 'adamw', 'sgd', 'rmsprop', 'nadam', 'lion', or kerasopt's 'radam' or "
            "'adabound'."
        ) from error


def train(
    model,
    data: DatasetSplits,
    config: TrainConfig | None = None,
    out_dir: str | os.PathLike | None = None,
    *,
    verbose: int | str = "auto",
    callbacks: list | None = None,
    augment=None,
) -> TrainResult:
    """Compiles and fits `model` on `data` following `config`.

    With `out_dir`, training is resumable: `BackupAndRestore` keeps the last finished
    epoch in `out_dir/_backup/`, and a call with the same `out_dir` after a crash or a
    kill continues from there, with the learning-rate schedule at the same step. The
    per-epoch log is `out_dir/training_log.csv`, the best model
    `out_dir/checkpoints/best.keras`, and TensorBoard logs `out_dir/logs/` when asked.

    Args:
        model: An uncompiled (or compiled; it is recompiled) Keras model.
        data: The dataset splits; validation drives early stopping.
        config: The recipe. Defaults to `TrainConfig()`.
        out_dir: Folder for logs, checkpoints and the resume state. Defaults to `None`.
        verbose: Keras verbosity; `"auto"` shows a progress bar in a terminal and one
            line per epoch otherwise. Defaults to `"auto"`.
        callbacks: Extra Keras callbacks. Defaults to `None`.
        augment: A batch function `(x, y) -> (x, y)` used instead of `config.augment`,
            e.g. `kerasopt.text.TextAugmentation`. Defaults to `None`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training import TrainConfig, train
    >>> data = load_dataset("digits")
    >>> model = build_cnn(data.input_shape, 10, input_max=16)
    >>> result = train(model, data, TrainConfig(epochs=2))
    """
    import keras

    config = config or TrainConfig()
    data.check()
    for part in ("train", "val"):
        check_arrays(
            getattr(data, f"x_{part}"),
            getattr(data, f"y_{part}"),
            num_classes=int(model.output_shape[-1]),
            input_shape=tuple(model.inputs[0].shape[1:]),
            name=part,
        )
    keras.utils.set_random_seed(config.seed)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2

    prepared = compile_for_training(model, data, config, augment=augment)
    all_callbacks = list(callbacks or [])
    if config.health_checks:
        from kerasopt.callbacks import TrainingHealth

        all_callbacks.append(TrainingHealth(probe_data=prepared.probe))
    if config.early_stopping_patience:
        all_callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=config.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    resumed_from = 0
    log_path = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        backup = out / BACKUP_DIR
        resumed_from = _finished_epochs(backup)
        prepared.start_at_epoch(model, resumed_from)
        log_path = out / TRAINING_LOG
        all_callbacks.append(keras.callbacks.CSVLogger(str(log_path), append=resumed_from > 0))
        if config.checkpoint:
            (out / "checkpoints").mkdir(exist_ok=True)
            all_callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    str(out / "checkpoints" / "best.keras"), monitor="val_loss", save_best_only=True
                )
            )
        if config.tensorboard:
            all_callbacks.append(keras.callbacks.TensorBoard(log_dir=str(out / "logs")))
        # Last, so an epoch is backed up only after every other callback has seen it.
        all_callbacks.append(keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True))

    start = time.perf_counter()
    history = model.fit(
        prepared.train_ds,
        validation_data=prepared.val_ds,
        epochs=config.epochs,
        callbacks=all_callbacks,
        verbose=verbose,
        shuffle=False,  # the tf.data pipeline shuffles; Keras would warn and ignore it
    )
    seconds = time.perf_counter() - start
    full_history = _read_log(log_path) if log_path is not None else history.history
    return TrainResult(
        history=full_history or history.history,
        epochs_run=len(history.epoch),
        resumed_from_epoch=resumed_from,
        seconds=seconds,
    )


def _finished_epochs(backup_dir: Path) -> int:
    """Epochs finished by an interrupted run, from BackupAndRestore's metadata."""
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        path = backup_dir / name
        if path.is_file():
            try:
                return int(json.loads(path.read_text())["epoch"])
            except (ValueError, KeyError):
                continue
    return 0


def _read_log(path: Path) -> dict[str, list[float]]:
    import csv

    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    history: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key != "epoch" and value not in (None, ""):
                history.setdefault(key, []).append(float(value))
    return history
