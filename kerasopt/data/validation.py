"""Checks run on arrays before any training, so bad data fails early and clearly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kerasopt.core.errors import KerasoptError


class InvalidDataError(KerasoptError, ValueError):
    """Raised when an input array cannot be trained or evaluated on."""


def check_arrays(
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_classes: int,
    input_shape: Sequence[int | None] | None = None,
    name: str = "train",
) -> None:
    """Checks that `x` and `y` form a usable classification split.

    Catches the mistakes that otherwise surface as a NaN loss or a cryptic shape error
    deep inside `fit`: empty arrays, NaN/Inf values, labels outside `[0, num_classes)`,
    a length mismatch between `x` and `y`, and samples whose shape does not match the
    model's input.

    Args:
        x: Samples, shape `(n, *input_shape)`.
        y: Integer class labels, shape `(n,)`.
        num_classes: Number of classes the model predicts.
        input_shape: Expected shape of one sample (`None` entries match anything), or
            `None` to skip the shape check. Defaults to `None`.
        name: Name of the split, used in error messages (`x_train`, `y_train`).
            Defaults to `"train"`.

    Example:

    >>> import numpy as np
    >>> check_arrays(np.zeros((4, 8, 8)), np.array([0, 1, 2, 3]), num_classes=10)
    """
    x_name, y_name = f"x_{name}", f"y_{name}"
    x = np.asarray(x)
    y = np.asarray(y)
    if x.shape[0] == 0:
        raise InvalidDataError(
            f"{x_name} is empty (shape {x.shape}). Pass at least one sample; check the "
            "path given with --data and the split sizes."
        )
    if y.ndim != 1:
        raise InvalidDataError(
            f"{y_name} must be a 1-D array of integer class labels. Received: "
            f"{y_name}.shape={y.shape}. If the labels are one-hot, pass "
            f"np.argmax({y_name}, axis=-1)."
        )
    if x.shape[0] != y.shape[0]:
        raise InvalidDataError(
            f"{x_name} and {y_name} have different lengths: {x.shape[0]} samples and "
            f"{y.shape[0]} labels. Each sample needs exactly one label."
        )
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            first = np.argwhere(bad)[0]
            raise InvalidDataError(
                f"{x_name} contains {int(bad.sum())} NaN/Inf value(s); the first is at "
                f"index {tuple(int(i) for i in first)}. Clean or impute the data before "
                "training (for tabular data, a SimpleImputer)."
            )
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or not np.all(np.equal(np.mod(y, 1), 0)):
            raise InvalidDataError(
                f"{y_name} must hold integer class labels. Received dtype {y.dtype} with "
                "non-integer or non-finite values."
            )
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= num_classes:
        raise InvalidDataError(
            f"{y_name} has labels outside the class range [0, {num_classes - 1}]: "
            f"min={low}, max={high}. Relabel to 0..{num_classes - 1} or build the model "
            f"with num_classes={high + 1}."
        )
    if input_shape is not None:
        sample_shape = tuple(x.shape[1:])
        expected = tuple(input_shape)
        matches = len(sample_shape) == len(expected) and all(
            e is None or e == s for s, e in zip(sample_shape, expected, strict=True)
        )
        if not matches:
            raise InvalidDataError(
                f"{x_name} samples have shape {sample_shape} but the model expects "
                f"{expected}. Received: {x_name}.shape={x.shape}. Reshape the data or "
                "build the model for this input shape."
            )
