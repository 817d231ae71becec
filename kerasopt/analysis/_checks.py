"""The probability, label and class-name checks shared by the analysis functions.

Scalar arguments are checked with `kerasopt.core.validation`; what is here is specific to
classifier outputs, in the same wording: who, what was expected, what was received, the fix.
"""

from __future__ import annotations

import numpy as np

from kerasopt.core.validation import invalid_type, invalid_value

# Dequantized int8 softmax outputs and float16 rounding can land a hair outside [0, 1].
_PROBABILITY_SLACK = 1e-4


def check_probabilities(probabilities, caller: str) -> np.ndarray:
    """`probabilities` as float64 `(num_samples, num_classes)`, or a clear error."""
    p = np.asarray(probabilities)
    if p.dtype == bool or not np.issubdtype(p.dtype, np.number):
        raise invalid_type(
            caller,
            "probabilities as a float array",
            f"probabilities.dtype={p.dtype}",
            "Pass model.predict(x) or LiteRTEvaluator(...).predict(x).",
        )
    if p.ndim != 2 or p.shape[1] < 2 or p.shape[0] < 1:
        raise invalid_value(
            caller,
            "probabilities of shape (num_samples, num_classes) with at least one sample and "
            "two classes",
            f"probabilities.shape={p.shape}",
            "For a single sample pass probabilities[None, :]; for a sigmoid output p pass "
            "np.stack([1 - p, p], axis=-1).",
        )
    p = p.astype("float64")
    bad = ~np.isfinite(p)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise invalid_value(
            caller,
            "finite probabilities",
            f"{int(bad.sum())} NaN or infinite values in probabilities (first in row {row})",
            "Check the model for diverged weights and the inputs for NaNs.",
        )
    low, high = float(p.min()), float(p.max())
    if low < -_PROBABILITY_SLACK or high > 1 + _PROBABILITY_SLACK:
        raise invalid_value(
            caller,
            "probabilities in [0, 1]",
            f"values in [{low:.4g}, {high:.4g}]",
            "If these are logits, pass keras.ops.softmax(logits) instead.",
        )
    return np.clip(p, 0.0, 1.0)


def check_labels(
    labels, caller: str, *, num_classes: int, length: int, name: str = "y_true"
) -> np.ndarray:
    """Integer class labels `(length,)` in `[0, num_classes)`, or a clear error."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise invalid_value(
            caller,
            f"{name} as integer class labels of shape (num_samples,)",
            f"{name}.shape={y.shape}",
            f"They look one-hot: pass {name}.argmax(axis=-1)." if y.ndim == 2 else "",
        )
    if y.dtype == bool or not np.issubdtype(y.dtype, np.number):
        raise invalid_type(caller, f"{name} as integer class labels", f"{name}.dtype={y.dtype}")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise invalid_type(
                caller,
                f"{name} as integer class labels",
                f"non-integer values in {name} (dtype {y.dtype})",
                "Pass class indices, not scores.",
            )
    if len(y) != length:
        raise invalid_value(
            caller,
            "one label per sample",
            f"len({name})={len(y)} but {length} samples (rows of probabilities / predictions)",
            "Pass the labels of the same samples, in the same order.",
        )
    y = y.astype("int64")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise invalid_value(
            caller,
            f"{name} in [0, {num_classes}) for {num_classes} classes",
            f"values in [{y.min()}, {y.max()}]",
            "Check num_classes and that the labels are 0-based class indices.",
        )
    return y


def check_class_names(class_names, caller: str, num_classes: int) -> list[str] | None:
    """`class_names` as `num_classes` strings, or `None`."""
    if class_names is None:
        return None
    names = [str(name) for name in class_names]
    if len(names) != num_classes:
        raise invalid_value(
            caller,
            "one class name per class",
            f"{len(names)} class_names for {num_classes} classes",
            f"Pass a list of {num_classes} names or None.",
        )
    return names
