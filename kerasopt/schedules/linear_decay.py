"""`LinearDecay`: straight line from the initial to the final learning rate."""

from __future__ import annotations

import keras

from kerasopt.core.errors import InvalidValueError


@keras.saving.register_keras_serializable(package="kerasopt")
class LinearDecay(keras.optimizers.schedules.PolynomialDecay):
    """Learning rate falling linearly to `end_learning_rate`, then held there.

    `lr(t) = end + (initial - end) * (1 - min(t, decay_steps) / decay_steps)`. This is exactly
    Keras' `PolynomialDecay(power=1.0, cycle=False)`: the class only fixes those two arguments
    (and defaults `end_learning_rate` to 0 rather than Keras' 1e-4) so the intent reads at the
    call site and the schedule saves under its own name. All math is Keras'.

    Args:
        initial_learning_rate: Learning rate at step 0.
        decay_steps: Step at which `end_learning_rate` is reached.
        end_learning_rate: Learning rate from `decay_steps` on. Defaults to `0.0`.

    Example:

    >>> import keras
    >>> from kerasopt.schedules import LinearDecay
    >>> schedule = LinearDecay(0.1, decay_steps=1000)
    >>> round(float(schedule(250)), 6)
    0.075
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule)
    """

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0
    ):
        if not initial_learning_rate > 0:
            raise InvalidValueError(
                f"LinearDecay requires initial_learning_rate > 0, got {initial_learning_rate=}. "
                "Pass a positive learning rate such as 0.1."
            )
        if not decay_steps > 0:
            raise InvalidValueError(
                f"LinearDecay requires decay_steps > 0, got {decay_steps=}. "
                "Pass the number of batches to decay over, e.g. epochs * steps_per_epoch."
            )
        if not 0 <= end_learning_rate <= initial_learning_rate:
            raise InvalidValueError(
                "LinearDecay requires 0 <= end_learning_rate <= initial_learning_rate, got "
                f"{end_learning_rate=} with {initial_learning_rate=}. Pass a smaller "
                "end_learning_rate (0 decays all the way)."
            )
        super().__init__(
            float(initial_learning_rate),
            decay_steps=decay_steps,
            end_learning_rate=float(end_learning_rate),
            power=1.0,
            cycle=False,
            name="LinearDecay",
        )

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
        }
