"""`TrainConfig`: everything `train` composes, from Python, a dict, or a TOML table."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import TYPE_CHECKING, Any

from kerasopt.core.errors import KerasoptError
from kerasopt.core.suggestions import did_you_mean

if TYPE_CHECKING:
    from kerasopt.training.stages import Stage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LR_SCHEDULES = ("constant", "cosine", "warmup_cosine", "exponential", "one_cycle")
CLIPPING_OPTIONS = ("clipnorm", "clipvalue", "global_clipnorm", "agc_clip_factor")


class ConfigError(KerasoptError, ValueError):
    """Raised for an unknown key or a bad value in a configuration."""


@dataclasses.dataclass
class TrainConfig:
    """Training recipe: optimizer, schedule, callbacks, augmentation and seed.

    Args:
        epochs: Maximum epochs. Defaults to `40`.
        batch_size: Samples per step. Defaults to `32`.
        optimizer: A Keras optimizer name (`"adam"`, `"adamw"`, `"sgd"`, ...) or one
            kerasopt adds (`"radam"`, `"adabound"`). Defaults to `"adam"`.
        learning_rate: Peak learning rate. Defaults to `3e-3`.
        optimizer_kwargs: Extra optimizer arguments (`{"weight_decay": 1e-4}`).
            Defaults to `{}`.
        clipnorm: Clip each gradient tensor to this L2 norm (Keras' `clipnorm`), or
            `None`. Defaults to `None`.
        clipvalue: Clip every gradient element to `[-clipvalue, clipvalue]`, or `None`.
            Defaults to `None`.
        global_clipnorm: Scale all gradients together so their joint L2 norm is at most
            this, or `None`. Defaults to `None`.
        agc_clip_factor: Adaptive gradient clipping (NFNets): clip each unit's gradient
            to this fraction of its weight norm, or `None`. At most one of the four
            clipping options may be set. Defaults to `None`.
        lookahead: Wrap the optimizer in `Lookahead` with these keyword arguments
            (`{"sync_period": 6, "slow_step_size": 0.5}`; `{}` for the defaults), or
            `None`. Defaults to `None`.
        label_smoothing: Label smoothing of the cross-entropy, in `[0, 1)`. Defaults
            to `0.0`.
        lr_schedule: One of `"constant"`, `"cosine"`, `"warmup_cosine"`,
            `"exponential"`, `"one_cycle"` (`kerasopt.schedules.OneCycle` peaking at
            `learning_rate`). Defaults to `"warmup_cosine"`.
        warmup_fraction: Fraction of all steps spent warming up (`warmup_cosine`).
            Defaults to `0.1`.
        early_stopping_patience: Epochs without `val_loss` improvement before stopping
            (best weights are restored), or `None` to disable. Defaults to `15`.
        augment: An augmentation policy: keyword arguments of `RandomAffine`, a policy
            string such as `"flip(horizontal), crop_pad(2), mixup(alpha=0.2)"`, a policy
            table (`{"ops": [...]}`), or `None` for none. Policies that mix labels
            (MixUp, CutMix) switch the loss to categorical cross-entropy. Defaults to
            `{"rotation": 0.05, "translation": 0.1, "zoom": 0.1}`.
        seed: Seed for weights, shuffling and augmentation. Defaults to `0`.
        health_checks: Add `kerasopt.callbacks.TrainingHealth`: stop at the first NaN/Inf
            naming the layer, and warn on exploding or vanishing gradients, a diverging
            loss or a growing train/validation gap. Defaults to `True`.
        checkpoint: Keep the best model in `checkpoints/best.keras`. Defaults to `True`.
        tensorboard: Write TensorBoard logs to `logs/`. Defaults to `False`.
        stages: Staged training: `Stage`s or dicts (TOML: `[[train.stages]]` tables),
            run in order, each with its own epochs and schedule and optionally its own
            `input_size` (progressive resizing), `freeze`, `augment` and
            `learning_rate` (see `kerasopt.training.Stage`). With stages, `epochs` is
            their total: leave it out, or make it agree. Defaults to `()` (one stage of
            `epochs` with the recipe as it is).
        precision: `"float32"`, `"mixed_bfloat16"` (compute in bfloat16, float32
            weights; the model you pass stays float32), or `"auto"`: bfloat16 where the
            CPU computes it natively (AMX, AVX512-BF16), float32 elsewhere
            (`kerasopt.training.mixed_precision`); `checkpoints/best.keras` is then the
            bfloat16 training copy. Defaults to `"float32"`.
        batch_norm: `"fused"`: BatchNormalization layers train with TensorFlow's fused
            kernel, the model and what it saves unchanged
            (`kerasopt.training.fused_batch_norm`; a step of the Fashion-MNIST default
            took 0.72x the CPU time); `"keras"`: with Keras' own ops. Defaults to
            `"fused"`.
        train_on_validation: Fit on the training and validation splits together, the
            final fit of a recipe already chosen on validation (published Fashion-MNIST
            results train on all 60,000 images). Nothing is then held out: `fit` runs
            without validation data, `checkpoints/best.keras` follows the training
            loss, and early stopping must be off (`early_stopping_patience=None`).
            Defaults to `False`.

    Example:

    >>> from kerasopt.training import TrainConfig
    >>> config = TrainConfig.from_dict({"epochs": 5, "optimizer": "adamw"})
    >>> config.epochs
    5
    """

    epochs: int = 40
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 3e-3
    optimizer_kwargs: dict = dataclasses.field(default_factory=dict)
    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    agc_clip_factor: float | None = None
    lookahead: dict | None = None
    label_smoothing: float = 0.0
    lr_schedule: str = "warmup_cosine"
    warmup_fraction: float = 0.1
    early_stopping_patience: int | None = 15
    augment: dict | str | None = dataclasses.field(
        default_factory=lambda: {"rotation": 0.05, "translation": 0.1, "zoom": 0.1}
    )
    seed: int = 0
    health_checks: bool = True
    checkpoint: bool = True
    tensorboard: bool = False
    stages: tuple[Stage, ...] = ()
    precision: str = "float32"
    batch_norm: str = "fused"
    train_on_validation: bool = False

    def __post_init__(self):
        from kerasopt.training.stages import parse_stages

        self.stages = parse_stages(self.stages)
        if self.stages:
            # The stages say how long each part is; `epochs` is their total.
            self.epochs = sum(stage.epochs for stage in self.stages)
        positive = {"epochs": self.epochs, "batch_size": self.batch_size}
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"TrainConfig.{name} must be an integer >= 1. Received: {value!r}."
                )
        if not self.learning_rate > 0:
            raise ConfigError(
                f"TrainConfig.learning_rate must be > 0. Received: {self.learning_rate!r}."
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(
                f"TrainConfig.lr_schedule={self.lr_schedule!r} is unknown. Expected one of "
                f"{list(LR_SCHEDULES)}."
            )
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ConfigError(
                "TrainConfig.warmup_fraction must be in [0, 1). Received: "
                f"{self.warmup_fraction!r}."
            )
        clipping = {name: getattr(self, name) for name in CLIPPING_OPTIONS}
        for name, value in clipping.items():
            if value is not None and not value > 0:
                raise ConfigError(f"TrainConfig.{name} must be > 0 or None. Received: {value!r}.")
        chosen = [name for name, value in clipping.items() if value is not None]
        if len(chosen) > 1:
            raise ConfigError(
                f"TrainConfig sets {chosen}; set at most one gradient clipping option of "
                f"{list(CLIPPING_OPTIONS)}."
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(
                "TrainConfig.label_smoothing must be in [0, 1). Received: "
                f"{self.label_smoothing!r}."
            )
        from kerasopt.training.mixed_precision import PRECISIONS

        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"TrainConfig.precision={self.precision!r} is unknown. Expected one of "
                f"{list(PRECISIONS)}."
            )
        from kerasopt.training.fused_batch_norm import BATCH_NORM_KERNELS

        if self.batch_norm not in BATCH_NORM_KERNELS:
            raise ConfigError(
                f"TrainConfig.batch_norm={self.batch_norm!r} is unknown. Expected one of "
                f"{list(BATCH_NORM_KERNELS)}."
            )
        patience = self.early_stopping_patience
        if patience is not None and (not isinstance(patience, int) or patience < 1):
            raise ConfigError(
                "TrainConfig.early_stopping_patience must be an integer >= 1 or None. "
                f"Received: {patience!r}."
            )
        if not isinstance(self.train_on_validation, bool):
            raise ConfigError(
                "TrainConfig.train_on_validation must be true or false. Received: "
                f"{self.train_on_validation!r}."
            )
        if self.train_on_validation and patience is not None:
            raise ConfigError(
                "TrainConfig.train_on_validation=True trains on the validation split, so "
                f"early stopping (early_stopping_patience={patience}) would watch samples "
                "the model fits. Set early_stopping_patience=None, or train_on_validation="
                "False to keep the validation split held out."
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Builds a config, rejecting unknown keys with the closest valid one."""
        valid = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in valid:
                raise ConfigError(
                    f"Unknown training config key {key!r}.{did_you_mean(key, valid)} "
                    f"Valid keys: {valid}."
                )
        from kerasopt.training.stages import parse_stages

        stages = values.get("stages")
        if stages and "epochs" in values:
            total = sum(stage.epochs for stage in parse_stages(stages))
            if values["epochs"] != total:
                raise ConfigError(
                    f"TrainConfig.epochs={values['epochs']!r} but the stages add up to {total} "
                    "epochs. Leave epochs out (it is the stages' total) or change the stages' "
                    "epochs."
                )
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | os.PathLike, table: str = "train") -> TrainConfig:
        """Reads the `[train]` table (or `table`) of a TOML file."""
        with open(path, "rb") as f:
            document = tomllib.load(f)
        if table not in document:
            raise ConfigError(
                f"{os.fspath(path)!r} has no [{table}] table; it has {sorted(document)}."
            )
        return cls.from_dict(document[table])

    def replace(self, **changes) -> TrainConfig:
        """A copy with `changes` applied (validated like `from_dict`)."""
        values = {**dataclasses.asdict(self), "stages": self.stages, **changes}
        if values["stages"] and "epochs" not in changes:
            del values["epochs"]  # follows the (maybe changed) stages
        return self.from_dict(values)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["stages"] = [stage.to_dict() for stage in self.stages]
        return values
