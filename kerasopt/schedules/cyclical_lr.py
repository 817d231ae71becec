"""`CyclicalLR`: Smith's cyclical learning rates (triangular, triangular2, exp_range)."""

from __future__ import annotations

import keras
from keras import ops

from kerasopt.core.validation import check_number, check_option

_MODES = ("triangular", "triangular2", "exp_range")


@keras.saving.register_keras_serializable(package="kerasopt")
class CyclicalLR(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate bouncing between two bounds in triangles (Smith, 2017, arXiv:1506.01186).

    The formulas of the paper and its reference implementation:

        cycle = floor(1 + t / (2 * step_size))
        x = |t / step_size - 2 * cycle + 1|
        lr(t) = base + (max - base) * max(0, 1 - x) * scale(t)

    where `scale` is 1 for `"triangular"`, `1 / 2 ** (cycle - 1)` for `"triangular2"` (the
    amplitude halves every cycle) and `gamma ** t` for `"exp_range"`. One full cycle is
    `2 * step_size` steps; the paper recommends `step_size` of 2 to 10 epochs of batches.

    Args:
        base_learning_rate: Lower bound, the rate at step 0.
        max_learning_rate: Upper bound, reached at `step_size` (in the first cycle).
        step_size: Steps (batches) in half a cycle.
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`. Defaults to `"triangular"`.
        gamma: Per-step decay of the amplitude in `"exp_range"` mode, in `(0, 1]`.
            Defaults to `1.0`.

    Example:

    >>> import keras
    >>> from kerasopt.schedules import CyclicalLR
    >>> schedule = CyclicalLR(1e-4, 1e-2, step_size=2000, mode="triangular2")
    >>> round(float(schedule(2000)), 6)
    0.01
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    """

    def __init__(
        self,
        base_learning_rate: float,
        max_learning_rate: float,
        step_size: int,
        mode: str = "triangular",
        gamma: float = 1.0,
    ):
        check_number("CyclicalLR", "max_learning_rate", max_learning_rate, 0, closed="neither")
        check_number(
            "CyclicalLR",
            "base_learning_rate",
            base_learning_rate,
            0,
            max_learning_rate,
            closed="left",
            fix=f"Pass the lower bound first, below {max_learning_rate=}.",
        )
        check_number(
            "CyclicalLR",
            "step_size",
            step_size,
            0,
            closed="neither",
            fix="Pass half a cycle in batches, e.g. 4 * steps_per_epoch.",
        )
        check_option("CyclicalLR", "mode", mode, _MODES)
        check_number(
            "CyclicalLR",
            "gamma",
            gamma,
            0,
            1,
            closed="right",
            fix="Pass a per-step decay close to 1, e.g. gamma=0.99994.",
        )
        self.base_learning_rate = base_learning_rate
        self.max_learning_rate = max_learning_rate
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma

    def __call__(self, step):
        t = ops.cast(step, "float32")
        half = float(self.step_size)
        cycle = ops.floor(1.0 + t / (2.0 * half))
        x = ops.abs(t / half - 2.0 * cycle + 1.0)
        if self.mode == "triangular2":
            scale = 1.0 / ops.power(2.0, cycle - 1.0)
        elif self.mode == "exp_range":
            scale = ops.power(float(self.gamma), t)
        else:
            scale = 1.0
        amplitude = float(self.max_learning_rate) - float(self.base_learning_rate)
        return float(self.base_learning_rate) + amplitude * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self) -> dict:
        return {
            "base_learning_rate": self.base_learning_rate,
            "max_learning_rate": self.max_learning_rate,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
        }
