"""`InverseSqrtDecay`: learning rate proportional to 1 / sqrt(step), with optional warmup."""

from __future__ import annotations

import keras
from keras import ops

from kerasopt.core.validation import check_number


@keras.saving.register_keras_serializable(package="kerasopt")
class InverseSqrtDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Inverse square-root decay, as used to train Transformers.

    With `w = warmup_steps`:

        lr(t) = initial_learning_rate * min((1 + t) / (1 + w), sqrt((1 + w) / (1 + t)))

    With no warmup (`w = 0`) this is `initial_learning_rate * (1 + t) ** -0.5`. With warmup
    the rate rises linearly to `initial_learning_rate`, reached at step `w`, then decays as
    `1 / sqrt(t)`; both pieces meet at `t = w`, so there is no jump.

    Args:
        initial_learning_rate: Learning rate at step 0 without warmup, or the peak reached at
            `warmup_steps` with warmup.
        warmup_steps: Steps of linear warmup. Defaults to `0`.

    Example:

    >>> import keras
    >>> from kerasopt.schedules import InverseSqrtDecay
    >>> schedule = InverseSqrtDecay(0.01)
    >>> round(float(schedule(3)), 6)
    0.005
    >>> optimizer = keras.optimizers.Adam(learning_rate=InverseSqrtDecay(1e-3, warmup_steps=100))
    """

    def __init__(self, initial_learning_rate: float, warmup_steps: int = 0):
        check_number(
            "InverseSqrtDecay",
            "initial_learning_rate",
            initial_learning_rate,
            0,
            closed="neither",
            example=0.001,
        )
        check_number(
            "InverseSqrtDecay",
            "warmup_steps",
            warmup_steps,
            0,
            closed="left",
            fix="Pass 0 for no warmup or a positive number of batches.",
        )
        self.initial_learning_rate = initial_learning_rate
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        t = ops.cast(step, "float32") + 1.0
        w = float(self.warmup_steps) + 1.0
        return float(self.initial_learning_rate) * ops.minimum(t / w, ops.sqrt(w / t))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "warmup_steps": self.warmup_steps,
        }
