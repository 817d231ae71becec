"""`StepDecay`: drop the learning rate by a constant factor every `step_size` steps."""

from __future__ import annotations

import keras

from kerasopt.core.validation import check_number


@keras.saving.register_keras_serializable(package="kerasopt")
class StepDecay(keras.optimizers.schedules.ExponentialDecay):
    """Learning rate multiplied by `drop_rate` every `step_size` steps.

    `lr(t) = initial_learning_rate * drop_rate ** floor(t / step_size)`, the classic "halve the
    learning rate every 10 epochs". Optimizers count batches, not epochs, so pass
    `step_size=epochs_drop * steps_per_epoch`. The math is Keras' `ExponentialDecay` with
    `staircase=True`, which this class reuses; it only adds the familiar argument names and
    argument checks.

    Args:
        initial_learning_rate: Learning rate at step 0.
        drop_rate: Factor applied at each drop, in `(0, 1]`.
        step_size: Number of steps (batches) between two drops.

    Example:

    >>> import keras
    >>> from kerasopt.schedules import StepDecay
    >>> schedule = StepDecay(0.1, drop_rate=0.5, step_size=100)
    >>> round(float(schedule(250)), 6)
    0.025
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule)
    """

    def __init__(self, initial_learning_rate: float, drop_rate: float, step_size: int):
        check_number(
            "StepDecay",
            "initial_learning_rate",
            initial_learning_rate,
            0,
            closed="neither",
            example=0.1,
        )
        check_number(
            "StepDecay",
            "drop_rate",
            drop_rate,
            0,
            1,
            closed="right",
            fix="Pass the factor to multiply by at each drop, e.g. drop_rate=0.5 to halve it.",
        )
        check_number(
            "StepDecay",
            "step_size",
            step_size,
            0,
            closed="neither",
            fix="Pass the number of batches between drops, e.g. epochs_drop * steps_per_epoch.",
        )
        super().__init__(
            float(initial_learning_rate),
            decay_steps=step_size,
            decay_rate=float(drop_rate),
            staircase=True,
            name="StepDecay",
        )

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "drop_rate": self.decay_rate,
            "step_size": self.decay_steps,
        }
