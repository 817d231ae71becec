"""`OneCycle`: the one-cycle policy of fast.ai and PyTorch's `OneCycleLR`."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasopt.core.validation import check_number


def _cosine_anneal(start, end, pct):
    return end + (start - end) * 0.5 * (1.0 + ops.cos(math.pi * pct))


@keras.saving.register_keras_serializable(package="kerasopt")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine ramp from a low rate up to `max_learning_rate`, then cosine down to a tiny one.

    Same formula as PyTorch's `OneCycleLR(anneal_strategy="cos", three_phase=False)`. With
    `T = total_steps`, `start = max_learning_rate / div_factor`,
    `end = start / final_div_factor`, `u = pct_start * T - 1` and
    `anneal(a, b, p) = b + (a - b) * (1 + cos(pi * p)) / 2`:

        t <= u: lr(t) = anneal(start, max_learning_rate, t / u)
        t > u:  lr(t) = anneal(max_learning_rate, end, min(1, (t - u) / (T - 1 - u)))

    The rate reaches `end` at step `T - 1` and stays there (PyTorch raises instead). Momentum
    cycling, the other half of the policy, is not part of a learning-rate schedule.

    Args:
        max_learning_rate: Peak learning rate, reached at step `pct_start * total_steps - 1`.
        total_steps: Steps (batches) of the whole cycle, usually epochs * steps_per_epoch.
        pct_start: Fraction of the steps spent increasing the rate. Defaults to `0.3`.
        div_factor: Initial rate is `max_learning_rate / div_factor`. Defaults to `25.0`.
        final_div_factor: Final rate is the initial one over this. Defaults to `1e4`.

    Example:

    >>> import keras
    >>> from kerasopt.schedules import OneCycle
    >>> schedule = OneCycle(0.01, total_steps=1000)
    >>> round(float(schedule(0)), 6)
    0.0004
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    """

    def __init__(
        self,
        max_learning_rate: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
    ):
        check_number(
            "OneCycle",
            "max_learning_rate",
            max_learning_rate,
            0,
            closed="neither",
            fix="Pass a positive rate, e.g. the suggestion of kerasopt.schedules.find_lr.",
        )
        check_number(
            "OneCycle",
            "total_steps",
            total_steps,
            0,
            closed="neither",
            fix="Pass epochs * steps_per_epoch.",
        )
        check_number(
            "OneCycle",
            "pct_start",
            pct_start,
            0,
            1,
            closed="neither",
            fix="Pass the fraction of steps spent warming up, e.g. pct_start=0.3.",
        )
        check_number("OneCycle", "div_factor", div_factor, 0, closed="neither", example=25.0)
        check_number(
            "OneCycle", "final_div_factor", final_div_factor, 0, closed="neither", example=1e4
        )
        self.max_learning_rate = max_learning_rate
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor

    def __call__(self, step):
        t = ops.cast(step, "float32")
        peak = float(self.max_learning_rate)
        start = peak / self.div_factor
        end = start / self.final_div_factor
        up_end = self.pct_start * self.total_steps - 1.0
        # `where` evaluates both branches; keep the unused one finite when up_end <= 0.
        rising = _cosine_anneal(start, peak, t / max(up_end, 1e-8))
        down_pct = ops.minimum((t - up_end) / (self.total_steps - 1.0 - up_end), 1.0)
        falling = _cosine_anneal(peak, end, down_pct)
        return ops.where(t <= up_end, rising, falling)

    def get_config(self) -> dict:
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
        }
