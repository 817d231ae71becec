"""Argument checks with one wording: who, what was expected, what was received, the fix.

Every argument error of kerasopt is written by `invalid_value` / `invalid_type`, in the
spirit of scikit-learn's `_param_validation`, so all of them read alike:

    RAdam: expected beta_1 in [0, 1). Received: beta_1=1.5. Pass a value such as beta_1=0.9.

The checks return the value (converted where their name says so: `check_int` gives an
`int`, `check_float` a `float`) and raise `InvalidValueError` / `InvalidTypeError`, which
are also `ValueError` / `TypeError`. Bools are never accepted as numbers; a number of the
wrong type raises `InvalidNumberError`, both a `TypeError` and a `ValueError`.

Example:

>>> from kerasopt.core.validation import check_float
>>> check_float("RAdam", "beta_1", 0.9, 0, 1, closed="left")
0.9
>>> check_float("RAdam", "beta_1", 1.5, 0, 1, closed="left", example=0.9)
Traceback (most recent call last):
...
kerasopt.core.errors.InvalidValueError: RAdam: expected beta_1 in [0, 1). Received: \
beta_1=1.5. Pass a value such as beta_1=0.9.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from kerasopt.core.errors import InvalidNumberError, InvalidTypeError, InvalidValueError
from kerasopt.core.suggestions import did_you_mean

_CLOSED = ("both", "left", "right", "neither")


def message(owner: str, expected: str, received: str, fix: str = "") -> str:
    """The one wording: `"{owner}: expected {expected}. Received: {received}. {fix}"`."""
    text = f"{owner}: expected {expected}. Received: {received}."
    return f"{text} {fix.strip()}" if fix.strip() else text


def invalid_value(owner: str, expected: str, received: str, fix: str = "") -> InvalidValueError:
    """An `InvalidValueError` in the common wording, for checks this module does not cover.

    Example:

    >>> raise invalid_value("fgsm", "x as a batch", "x.shape=(3,)", "Pass x[None].")
    Traceback (most recent call last):
    ...
    kerasopt.core.errors.InvalidValueError: fgsm: expected x as a batch. Received: \
x.shape=(3,). Pass x[None].
    """
    return InvalidValueError(message(owner, expected, received, fix))


def invalid_type(owner: str, expected: str, received: str, fix: str = "") -> InvalidTypeError:
    """An `InvalidTypeError` in the common wording."""
    return InvalidTypeError(message(owner, expected, received, fix))


def _is_number(value, integer: bool) -> bool:
    kind = numbers.Integral if integer else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def _bound(value) -> str:
    """`1.0` as `1`, `0.001` as `0.001`: bounds read as a person writes them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interval_text(name: str, low=None, high=None, closed: str = "both") -> str:
    """`"beta_1 in [0, 1)"`, `"epochs >= 1"`, `"gamma > 0"` or `"a value for gamma"`."""
    if closed not in _CLOSED:
        raise InvalidValueError(message("interval_text", f"closed in {_CLOSED}", f"{closed=}"))
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    if low is not None and high is not None:
        bounds = f"{_bound(low)}, {_bound(high)}"
        return f"{name} in {'[' if left else '('}{bounds}{']' if right else ')'}"
    if low is not None:
        return f"{name} {'>=' if left else '>'} {_bound(low)}"
    if high is not None:
        return f"{name} {'<=' if right else '<'} {_bound(high)}"
    return name


def _example(low, high, closed: str, integer: bool):
    """A value inside the interval, for the fix sentence."""
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    if low is not None and high is not None:
        return (low if left else low + 1) if integer else (low + high) / 2
    if low is not None:
        value = low if left else low + 1
        return max(value, 1) if integer or value == 0 else value
    if high is not None:
        return high if right else high - 1
    return 1 if integer else 1.0


def check_number(
    owner: str,
    name: str,
    value,
    low=None,
    high=None,
    *,
    closed: str = "both",
    integer: bool = False,
    example=None,
    fix: str | None = None,
):
    """Returns `value` unchanged if it is a number (an int when `integer`) in the interval.

    Args:
        owner: Who checks: the class, function or layer name shown first in the message.
        name: The argument's name.
        value: What the caller passed.
        low: Lower bound, or `None` for none. Defaults to `None`.
        high: Upper bound, or `None` for none. Defaults to `None`.
        closed: Which bounds are included: `"both"`, `"left"`, `"right"` or `"neither"`.
            Defaults to `"both"`.
        integer: Accept integers only. Defaults to `False`.
        example: The value the fix suggests. Defaults to one inside the interval.
        fix: The whole fix sentence, replacing the suggested value. Defaults to `None`.

    Example:

    >>> check_number("RandAugment", "num_ops", 2, 1, integer=True)
    2
    """
    if example is None:
        example = _example(low, high, closed, integer)
    advice = fix if fix is not None else f"Pass a value such as {name}={example!r}."
    if not _is_number(value, integer):
        expected = f"{name} to be {'an integer' if integer else 'a number'}"
        received = f"{name}={value!r} ({type(value).__name__})"
        raise InvalidNumberError(message(owner, expected, received, advice))
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    below = low is not None and (value < low if left else value <= low)
    above = high is not None and (value > high if right else value >= high)
    if below or above or (not integer and math.isnan(value)):
        expected = interval_text(name, low, high, closed)
        if integer and high is None and low is not None:
            expected = f"{name} to be an integer {'>=' if left else '>'} {_bound(low)}"
        raise invalid_value(owner, expected, f"{name}={value!r}", advice)
    return value


def check_int(owner: str, name: str, value, low=None, high=None, **kwargs) -> int:
    """`value` as an `int` in `[low, high]` (see `check_number` for the keywords).

    Example:

    >>> check_int("GradientNormLogger", "every_n_steps", 10, 1)
    10
    """
    return int(check_number(owner, name, value, low, high, integer=True, **kwargs))


def check_positive_int(owner: str, name: str, value, **kwargs) -> int:
    """`value` as an `int >= 1`.

    Example:

    >>> check_positive_int("calibration_report", "bins", 10)
    10
    """
    return check_int(owner, name, value, 1, **kwargs)


def check_float(owner: str, name: str, value, low=None, high=None, **kwargs) -> float:
    """`value` as a `float` in the interval (see `check_number` for the keywords).

    Example:

    >>> check_float("AdaBound", "gamma", 1e-3, 0, closed="neither")
    0.001
    """
    return float(check_number(owner, name, value, low, high, **kwargs))


def check_fraction(owner: str, name: str, value, *, closed: str = "both", **kwargs) -> float:
    """`value` as a `float` in `[0, 1]` (or the interval `closed` says).

    Example:

    >>> check_fraction("RandomErasing", "rate", 0.5)
    0.5
    """
    return check_float(owner, name, value, 0, 1, closed=closed, **kwargs)


def check_validation_split(owner: str, data) -> None:
    """Refuses `data` without `x_val` and `y_val` (a `DatasetSplits` has them).

    Example:

    >>> check_validation_split("analyze_sensitivity", load_dataset("digits"))  # doctest: +SKIP
    """
    if getattr(data, "x_val", None) is None or getattr(data, "y_val", None) is None:
        raise invalid_value(
            owner,
            "data with x_val and y_val",
            f"{type(data).__name__} without them",
            "Pass kerasopt.data.load_dataset(...).",
        )


def check_option(owner: str, name: str, value, options: Iterable, *, fix: str | None = None):
    """Returns `value` if it is one of `options`; raises with a "did you mean" if not.

    Example:

    >>> check_option("RandomFlip", "mode", "vertical", ("horizontal", "vertical"))
    'vertical'
    """
    options = tuple(options)
    try:
        found = value in options
    except TypeError:  # an unhashable value against a set-like container
        found = False
    if not found:
        listed = ", ".join(repr(option) for option in options)
        hint = did_you_mean(value, options).strip()
        raise invalid_value(
            owner,
            f"{name} to be one of {listed}",
            f"{name}={value!r}",
            fix if fix is not None else (hint or f"Pass one of them, e.g. {name}={options[0]!r}."),
        )
    return value


def check_type(owner: str, name: str, value, types, *, expected: str, fix: str = ""):
    """Returns `value` if it is an instance of `types` (bools are not numbers).

    Example:

    >>> check_type("SmoothedSparseCategoricalCrossentropy", "from_logits", True, bool,
    ...            expected="a bool")
    True
    """
    wants_bool = types is bool or (isinstance(types, tuple) and bool in types)
    if not isinstance(value, types) or (isinstance(value, bool) and not wants_bool):
        raise invalid_type(
            owner,
            f"{name} to be {expected}",
            f"{name}={value!r} ({type(value).__name__})",
            fix,
        )
    return value


def check_range(owner: str, name: str, value, *, fix: str = "") -> tuple[float, float]:
    """`value` as `(low, high)` finite floats with `low < high`.

    Example:

    >>> check_range("GaussianNoise", "value_range", (0, 255))
    (0.0, 255.0)
    """
    try:
        low, high = value
    except (TypeError, ValueError):
        low = high = None
    if not (
        isinstance(value, (tuple, list))
        and all(_is_number(v, False) and math.isfinite(v) for v in (low, high))
        and low < high
    ):
        raise invalid_value(owner, f"{name}=(low, high) with low < high", f"{name}={value!r}", fix)
    return float(low), float(high)


def check_finite(owner: str, name: str, array, *, fix: str = "") -> np.ndarray:
    """`array` as a NumPy array if none of its values is NaN or infinite.

    Example:

    >>> check_finite("fgsm", "x", [0.0, 1.0])
    array([0., 1.])
    """
    array = np.asarray(array)
    if array.dtype.kind in "fc":
        bad = ~np.isfinite(array)
        if bad.any():
            raise invalid_value(
                owner, f"finite values in {name}", f"{int(bad.sum())} NaN or infinite values", fix
            )
    return array


def check_seed(owner: str, seed) -> int | None:
    """`seed` as an int in `[0, 2**31 - 1]`, or `None`.

    Example:

    >>> check_seed("RandomFlip", 3)
    3
    """
    if seed is None:
        return None
    return check_int(owner, "seed", seed, 0, 2**31 - 1, example=0)
