"""The attack names, the input range and the batch checks of the attacks and `AdversarialModel`.

Scalar arguments are checked with `kerasopt.core.validation`; what is here is specific to
adversarial examples: budgets are fractions of the input range, and inputs must lie inside it.
"""

from __future__ import annotations

import numpy as np

from kerasopt.core.validation import check_finite, check_range, invalid_value

ATTACKS = ("fgsm", "pgd")

# The fix shown for a budget (epsilon, step size) outside [0, 1].
BUDGET_FIX = (
    "Budgets are fractions of the input range: for 8 pixel levels on [0, 255] pixels "
    "pass 8/255 with input_range=(0, 255)."
)


def check_input_range(input_range, caller: str) -> tuple[float, float]:
    """`input_range` as `(low, high)` floats with `low < high`, or a clear error."""
    return check_range(
        caller,
        "input_range",
        input_range,
        fix="Pass the range of the raw inputs the model takes: (0, 16) for digits, "
        "(0, 255) for MNIST pixels, (0, 1) for scaled images.",
    )


def check_inputs(x, y, input_range: tuple[float, float], caller: str):
    """`x` as float32 inside `input_range` and `y` as int32 labels, one per sample."""
    x = np.asarray(x)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number) or x.ndim < 2 or not len(x):
        raise invalid_value(
            caller,
            "x as a numeric batch of samples, shape (num_samples, ...)",
            f"x.shape={x.shape}, dtype={x.dtype}",
            "For one sample pass x[None].",
        )
    x = x.astype("float32")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise invalid_value(
            caller,
            "y as integer class labels of shape (num_samples,)",
            f"y.shape={y.shape}, dtype={y.dtype}",
            "They look one-hot: pass y.argmax(axis=-1)." if y.ndim == 2 else "",
        )
    if len(y) != len(x):
        raise invalid_value(
            caller,
            "one label per sample",
            f"len(x)={len(x)} and len(y)={len(y)}",
            "Pass the labels of the same samples, in the same order.",
        )
    if y.min() < 0:
        raise invalid_value(caller, "class labels >= 0", f"min(y)={y.min()}")
    low, high = input_range
    check_finite(caller, "x", x)
    slack = 1e-6 * (high - low)
    if x.min() < low - slack or x.max() > high + slack:
        raise invalid_value(
            caller,
            f"inputs inside input_range={(low, high)}",
            f"x has values in [{x.min():g}, {x.max():g}]",
            "Pass the range of the raw inputs the model takes, "
            f"e.g. input_range=(0, {float(x.max()):g}).",
        )
    return x, y.astype("int32")
