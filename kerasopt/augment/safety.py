"""`check_label_safety`: warn when an op turns an image into another class."""

from __future__ import annotations

import re
import warnings

from kerasopt.augment.flip import RandomFlip
from kerasopt.augment.rot90 import RandomRot90

_DIGITS = {"digits", "mnist"}
_UPRIGHT = {"fashionmnist", "cifar10"}
_SMALL_ROTATIONS = "or use small rotations and shifts instead, e.g. affine(rotation=0.05)"


def _problem(op, dataset: str) -> str | None:
    """Why `op` changes label meaning on `dataset`, with the fix; `None` when it does not."""
    if dataset in _DIGITS:
        if isinstance(op, RandomRot90):
            return (
                "a quarter-turned 6 reads as a 9, and most turned digits are no digit at all. "
                f"Fix: drop it, {_SMALL_ROTATIONS}"
            )
        if isinstance(op, RandomFlip):
            return (
                "a mirrored 2, 3, 4, 7 or 9 is no longer that digit (and a flipped 6 "
                f"resembles a 9). Fix: drop it, {_SMALL_ROTATIONS}"
            )
    if dataset in _UPRIGHT:
        if isinstance(op, RandomRot90):
            return (
                "its images are always upright, so turned images describe nothing the model "
                f"will see. Fix: drop it, {_SMALL_ROTATIONS}"
            )
        if isinstance(op, RandomFlip) and op.mode != "horizontal":
            return (
                "its images are always upright, so upside-down images describe nothing the "
                'model will see. Fix: drop it, or use flip(mode="horizontal"), which keeps '
                "objects upright"
            )
    return None


def check_label_safety(policy, dataset: str | None) -> list[str]:
    """Warns about ops that change what the labels mean for `dataset`; returns their names.

    Flips and rot90 on `digits`/`mnist` (a mirrored 2 or a turned 6/9 is another digit
    or none), and vertical flips and rot90 on `fashion_mnist`/`cifar10` (upright
    classes) each raise a `UserWarning` naming the op, the dataset and the fix. Other
    datasets and ops are not checked.

    Args:
        policy: An `AugmentationPolicy`, or anything `build_policy` accepts.
        dataset: Dataset name, e.g. `"digits"`, `"mnist"`, `"fashion_mnist"`,
            `"cifar10"` (case, `-` and `_` are ignored). `None` checks nothing.

    Returns:
        The names of the offending ops, in policy order (e.g. `["flip", "rot90"]`).

    Example:

    >>> from kerasopt.augment import check_label_safety
    >>> check_label_safety("flip(horizontal), brightness(0.2)", "digits")  # doctest: +SKIP
    ['flip']
    """
    from kerasopt.augment.policy import build_policy

    policy = build_policy(policy)
    if policy is None or dataset is None:
        return []
    key = re.sub(r"[^a-z0-9]", "", str(dataset).lower())
    offending = []
    for op in policy.ops:
        problem = _problem(op, key)
        if problem is not None:
            offending.append(op.name)
            warnings.warn(
                f"Augmentation op {op.to_spec()!r} ({type(op).__name__}) changes what the "
                f"labels mean on dataset {dataset!r}: {problem}.",
                UserWarning,
                stacklevel=2,
            )
    return offending
