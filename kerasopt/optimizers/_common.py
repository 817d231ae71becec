"""Argument checks and numerics shared by the kerasopt optimizers."""

import math
import numbers

from keras import ops

from kerasopt.core.errors import InvalidTypeError, InvalidValueError


def check_number(owner, name, value):
    """Raises TypeError unless `value` is a real number (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(
            f"{owner} requires `{name}` to be a float, got {name}={value!r} "
            f"({type(value).__name__}). Pass a plain Python number."
        )
    return float(value)


def check_beta(owner, name, value):
    """Checks a decay rate lies in [0, 1), the range where moment estimates converge."""
    value = check_number(owner, name, value)
    if not 0.0 <= value < 1.0:
        raise InvalidValueError(
            f"{owner} requires 0 <= {name} < 1, got {name}={value!r}. "
            "Use a decay rate such as 0.9 or 0.999."
        )
    return value


def check_positive(owner, name, value, *, allow_zero=False):
    """Checks `value > 0` (or `>= 0` when `allow_zero`)."""
    value = check_number(owner, name, value)
    if value < 0.0 or (value == 0.0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidValueError(
            f"{owner} requires {name} {bound}, got {name}={value!r}. Pass a value {bound}."
        )
    return value


def one_minus_power(beta, step):
    """Returns `1 - beta**step` for a float tensor `step`.

    Written as `-expm1(step * log(beta))` because in float32 `1 - beta**step` loses about
    four digits when beta is close to 1 (e.g. 0.999), which RAdam's rho_t amplifies.
    """
    if beta == 0.0:
        return ops.ones_like(step)
    return -ops.expm1(step * math.log(beta))
