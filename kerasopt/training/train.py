"""`train`: fits a model with a `TrainConfig`, resumable after a crash."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

from kerasopt.data.pipeline import make_dataset
from kerasopt.data.splits import DatasetSplits
from kerasopt.data.validation import check_arrays
from kerasopt.training.batch_norm_recalibration import recalibrate_batch_norm
from kerasopt.training.config import ConfigError, TrainConfig
from kerasopt.training.fit_state import build_fit_state
from kerasopt.training.fused_batch_norm import batch_norm_kernel
from kerasopt.training.mixed_precision import resolve_precision, with_precision
from kerasopt.training.stages import StageResult, resize_array, resize_images, set_frozen

BACKUP_DIR = "_backup"
TRAINING_LOG = "training_log.csv"


@dataclasses.dataclass
class TrainResult:
    """What `train` did: the per-epoch history (all epochs, resumed ones included).

    `epochs_run` counts the epochs this call ran, `resumed_from_epoch` the epoch (over
    the whole run) it started from.
    """

    history: dict[str, list[float]]
    epochs_run: int
    resumed_from_epoch: int
    seconds: float
    #: One entry per stage run by this call (staged configs only).
    stages: list[StageResult] = dataclasses.field(default_factory=list)
    #: Replicas training in sync (1 without a strategy).
    replicas: int = 1
    #: Samples per step over all replicas: `batch_size x replicas`.
    global_batch_size: int | None = None
    #: `"mirrored"`, another strategy's class name, or `None`.
    strategy: str | None = None
    #: BatchNormalization layers whose moving statistics were re-estimated on the
    #: training split after a distributed fit (0 without a strategy).
    batch_norm_recalibrated: int = 0
    #: The dtype policy the fit computed under (`TrainConfig.precision` resolved).
    precision: str = "float32"
    #: BatchNormalization layers that trained with the fused kernel
    #: (`TrainConfig.batch_norm`; `kerasopt.training.fused_batch_norm`).
    batch_norm_fused: int = 0


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
    build_fit_state(model, train_ds)  # one trace of the train step, not two
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
    strategy=None,
) -> TrainResult:
    """Compiles and fits `model` on `data` following `config`.

    With `out_dir`, training is resumable: `BackupAndRestore` keeps the last finished
    epoch in `out_dir/_backup/`, and a call with the same `out_dir` after a crash or a
    kill continues from there, with the learning-rate schedule at the same step. The
    per-epoch log is `out_dir/training_log.csv`, the best model
    `out_dir/checkpoints/best.keras`, and TensorBoard logs `out_dir/logs/` when asked.

    A staged config (`TrainConfig(stages=[...])`) runs its stages in order, each
    recompiled with its own optimizer and schedule over its own epochs; epochs are
    numbered over the whole run. With `out_dir`, `_backup/stages.json` records each
    finished stage (its weights beside it) and `_backup/stage_<n>/` the stage under way,
    so a killed run resumes in the same stage and epoch. Frozen layers are unfrozen
    when training ends.

    Args:
        model: An uncompiled (or compiled; it is recompiled) Keras model.
        data: The dataset splits; validation drives early stopping, unless
            `config.train_on_validation` trains on it too.
        config: The recipe. Defaults to `TrainConfig()`.
        out_dir: Folder for logs, checkpoints and the resume state. Defaults to `None`.
        verbose: Keras verbosity; `"auto"` shows a progress bar in a terminal and one
            line per epoch otherwise. Defaults to `"auto"`.
        callbacks: Extra Keras callbacks. Defaults to `None`.
        augment: A batch function `(x, y) -> (x, y)` used instead of `config.augment`,
            e.g. `kerasopt.text.TextAugmentation`. Defaults to `None`.
        strategy: `"mirrored"` or a `tf.distribute.Strategy` to train data-parallel
            (`kerasopt.training.make_strategy`); `config.batch_size` is then per replica
            and each step reads `batch_size x replicas` samples. A model built outside
            the strategy's scope is cloned into it and its trained weights copied back,
            and its BatchNormalization statistics are then re-estimated on the training
            split (`recalibrate_batch_norm`). `"multiworker"` is refused (see
            `kerasopt.training.distribution`). Defaults to `None`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training import TrainConfig, train
    >>> data = load_dataset("digits")
    >>> model = build_cnn(data.input_shape, 10, input_max=16)
    >>> result = train(model, data, TrainConfig(epochs=2))
    """
    import keras

    from kerasopt.augment import build_policy
    from kerasopt.training.distribution import (
        check_strategy,
        make_strategy,
        replicate,
        strategy_name,
    )
    from kerasopt.training.stages import (
        Stage,
        StageProgress,
        check_input_size,
        flatten_layers,
        frozen_layers,
    )

    config = config or TrainConfig()
    check_strategy(strategy)
    data.check()
    for part in ("train", "val"):
        check_arrays(
            getattr(data, f"x_{part}"),
            getattr(data, f"y_{part}"),
            num_classes=int(model.output_shape[-1]),
            input_shape=tuple(model.inputs[0].shape[1:]),
            name=part,
        )
    if config.train_on_validation:
        data = data.with_validation_in_train()
    staged = bool(config.stages)
    stages = config.stages or (Stage(epochs=config.epochs),)
    sample_shape = tuple(data.x_train.shape[1:])
    for index, stage in enumerate(stages, start=1):
        frozen_layers(model, stage, index)
        check_input_size(model, stage, index, sample_shape)
        if stage.augment is not None and augment is None:
            build_policy(stage.augment, seed=config.seed, num_classes=int(model.output_shape[-1]))
    keras.utils.set_random_seed(config.seed)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2

    strategy = make_strategy(strategy)
    precision = resolve_precision(config.precision)
    net = with_precision(model, precision)
    net = replicate(net, strategy) if strategy is not None else net
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    original_flags = {layer: layer.trainable for layer in flatten_layers(net)}
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    progress = StageProgress(out / BACKUP_DIR, len(stages)) if out and staged else None
    log_path = out / TRAINING_LOG if out is not None else None

    offset = 0  # epochs finished before the current stage, over the whole run
    resumed_from = None
    stage_results, histories, seconds = [], [], 0.0
    finished_before = None  # the last stage a previous run finished, whose weights load
    batch_norm = contextlib.ExitStack()
    fused = batch_norm.enter_context(batch_norm_kernel(net, config.batch_norm))
    try:
        for index, stage in enumerate(stages, start=1):
            if progress is not None and progress.is_finished(index):
                offset += progress.epochs_run(index)
                finished_before = index
                continue
            if finished_before is not None:
                progress.restore_weights(finished_before, net)
                finished_before = None
            stage_config = _stage_config(config, stage, staged, replicas, strategy)
            frozen = frozen_layers(net, stage, index)
            set_frozen(net, original_flags, frozen)
            prepared = _prepare(net, data, stage_config, stage, augment, strategy)
            all_callbacks = _standard_callbacks(stage_config, prepared, callbacks)
            resumed = 0
            if out is not None:
                backup = progress.stage_dir(index) if staged else out / BACKUP_DIR
                resumed = max(0, _finished_epochs(backup) - offset)
                prepared.start_at_epoch(net, resumed)
                all_callbacks.extend(
                    _output_callbacks(out, stage_config, backup, offset + resumed, staged, log_path)
                )
            if resumed_from is None:
                resumed_from = offset + resumed
            start = time.perf_counter()
            history = net.fit(
                prepared.train_ds,
                # Nothing is held out when the validation samples are trained on.
                validation_data=None if config.train_on_validation else prepared.val_ds,
                initial_epoch=offset,
                epochs=offset + stage.epochs,
                callbacks=all_callbacks,
                verbose=verbose,
                shuffle=False,  # the tf.data pipeline shuffles; Keras would warn and ignore it
            )
            # BackupAndRestore sets the model's `_initial_epoch`, which Keras never clears:
            # the next stage's fit would start at this stage's resume epoch.
            net._initial_epoch = None
            stage_seconds = time.perf_counter() - start
            seconds += stage_seconds
            histories.append(history)
            epochs_run = resumed + len(history.epoch)
            stage_results.append(
                StageResult(
                    index, offset, epochs_run, resumed, stage.input_size, len(frozen), stage_seconds
                )
            )
            if progress is not None:
                progress.record(index, epochs_run, net, len(stages))
                shutil.rmtree(progress.stage_dir(index), ignore_errors=True)
            offset += epochs_run
        if finished_before is not None:  # killed after the last stage was recorded
            progress.restore_weights(finished_before, net)
    finally:
        batch_norm.close()
        set_frozen(net, original_flags, [])
    if progress is not None:
        shutil.rmtree(out / BACKUP_DIR, ignore_errors=True)
    if net is not model:
        model.set_weights(net.get_weights())
        _compile_like(model, net)
    recalibrated = 0
    if strategy is not None:
        # Each step reads `replicas` times more samples, so BatchNormalization's moving
        # statistics get `replicas` times fewer updates: on 2 replicas (digits, 15
        # epochs) the first layer's moving variance still held 0.99**315 of its initial
        # 1.0, six times the real 0.007, and test accuracy fell from 0.981 to 0.781.
        recalibrated = recalibrate_batch_norm(model, data.x_train, seed=config.seed)

    merged: dict[str, list[float]] = {}
    for history in histories:
        for key, values in history.history.items():
            merged.setdefault(key, []).extend(values)
    full_history = _read_log(log_path) if log_path is not None else merged
    return TrainResult(
        history=full_history or merged,
        epochs_run=sum(len(h.epoch) for h in histories),
        resumed_from_epoch=resumed_from or 0,
        seconds=seconds,
        stages=stage_results if staged else [],
        replicas=replicas,
        global_batch_size=config.batch_size * replicas,
        strategy=strategy_name(strategy),
        batch_norm_recalibrated=recalibrated,
        precision=precision,
        batch_norm_fused=fused,
    )


def _compile_like(model, trained) -> None:
    """Compiles `model` as `trained` (its training copy) was, so it evaluates right away."""
    try:
        model.compile_from_config(trained.get_compile_config())
    except Exception:  # noqa: BLE001 - an optimizer or loss without a config still evaluates
        model.compile(loss=trained.loss, metrics=["accuracy"])


def _stage_config(config, stage, staged, replicas, strategy) -> TrainConfig:
    """The single-stage recipe one `fit` runs: the stage's changes, the global batch."""
    changes = {}
    if staged:
        changes = {"stages": (), "epochs": stage.epochs}
        if stage.learning_rate is not None:
            changes["learning_rate"] = stage.learning_rate
        if stage.augment is not None:
            changes["augment"] = stage.augment
    if strategy is not None:
        changes["batch_size"] = config.batch_size * replicas
    return config.replace(**changes) if changes else config


def _prepare(net, data, config, stage, augment, strategy) -> PreparedTraining:
    """`compile_for_training` under the strategy's scope, resized to the stage's size."""
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        prepared = compile_for_training(net, data, config, augment=augment)
    size = stage.input_size
    if size is not None and tuple(size) != tuple(data.x_train.shape[1:3]):
        prepared.train_ds = resize_images(prepared.train_ds, size)
        x, y = prepared.probe
        prepared.probe = (resize_array(x, size), y)
    return prepared


def _standard_callbacks(config, prepared, callbacks) -> list:
    import keras

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
    return all_callbacks


def _output_callbacks(out, config, backup, first_epoch, staged, log_path) -> list:
    """Log, best checkpoint, TensorBoard and, last, the resume state of one `fit`."""
    import keras

    found = [keras.callbacks.CSVLogger(str(log_path), append=first_epoch > 0)]
    if config.checkpoint:
        (out / "checkpoints").mkdir(exist_ok=True)
        monitor = "loss" if config.train_on_validation else "val_loss"
        # A later stage keeps best.keras unless it beats every earlier epoch.
        earlier = _read_log(log_path).get(monitor) if staged and first_epoch > 0 else None
        found.append(
            keras.callbacks.ModelCheckpoint(
                str(out / "checkpoints" / "best.keras"),
                monitor=monitor,
                save_best_only=True,
                initial_value_threshold=min(earlier) if earlier else None,
            )
        )
    if config.tensorboard:
        found.append(keras.callbacks.TensorBoard(log_dir=str(out / "logs")))
    # Last, so an epoch is backed up only after every other callback has seen it. A stage
    # keeps its backup until `StageProgress` has recorded the stage as finished.
    found.append(
        keras.callbacks.BackupAndRestore(
            str(backup), double_checkpoint=True, delete_checkpoint=not staged
        )
    )
    return found


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
            # CSVLogger writes "NA" for the val_ columns of a fit without validation.
            if key != "epoch" and value not in (None, "", "NA"):
                history.setdefault(key, []).append(float(value))
    return history
