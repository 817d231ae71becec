"""`StepDecay`: drop the learning rate by a constant factor every `step_size` steps."""

from __future__ import annotations

import keras

from kerasopt.core.errors import InvalidValueError


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
        if not initial_learning_rate > 0:
            raise InvalidValueError(
                f"StepDecay requires initial_learning_rate > 0, got {initial_learning_rate=}. "
                "Pass a positive learning rate such as 0.1."
            )
        if not 0 < drop_rate <= 1:
            raise InvalidValueError(
                f"StepDecay requires 0 < drop_rate <= 1, got {drop_rate=}. "
                "Pass the factor to multiply by at each drop, e.g. 0.5 to halve it."
            )
        if not step_size > 0:
            raise InvalidValueError(
                f"StepDecay requires step_size > 0, got {step_size=}. Pass the number of "
                "batches between drops, e.g. epochs_drop * steps_per_epoch."
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
