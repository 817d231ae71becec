"""`AugmentOp`: the base every augmentation op shares, and the registry of op names.

An op is a callable `(images, labels) -> (images, labels)` on whole batches. The base
does what every op needs so each op only writes its transform: it accepts `(b, h, w)`
and `(b, h, w, c)` batches of any dtype, runs the transform on float32 `(b, h, w, c)`,
and gives back the input's shape and dtype (integer images are rounded and saturated).
It also owns seeding: each batch's randomness is a function of the op's seed and a
fingerprint of the batch itself (see `_seeding.py`), so a seeded pipeline repeats exactly
even when `tf.data` runs batches in parallel.
"""

from __future__ import annotations

import inspect
import random
from typing import ClassVar

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_range, check_seed

_REGISTRY: dict[str, type[AugmentOp]] = {}
_ALIASES: dict[str, str] = {}


def register_op(name: str, *aliases: str):
    """Class decorator: makes an op available to the spec parser under `name`."""

    def decorate(cls):
        cls.name = name
        _REGISTRY[name] = cls
        for alias in aliases:
            _ALIASES[alias] = name
        return cls

    return decorate


def op_names() -> list[str]:
    """All op names and aliases the spec parser accepts, sorted."""
    return sorted([*_REGISTRY, *_ALIASES])


def op_class(name: str) -> type[AugmentOp] | None:
    """The op class registered under `name` (or an alias), or `None`."""
    return _REGISTRY.get(_ALIASES.get(name, name))


def check_value_range(owner: str, value_range) -> tuple[float, float]:
    """Returns `value_range` as `(low, high)` floats with `low < high`."""
    return check_range(
        owner,
        "value_range",
        value_range,
        fix="Pass the range pixel values span: (0, 255) for uint8 images, (0, 1) for "
        "scaled floats, (0, 16) for digits.",
    )


def derive_seed(seed: int, index: int) -> int:
    """A well-mixed 31-bit seed for op `index` of a policy seeded with `seed`."""
    import numpy as np

    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0] & 0x7FFFFFFF)


def format_value(value) -> str:
    """Writes a config value in the spec syntax the parser reads back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return repr(value)


class AugmentOp:
    """Base of the batched augmentation ops; subclasses implement `transform`.

    Args:
        seed: Seed of this op. `None` picks one at random (repeatable under
            `keras.utils.set_random_seed`); inside an `AugmentationPolicy` an op without a
            seed gets one derived from the policy's seed. Defaults to `None`.

    Example:

    >>> import tensorflow as tf
    >>> from kerasopt.augment import AugmentOp
    >>> class Invert(AugmentOp):
    ...     def transform(self, images, labels, seed):
    ...         return 255.0 - images, labels
    >>> images, labels = Invert()(tf.zeros((2, 8, 8), "uint8"), tf.range(2))
    >>> int(images[0, 0, 0])
    255
    """

    name: ClassVar[str] = ""
    soft_labels: ClassVar[bool] = False
    needs_rgb: ClassVar[bool] = False

    def __init__(self, seed: int | None = None):
        self.seed = check_seed(type(self).__name__, seed)
        self._default_seed = self.seed if self.seed is not None else random.randrange(2**31)

    def __call__(self, images, labels, *, step=None):
        """Augments a batch; `step` (an int) varies the draw for the same batch."""
        return apply_ops([(self, self._default_seed)], images, labels, step=step)

    def transform(self, images, labels, seed):
        """Augments float32 `(b, h, w, c)` images with an int32 `[2]` seed tensor."""
        raise NotImplementedError

    def check_images(self, shape) -> None:
        """Raises `ValueError` if this op cannot run on a batch of `shape`."""
        channels = shape[-1] if len(shape) == 4 else 1
        if self.needs_rgb and channels != 3:
            raise InvalidValueError(
                f"{type(self).__name__} ({self.name}) changes colour and needs RGB images "
                f"with 3 channels. Received: images.shape={tuple(shape)}. Remove "
                f"'{self.name}' from the policy for grayscale data; brightness and contrast "
                f"work on any number of channels."
            )

    def get_config(self) -> dict:
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> AugmentOp:
        return cls(**config)

    def _non_default_config(self) -> dict:
        parameters = inspect.signature(type(self).__init__).parameters
        config = {}
        for key, value in self.get_config().items():
            default = parameters[key].default if key in parameters else inspect.Parameter.empty
            if isinstance(default, (tuple, list)) and isinstance(value, (tuple, list)):
                if tuple(default) == tuple(value):
                    continue
            elif default is not inspect.Parameter.empty and default == value:
                continue
            config[key] = value
        if "seed" in config:  # reads better last: flip(mode="vertical", seed=3)
            config["seed"] = config.pop("seed")
        return config

    def to_spec(self) -> str:
        """This op in the string spec syntax, e.g. `flip(mode="vertical")`."""
        args = ", ".join(f"{k}={format_value(v)}" for k, v in self._non_default_config().items())
        return f"{self.name}({args})" if args else self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._non_default_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = None


def one_hot_labels(owner: str, labels, num_classes: int | None):
    """Integer `(b,)` (or `(b, 1)`) labels as float32 one-hot; one-hot labels as float32."""
    import tensorflow as tf

    if labels.shape.rank == 2 and labels.shape[-1] == 1 and labels.dtype.is_integer:
        labels = labels[:, 0]
    if labels.shape.rank == 1:
        if num_classes is None:
            raise InvalidValueError(
                f"{owner} mixes labels and needs num_classes to one-hot integer labels. "
                f"Received: labels.shape={tuple(labels.shape)}, num_classes=None. Pass "
                f"num_classes (e.g. build_policy(spec, num_classes=10)) or one-hot labels."
            )
        return tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=tf.float32)
    if labels.shape.rank == 2:
        if num_classes is not None and labels.shape[-1] not in (None, num_classes):
            raise InvalidValueError(
                f"{owner} got one-hot labels of width {labels.shape[-1]} but "
                f"num_classes={num_classes}. Received: labels.shape={tuple(labels.shape)}."
            )
        return tf.cast(labels, tf.float32)
    raise InvalidValueError(
        f"{owner} expects integer labels (b,) or one-hot labels (b, classes). Received: "
        f"labels.shape={tuple(labels.shape)}."
    )


def apply_ops(ops_and_seeds, images, labels, *, step=None):
    """Runs `(op, seed)` pairs on a batch, keeping the input's shape and dtype."""
    import tensorflow as tf

    from kerasopt.augment._seeding import batch_seed, fold

    images = tf.convert_to_tensor(images)
    labels = tf.convert_to_tensor(labels)
    rank = images.shape.rank
    if rank not in (3, 4):
        raise InvalidValueError(
            "Augmentation expects a batch of images shaped (b, h, w) or (b, h, w, c). "
            f"Received: images.shape={tuple(images.shape)}. Batch the data first "
            "(make_dataset does), or add a batch axis to a single image."
        )
    for op, _ in ops_and_seeds:
        op.check_images(images.shape)
    key = batch_seed(images, step)
    x = tf.cast(images[..., None] if rank == 3 else images, tf.float32)
    shape = x.shape
    for op, op_seed in ops_and_seeds:
        x, labels = op.transform(x, labels, fold(key, op_seed))
        x = tf.ensure_shape(x, shape)
    if rank == 3:
        x = x[..., 0]
    if images.dtype.is_integer:
        x = tf.saturate_cast(tf.round(x), images.dtype)
    elif images.dtype != tf.float32:
        x = tf.cast(x, images.dtype)
    return x, labels
