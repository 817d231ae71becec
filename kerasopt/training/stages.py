"""`Stage`: one step of a staged recipe (progressive resizing, freezing, augmentation, rate).

A `TrainConfig(stages=[...])` trains in order through its stages; each stage overrides
some of the recipe for its epochs and gets its own optimizer and learning-rate schedule.
This module holds the stage itself, the checks `train` runs on every stage before
anything trains, and the on-disk progress that lets a killed run resume in the right
stage and epoch.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kerasopt.core.atomic import atomic_path, write_text_atomic
from kerasopt.core.suggestions import did_you_mean
from kerasopt.training.config import ConfigError

#: The stages' resume record inside `out_dir/_backup/`.
PROGRESS_FILE = "stages.json"


class StageError(ConfigError):
    """A stage that cannot run: an unknown key, a bad value, or a model it does not fit."""


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a staged `TrainConfig`: its epochs and what it changes.

    Every field but `epochs` is optional; `None` keeps the recipe's value.

    Args:
        epochs: Epochs of this stage (an early stop ends the stage, and the next one
            starts).
        input_size: Progressive resizing: training images are resized to `(height,
            width)` (or `n` for `n x n`) inside the tf.data pipeline. Validation stays
            at the data's own size, the size the model is deployed at. The model must
            accept this size (`keras.Input(shape=(None, None, C))` and a global pooling
            head). Defaults to `None` (the data's size).
        freeze: Layer names or name prefixes (`"stem"` freezes `stem0_conv`,
            `stem0_bn`, ...) kept frozen during this stage; a frozen BatchNormalization
            runs in inference mode (its moving statistics stay). Defaults to `()`.
        augment: The stage's augmentation policy, in any form `TrainConfig.augment`
            takes; `""` for none. Defaults to `None` (the recipe's).
        learning_rate: Peak learning rate of this stage's schedule. Defaults to `None`
            (the recipe's).

    Example:

    >>> from kerasopt.training import Stage, TrainConfig
    >>> config = TrainConfig(stages=[
    ...     {"epochs": 2, "input_size": 14, "freeze": ["stem"]},
    ...     Stage(epochs=3, learning_rate=1e-3),
    ... ])
    >>> config.epochs, config.stages[0].input_size
    (5, (14, 14))
    """

    epochs: int
    input_size: tuple[int, int] | None = None
    freeze: tuple[str, ...] = ()
    augment: dict | str | None = None
    learning_rate: float | None = None

    def __post_init__(self):
        owner = "Stage"
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or self.epochs < 1:
            raise StageError(f"{owner}.epochs must be an integer >= 1. Received: {self.epochs!r}.")
        size = self.input_size
        if size is not None:
            if isinstance(size, int) and not isinstance(size, bool):
                size = (size, size)
            if (
                not isinstance(size, (tuple, list))
                or len(size) != 2
                or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in size)
            ):
                raise StageError(
                    f"{owner}.input_size must be (height, width) or one integer, each >= 1. "
                    f"Received: {self.input_size!r}. Pass e.g. input_size=[14, 14]."
                )
            object.__setattr__(self, "input_size", tuple(size))
        freeze = (self.freeze,) if isinstance(self.freeze, str) else self.freeze
        if not isinstance(freeze, (tuple, list)) or not all(
            isinstance(n, str) and n for n in freeze
        ):
            raise StageError(
                f"{owner}.freeze must be a list of layer names or name prefixes. Received: "
                f"{self.freeze!r}. Pass e.g. freeze=['stem', 'stage1_']."
            )
        object.__setattr__(self, "freeze", tuple(freeze))
        rate = self.learning_rate
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0
        ):
            raise StageError(f"{owner}.learning_rate must be > 0 or None. Received: {rate!r}.")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], index: int = 1) -> Stage:
        """A stage from a dict or a TOML `[[train.stages]]` table, unknown keys refused."""
        if isinstance(values, Stage):
            return values
        if not isinstance(values, Mapping):
            raise StageError(
                f"TrainConfig.stages[{index - 1}] must be a table such as {{epochs = 2, "
                f"input_size = [14, 14]}}. Received: {values!r}."
            )
        valid = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in valid:
                raise StageError(
                    f"Unknown key {key!r} in stage {index}.{did_you_mean(key, valid)} "
                    f"Valid keys: {valid}."
                )
        if "epochs" not in values:
            raise StageError(
                f"Stage {index} needs 'epochs' (an integer >= 1). Received: {dict(values)}."
            )
        return cls(**values)

    def to_dict(self) -> dict:
        """The fields that differ from the defaults (what a TOML stage table would hold)."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return {
            k: v for k, v in dataclasses.asdict(self).items() if k == "epochs" or v != defaults[k]
        }


def parse_stages(stages: Sequence | None) -> tuple[Stage, ...]:
    """`stages` (dicts or `Stage`s) as a tuple of `Stage`s; `()` for `None`."""
    if stages is None:
        return ()
    if isinstance(stages, (str, Mapping)) or not isinstance(stages, Sequence):
        raise StageError(
            "TrainConfig.stages must be a list of stages such as [{epochs = 2, input_size = 14}, "
            f"{{epochs = 3}}]. Received: {stages!r}."
        )
    return tuple(Stage.from_dict(stage, index) for index, stage in enumerate(stages, start=1))


@dataclasses.dataclass
class StageResult:
    """What one stage of `train` did; epochs are counted over the whole run."""

    stage: int
    first_epoch: int
    epochs_run: int
    resumed_from_epoch: int
    input_size: tuple[int, int] | None
    frozen_layers: int
    seconds: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def frozen_layers(model, stage: Stage, index: int) -> list:
    """The layers of `model` that `stage` freezes; an entry matching none is refused."""
    layers = flatten_layers(model)
    frozen = []
    for entry in stage.freeze:
        matches = [layer for layer in layers if layer.name.startswith(entry)]
        if not matches:
            names = [layer.name for layer in layers]
            prefixes = sorted({name.split("_")[0] for name in names} - set(names))
            raise StageError(
                f"Stage {index} freeze={list(stage.freeze)}: no layer of model {model.name!r} "
                f"is named or starts with {entry!r}.{did_you_mean(entry, names + prefixes)} "
                f"Layers: {names}."
            )
        frozen.extend(matches)
    return frozen


def check_input_size(model, stage: Stage, index: int, sample_shape: tuple) -> None:
    """Refuses a stage `input_size` that `model` cannot take, naming the layer and the fix.

    `sample_shape` is one training sample's shape (without the batch axis).
    """
    if stage.input_size is None or tuple(stage.input_size) == tuple(sample_shape[:2]):
        return
    if len(sample_shape) not in (2, 3):
        raise StageError(
            f"Stage {index} input_size={list(stage.input_size)} resizes images, but the "
            f"samples have shape {tuple(sample_shape)}. Drop input_size for non-image data."
        )
    fixed = tuple(model.inputs[0].shape[1:3])
    if any(d is not None for d in fixed):
        channels = sample_shape[2] if len(sample_shape) == 3 else 1
        raise StageError(
            f"Stage {index} input_size={list(stage.input_size)}: model {model.name!r} fixes "
            f"its input at {fixed} in layer {_input_layer_name(model)!r}. Build it with "
            f"keras.Input(shape=(None, None, {channels})) and a global pooling head, or drop "
            "input_size from the stage."
        )
    import numpy as np

    probe = np.zeros((1, *stage.input_size, *sample_shape[2:]), dtype="float32")
    try:
        model(probe, training=False)
    except Exception as error:  # noqa: BLE001 - any layer may refuse; name its reason
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        raise StageError(
            f"Stage {index} input_size={list(stage.input_size)}: model {model.name!r} fails on "
            f"{probe.shape[1:]} inputs: {reason} Make every layer size-agnostic (global "
            "pooling instead of Flatten or Reshape) or drop input_size from the stage."
        ) from error


def _input_layer_name(model) -> str:
    history = getattr(model.inputs[0], "_keras_history", None)
    return history[0].name if history else "input"


def flatten_layers(model) -> list:
    """Every layer of `model`, nested models' layers included, parents before children."""
    found = []

    def visit(layer):
        for child in getattr(layer, "layers", []):
            found.append(child)
            visit(child)

    visit(model)
    return found


def set_frozen(model, original: dict, frozen: Sequence) -> None:
    """Restores each layer's own `trainable` flag, then freezes `frozen`.

    Parents come before children in `original`, so a parent's setter (which also sets its
    children) is corrected by the children's own flags that follow.
    """
    for layer, trainable in original.items():
        layer.trainable = trainable
    for layer in frozen:
        layer.trainable = False


def resize_array(x, size: tuple[int, int]):
    """A batch of images (`(n, H, W)` or `(n, H, W, C)`) resized to `size`, as float32."""
    import tensorflow as tf

    channelless = len(x.shape) == 3
    images = x[..., None] if channelless else x
    images = tf.image.resize(images, size, antialias=True)
    images = images[..., 0] if channelless else images
    return tf.cast(images, tf.float32)


def resize_images(dataset, size: tuple[int, int]):
    """`dataset` of `(images, labels)` batches with the images resized to `size`.

    Accepts `(batch, H, W)` and `(batch, H, W, C)` images; antialiased bilinear, so a
    downsized image averages its pixels instead of skipping them.
    """
    import tensorflow as tf

    def resize(x, y):
        return resize_array(x, size), y

    return dataset.map(resize, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


class StageProgress:
    """The resume record of a staged run: `out_dir/_backup/stages.json` and stage weights.

    After each stage the weights are written (atomically) to `stage_<n>.npz`, then the
    record naming it; only then is the stage's `BackupAndRestore` folder removed, so a
    kill at any moment leaves either the stage's last epoch or the finished stage.
    """

    def __init__(self, backup_dir: Path, num_stages: int):
        self.backup_dir = Path(backup_dir)
        self.path = self.backup_dir / PROGRESS_FILE
        self.finished: list[dict] = []
        if self.path.is_file():
            record = json.loads(self.path.read_text())
            if record.get("num_stages") == num_stages:
                self.finished = list(record["finished"])

    def stage_dir(self, index: int) -> Path:
        return self.backup_dir / f"stage_{index}"

    def weights_path(self, index: int) -> Path:
        return self.backup_dir / f"stage_{index}.npz"

    def is_finished(self, index: int) -> bool:
        return any(entry["stage"] == index for entry in self.finished)

    def epochs_run(self, index: int) -> int:
        return next(e["epochs_run"] for e in self.finished if e["stage"] == index)

    def record(self, index: int, epochs_run: int, model, num_stages: int) -> None:
        import numpy as np

        with atomic_path(self.weights_path(index)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{_key(v.path, i): v.numpy() for i, v in enumerate(model.weights)})
        self.finished.append({"stage": index, "epochs_run": epochs_run})
        write_text_atomic(
            self.path, json.dumps({"num_stages": num_stages, "finished": self.finished}, indent=1)
        )

    def restore_weights(self, index: int, model) -> None:
        """Loads the weights saved at the end of stage `index` into `model`."""
        import numpy as np

        with np.load(self.weights_path(index)) as saved:
            for i, variable in enumerate(model.weights):
                variable.assign(saved[_key(variable.path, i)])


def _key(path: str, position: int) -> str:
    # Variable paths can repeat across nested models; the position keeps keys unique.
    return f"{position}:{path}"
