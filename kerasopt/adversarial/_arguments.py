"""Argument checks shared by the attacks, `robustness_curve` and `AdversarialModel`."""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasopt.core.errors import InvalidValueError

ATTACKS = ("fgsm", "pgd")


def _is_real(value) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def check_fraction(value, caller: str, name: str = "epsilon") -> float:
    """`value` as a float in [0, 1] (a fraction of the input range), or a clear error."""
    if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
        raise InvalidValueError(
            f"{caller} expects {name} as a fraction of the input range, in [0, 1]. "
            f"Received: {name}={value!r}. For a budget of 8 pixel levels on [0, 255] "
            f"pixels pass {name}=8/255 with input_range=(0, 255)."
        )
    return float(value)


def check_input_range(input_range, caller: str) -> tuple[float, float]:
    """`input_range` as `(low, high)` floats with `low < high`, or a clear error."""
    try:
        low, high = input_range
    except (TypeError, ValueError):
        low = high = None
    if not (_is_real(low) and _is_real(high) and float(low) < float(high)):
        raise InvalidValueError(
            f"{caller} expects input_range=(low, high) with low < high, the range of the "
            f"raw inputs the model takes. Received: input_range={input_range!r}. Use "
            "(0, 16) for digits, (0, 255) for MNIST pixels, (0, 1) for scaled images."
        )
    return float(low), float(high)


def check_steps(steps, caller: str, name: str = "steps") -> int:
    """`steps` as an int >= 1, or a clear error."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise InvalidValueError(
            f"{caller} expects {name} as an integer >= 1. Received: {name}={steps!r}."
        )
    return int(steps)


def check_attack(attack, caller: str) -> str:
    """`attack` as one of `ATTACKS`, or a clear error."""
    if attack not in ATTACKS:
        raise InvalidValueError(
            f"{caller} expects attack to be one of {list(ATTACKS)}. Received: attack={attack!r}."
        )
    return attack


def check_inputs(x, y, input_range: tuple[float, float], caller: str):
    """`x` as float32 inside `input_range` and `y` as int32 labels, one per sample."""
    x = np.asarray(x)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number) or x.ndim < 2 or not len(x):
        raise InvalidValueError(
            f"{caller} expects x as a numeric batch of samples, shape (num_samples, ...). "
            f"Received: x.shape={x.shape}, dtype={x.dtype}. For one sample pass x[None]."
        )
    x = x.astype("float32")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        hint = " They look one-hot: pass y.argmax(axis=-1)." if y.ndim == 2 else ""
        raise InvalidValueError(
            f"{caller} expects y as integer class labels of shape (num_samples,). Received: "
            f"y.shape={y.shape}, dtype={y.dtype}.{hint}"
        )
    if len(y) != len(x):
        raise InvalidValueError(
            f"{caller} expects one label per sample. Received: len(x)={len(x)} and "
            f"len(y)={len(y)}. Pass the labels of the same samples, in the same order."
        )
    if y.min() < 0:
        raise InvalidValueError(f"{caller} expects class labels >= 0. Received: min(y)={y.min()}.")
    low, high = input_range
    if not np.all(np.isfinite(x)):
        raise InvalidValueError(
            f"{caller} expects finite inputs. Received: NaN or inf values in x."
        )
    slack = 1e-6 * (high - low)
    if x.min() < low - slack or x.max() > high + slack:
        raise InvalidValueError(
            f"{caller} got inputs outside input_range={(low, high)}: x has values in "
            f"[{x.min():g}, {x.max():g}]. Pass the range of the raw inputs the model takes, "
            f"e.g. input_range=(0, {float(x.max()):g})."
        )
    return x, y.astype("int32")
