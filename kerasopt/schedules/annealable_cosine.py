"""`AnnealableCosine`: a held peak, then cosine decay, which a callback can cut short."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasopt.core.validation import check_number

#: `anneal_start` before any `anneal(...)` call: a step no fit reaches.
_NEVER = 2.0**40


@keras.saving.register_keras_serializable(package="kerasopt")
class AnnealableCosine(keras.optimizers.schedules.LearningRateSchedule):
    """The peak rate held for `hold_steps`, then a cosine to zero at `total_steps`.

    `anneal(step, steps)` cuts the schedule short from inside a running fit: from `step`
    on, the rate falls on a half cosine from the value it had at `step` to zero in
    `steps` steps, and stays there. The cut is held in two non-trainable variables that
    the compiled train step reads, so it takes effect at the next batch without a
    retrace. `kerasopt.compress` uses it so that a fine-tuning stage that has already
    recovered ends at a small rate instead of being stopped at its peak (see
    `BudgetStop`).

    With `a = anneal_start`, `n = anneal_steps`, `h = hold_steps`, `T = total_steps`:

        base(t) = peak                                        for t < h
                = peak * (1 + cos(pi * (t - h) / (T - h))) / 2 for h <= t < T, 0 after
        lr(t)   = base(t)                                     for t < a
                = base(a) * (1 + cos(pi * min(1, (t - a) / n))) / 2   after

    Args:
        peak_learning_rate: The rate held at the start.
        total_steps: Steps until the cosine reaches zero.
        hold_steps: Steps at the peak before the decay. Defaults to `0`.

    Example:

    >>> schedule = AnnealableCosine(1e-2, total_steps=100, hold_steps=20)
    >>> round(float(schedule(60)), 6)  # halfway down the cosine
    0.005
    >>> schedule.anneal(step=30, steps=10)
    >>> round(float(schedule(35)), 6), float(schedule(40))
    (0.00481, 0.0)
    """

    def __init__(self, peak_learning_rate: float, total_steps: int, hold_steps: int = 0):
        check_number(
            "AnnealableCosine",
            "peak_learning_rate",
            peak_learning_rate,
            0,
            closed="neither",
            example=0.01,
        )
        check_number(
            "AnnealableCosine",
            "total_steps",
            total_steps,
            0,
            closed="neither",
            integer=True,
            fix="Pass epochs * steps_per_epoch.",
        )
        check_number(
            "AnnealableCosine",
            "hold_steps",
            hold_steps,
            0,
            total_steps,
            closed="left",
            integer=True,
            fix=f"Pass fewer hold steps than {total_steps=}.",
        )
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.hold_steps = int(hold_steps)
        self.anneal_start = keras.Variable(
            _NEVER, dtype="float32", trainable=False, name="anneal_start"
        )
        self.anneal_steps = keras.Variable(
            1.0, dtype="float32", trainable=False, name="anneal_steps"
        )

    def anneal(self, step: int, steps: int) -> None:
        """From `step` on, decay from the rate at `step` to zero over `steps` steps."""
        check_number("AnnealableCosine.anneal", "step", step, 0, integer=True, example=100)
        check_number("AnnealableCosine.anneal", "steps", steps, 1, integer=True, example=80)
        self.anneal_start.assign(float(step))
        self.anneal_steps.assign(float(steps))

    def _base(self, t):
        h, total = float(self.hold_steps), float(self.total_steps)
        progress = ops.clip((t - h) / (total - h), 0.0, 1.0)
        return self.peak_learning_rate * 0.5 * (1.0 + ops.cos(math.pi * progress))

    def __call__(self, step):
        t = ops.cast(step, "float32")
        start = ops.cast(self.anneal_start, "float32")
        cut = ops.clip((t - start) / ops.cast(self.anneal_steps, "float32"), 0.0, 1.0)
        annealed = self._base(ops.minimum(t, start)) * 0.5 * (1.0 + ops.cos(math.pi * cut))
        return ops.where(t < start, self._base(t), annealed)

    def get_config(self) -> dict:
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "hold_steps": self.hold_steps,
        }
