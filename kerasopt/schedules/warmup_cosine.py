"""`WarmupCosine`: linear warmup, an optional hold, then cosine annealing (with restarts)."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasopt.core.validation import check_number


@keras.saving.register_keras_serializable(package="kerasopt")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to a peak, then `cycles` cosine decays from the peak to a floor.

    With `w = warmup_steps`, `h = hold_steps`, `lo = min_learning_rate`,
    `hi = peak_learning_rate` and `period = (total_steps - w - h) / cycles`:

        t < w:          lr(t) = lo + (hi - lo) * t / w
        w <= t < w + h: lr(t) = hi
        t >= w + h:     lr(t) = lo + (hi - lo) * (1 + cos(pi * f)) / 2,
                        f = frac((t - w - h) / period), or 1 once t >= total_steps

    With `cycles=1` this is Keras' `CosineDecay` with `warmup_target`. With `cycles > 1` the
    rate jumps back to the peak at the start of each equal-length cycle (SGDR-style warm
    restarts, without SGDR's growing periods), and all cycles fit inside `total_steps`.
    After `total_steps` the rate stays at `min_learning_rate`.

    Args:
        peak_learning_rate: Learning rate at the end of warmup and at each restart.
        total_steps: Steps (batches) of the whole schedule, warmup included.
        warmup_steps: Steps of linear warmup from `min_learning_rate`; 0 starts at the peak.
        min_learning_rate: Floor of each cosine cycle and start of warmup. Defaults to `0.0`.
        cycles: Number of cosine cycles after warmup. Defaults to `1`.
        hold_steps: Steps held at the peak between warmup and the first decay (a
            pruning ramp runs there, in `kerasopt.compress`). Defaults to `0`.

    Example:

    >>> import keras
    >>> from kerasopt.schedules import WarmupCosine
    >>> schedule = WarmupCosine(1e-3, total_steps=10_000, warmup_steps=500)
    >>> round(float(schedule(500)), 6)
    0.001
    >>> optimizer = keras.optimizers.AdamW(learning_rate=schedule)
    """

    def __init__(
        self,
        peak_learning_rate: float,
        total_steps: int,
        warmup_steps: int,
        min_learning_rate: float = 0.0,
        cycles: int = 1,
        hold_steps: int = 0,
    ):
        check_number(
            "WarmupCosine",
            "peak_learning_rate",
            peak_learning_rate,
            0,
            closed="neither",
            example=0.001,
        )
        check_number(
            "WarmupCosine",
            "total_steps",
            total_steps,
            0,
            closed="neither",
            fix="Pass epochs * steps_per_epoch.",
        )
        check_number(
            "WarmupCosine",
            "warmup_steps",
            warmup_steps,
            0,
            total_steps,
            closed="left",
            fix=f"Pass fewer warmup steps than {total_steps=} (often 1-10% of it).",
        )
        check_number(
            "WarmupCosine",
            "min_learning_rate",
            min_learning_rate,
            0,
            peak_learning_rate,
            fix=f"Pass a floor below {peak_learning_rate=}.",
        )
        check_number(
            "WarmupCosine",
            "cycles",
            cycles,
            1,
            integer=True,
            fix="Pass 1 for a single decay or the number of warm restarts plus one.",
        )
        check_number(
            "WarmupCosine",
            "hold_steps",
            hold_steps,
            0,
            total_steps - warmup_steps,
            closed="left",
            integer=True,
            fix=f"Pass fewer hold steps than total_steps - warmup_steps = "
            f"{total_steps - warmup_steps}.",
        )
        self.peak_learning_rate = peak_learning_rate
        self.hold_steps = hold_steps
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.min_learning_rate = min_learning_rate
        self.cycles = cycles

    def __call__(self, step):
        t = ops.cast(step, "float32")
        lo, hi = float(self.min_learning_rate), float(self.peak_learning_rate)
        w = float(self.warmup_steps)
        warm = lo + (hi - lo) * t / max(w, 1.0)
        start = w + float(self.hold_steps)
        # Multiply before dividing so restart steps land on exact integers in float32.
        progress = ops.maximum(t - start, 0.0) * self.cycles / (self.total_steps - start)
        # Without this, the last step would count as the start of one more cycle.
        frac = ops.where(progress >= self.cycles, 1.0, progress - ops.floor(progress))
        cosine = lo + (hi - lo) * 0.5 * (1.0 + ops.cos(math.pi * frac))
        return ops.where(t < w, warm, cosine)

    def get_config(self) -> dict:
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "min_learning_rate": self.min_learning_rate,
            "cycles": self.cycles,
            "hold_steps": self.hold_steps,
        }
