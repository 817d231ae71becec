"""Numerics shared by the kerasopt optimizers."""

import math

from keras import ops


def one_minus_power(beta, step):
    """Returns `1 - beta**step` for a float tensor `step`.

    Written as `-expm1(step * log(beta))` because in float32 `1 - beta**step` loses about
    four digits when beta is close to 1 (e.g. 0.999), which RAdam's rho_t amplifies.
    """
    if beta == 0.0:
        return ops.ones_like(step)
    return -ops.expm1(step * math.log(beta))
