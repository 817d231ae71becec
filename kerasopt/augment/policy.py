"""`AugmentationPolicy`: a seeded sequence of ops, and `build_policy` to make one.

A policy is written three ways, all equivalent:

- Python: `AugmentationPolicy([RandomFlip("horizontal"), RandomCropPad(2)], seed=0)`
- a spec string: `AugmentationPolicy.from_spec("flip(horizontal), crop_pad(2)")`
- a dict or TOML table, the format of `get_config()`:

      [augment]
      seed = 0              # optional, default 0
      num_classes = 10      # optional; needed by mixup/cutmix with integer labels
      ops = ["flip(horizontal)", {name = "crop_pad", pad = 2}, "mixup(alpha=0.2)"]

  Each entry of `ops` is a spec string (one or more ops) or an inline table with the
  op's `name` and its arguments. `ops` may also be one spec string.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator, Sequence

from kerasopt.augment._base import AugmentOp, apply_ops, derive_seed
from kerasopt.augment.random_affine import RandomAffine
from kerasopt.augment.spec import op_from_dict, parse_spec
from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.validation import check_int, check_seed

_POLICY_KEYS = ("ops", "seed", "num_classes")
_LEGACY_KEYS = ("rotation", "translation", "zoom")


def _coerce_ops(ops) -> list[AugmentOp]:
    if isinstance(ops, str):
        return parse_spec(ops)
    if not isinstance(ops, (list, tuple)):
        raise InvalidTypeError(
            f"AugmentationPolicy expects ops to be a list of ops, spec strings or op tables. "
            f"Received: ops={ops!r} ({type(ops).__name__})."
        )
    coerced = []
    for index, op in enumerate(ops):
        if isinstance(op, AugmentOp):
            coerced.append(op)
        elif isinstance(op, str):
            coerced.extend(parse_spec(op))
        elif isinstance(op, dict):
            coerced.append(op_from_dict(op))
        else:
            raise InvalidTypeError(
                f"AugmentationPolicy expects each op to be a kerasopt.augment op (e.g. "
                f"RandomFlip()), a spec string or a table with 'name'. Received: "
                f"ops[{index}]={op!r} ({type(op).__name__})."
            )
    return coerced


class AugmentationPolicy:
    """A sequence of augmentation ops applied to whole batches, seeded as one.

    Call it on a batch, or hand it to `make_dataset(x, y, augment=policy)`, which maps it
    over batches inside `tf.data`. Ops without their own seed get one derived from the
    policy seed and their position, so the ops draw independently and two policies with
    the same seed produce identical batches. Randomness per batch is a function of
    those seeds and the batch content, so results repeat even with parallel `tf.data`
    maps; reshuffling each epoch (`make_dataset` does) gives fresh augmentations.

    Args:
        ops: Ops (`RandomFlip()`, ...), spec strings (`"crop_pad(2)"`) or op tables
            (`{"name": "crop_pad", "pad": 2}`). Defaults to `()`.
        seed: Policy seed; `None` picks one at random. Defaults to `0`.
        num_classes: Given to `mixup`/`cutmix` ops that have none, so they can one-hot
            integer labels. Defaults to `None`.

    Example:

    >>> from kerasopt.augment import AugmentationPolicy, RandomCropPad, RandomFlip
    >>> from kerasopt.data import load_dataset, make_dataset
    >>> data = load_dataset("digits")
    >>> policy = AugmentationPolicy([RandomFlip("horizontal"), RandomCropPad(1)], seed=0)
    >>> ds = make_dataset(data.x_train, data.y_train, augment=policy)
    """

    def __init__(
        self,
        ops: Sequence[AugmentOp | str | dict] = (),
        *,
        seed: int | None = 0,
        num_classes: int | None = None,
    ):
        self.seed = check_seed("AugmentationPolicy", seed)
        if num_classes is not None:
            check_int("AugmentationPolicy", "num_classes", num_classes, 2, example=10)
        self.num_classes = num_classes
        ops = _coerce_ops(ops)
        if num_classes is not None:
            ops = [
                type(op).from_config({**op.get_config(), "num_classes": num_classes})
                if op.soft_labels and op.num_classes is None
                else op
                for op in ops
            ]
        self._ops = tuple(ops)
        base = self.seed if self.seed is not None else random.randrange(2**31)
        self._op_seeds = [
            op.seed if op.seed is not None else derive_seed(base, index)
            for index, op in enumerate(self._ops)
        ]

    @property
    def ops(self) -> tuple[AugmentOp, ...]:
        """The ops, in the order they are applied."""
        return self._ops

    @property
    def soft_labels(self) -> bool:
        """True when an op (MixUp, CutMix) returns mixed one-hot labels."""
        return any(op.soft_labels for op in self._ops)

    def __call__(self, images, labels, *, step=None):
        """Augments a batch `(images, labels) -> (images, labels)`.

        `step` (an integer) is folded into the seed to draw differently for the same
        batch, as `preview` does for its columns.
        """
        ops_and_seeds = list(zip(self._ops, self._op_seeds, strict=True))
        return apply_ops(ops_and_seeds, images, labels, step=step)

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[AugmentOp]:
        return iter(self._ops)

    def __eq__(self, other) -> bool:
        return isinstance(other, AugmentationPolicy) and self.get_config() == other.get_config()

    __hash__ = None

    def to_spec(self) -> str:
        """The ops as a spec string, e.g. `'flip, crop_pad(pad=2)'`."""
        return ", ".join(op.to_spec() for op in self._ops)

    def __repr__(self) -> str:
        ops = ", ".join(repr(op) for op in self._ops)
        extra = f", num_classes={self.num_classes}" if self.num_classes is not None else ""
        return f"AugmentationPolicy([{ops}], seed={self.seed}{extra})"

    def get_config(self) -> dict:
        return {
            "seed": self.seed,
            "num_classes": self.num_classes,
            "ops": [{"name": op.name, **op.get_config()} for op in self._ops],
        }

    @classmethod
    def from_config(cls, config: dict) -> AugmentationPolicy:
        """Builds a policy from the dict format (also the TOML table format)."""
        if not isinstance(config, dict) or "ops" not in config:
            raise InvalidValueError(
                f"AugmentationPolicy.from_config expects a dict with an 'ops' list (and "
                f"optionally 'seed', 'num_classes'). Received: {config!r}."
            )
        unknown = sorted(set(config) - set(_POLICY_KEYS))
        if unknown:
            raise InvalidValueError(
                f"AugmentationPolicy config has unknown keys {unknown}. Valid keys: "
                f"{', '.join(_POLICY_KEYS)}."
            )
        return cls(config["ops"], seed=config.get("seed", 0), num_classes=config.get("num_classes"))

    @classmethod
    def from_spec(
        cls, spec: str, *, seed: int | None = 0, num_classes: int | None = None
    ) -> AugmentationPolicy:
        """Builds a policy from a spec string such as `"flip(horizontal), rot90"`."""
        return cls(parse_spec(spec), seed=seed, num_classes=num_classes)

    @classmethod
    def from_toml(cls, path: str | os.PathLike, table: str = "augment") -> AugmentationPolicy:
        """Builds a policy from a TOML table (dotted names such as `"train.augment"` work).

        Args:
            path: The TOML file.
            table: The table holding `ops` (and optionally `seed`, `num_classes`).
                Defaults to `"augment"`.

        Example:

        >>> from kerasopt.augment import AugmentationPolicy
        >>> policy = AugmentationPolicy.from_toml("tuning/augment.toml")  # doctest: +SKIP
        """
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib

        with open(path, "rb") as f:
            document = tomllib.load(f)
        node = document
        for part in table.split("."):
            if not isinstance(node, dict) or part not in node:
                tables = sorted(k for k, v in document.items() if isinstance(v, dict))
                raise InvalidValueError(
                    f"AugmentationPolicy.from_toml found no table [{table}] in {path}. "
                    f"Tables there: {tables}. Pass table=... or add [{table}] with an ops list."
                )
            node = node[part]
        return cls.from_config(node)


def build_policy(spec, *, seed: int | None = 0, num_classes: int | None = None):
    """Turns any accepted augmentation description into an `AugmentationPolicy` or `None`.

    Accepts `None` (no augmentation), an `AugmentationPolicy`, a single op, a spec string,
    a list of ops/strings/tables, a dict in the policy format (`{"ops": [...]}`), or the
    legacy `RandomAffine` keywords `{"rotation": .., "translation": .., "zoom": ..}`
    (one `RandomAffine` seeded with `seed`, as the trainer did). An empty string or dict
    means no augmentation.

    Args:
        spec: The description.
        seed: Policy seed, used when `spec` does not carry one. Defaults to `0`.
        num_classes: Classes, for `mixup`/`cutmix` on integer labels. Defaults to `None`.

    Example:

    >>> from kerasopt.augment import build_policy
    >>> policy = build_policy("flip(horizontal), crop_pad(2), mixup(0.2)", num_classes=10)
    >>> policy.soft_labels
    True
    """
    if spec is None:
        return None
    if isinstance(spec, AugmentationPolicy):
        if num_classes is None or spec.num_classes is not None:
            return spec
        return AugmentationPolicy(spec.ops, seed=spec.seed, num_classes=num_classes)
    if isinstance(spec, AugmentOp):
        spec = [spec]
    if isinstance(spec, str):
        return (
            AugmentationPolicy.from_spec(spec, seed=seed, num_classes=num_classes)
            if (spec.strip())
            else None
        )
    if isinstance(spec, (list, tuple)):
        return AugmentationPolicy(spec, seed=seed, num_classes=num_classes)
    if isinstance(spec, dict):
        if not spec:
            return None
        if set(spec) <= set(_LEGACY_KEYS):
            return AugmentationPolicy([RandomAffine(**spec, seed=seed)], seed=seed)
        if "ops" in spec:
            config = {"seed": seed, "num_classes": num_classes, **spec}
            return AugmentationPolicy.from_config(config)
        raise InvalidValueError(
            f"build_policy expects a dict with 'ops' (the policy format) or only the legacy "
            f"RandomAffine keys {_LEGACY_KEYS}. Received keys: {sorted(spec)}."
        )
    raise InvalidTypeError(
        "build_policy expects None, an AugmentationPolicy, an op, a spec string such as "
        f"'flip(horizontal), crop_pad(2)', a list or a dict. Received: {spec!r} "
        f"({type(spec).__name__})."
    )
