"""`LinearDecay`: straight line from the initial to the final learning rate."""

from __future__ import annotations

import keras

from kerasopt.core.validation import check_number


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
        check_number(
            "LinearDecay",
            "initial_learning_rate",
            initial_learning_rate,
            0,
            closed="neither",
            example=0.1,
        )
        check_number(
            "LinearDecay",
            "decay_steps",
            decay_steps,
            0,
            closed="neither",
            fix="Pass the number of batches to decay over, e.g. epochs * steps_per_epoch.",
        )
        check_number(
            "LinearDecay",
            "end_learning_rate",
            end_learning_rate,
            0,
            initial_learning_rate,
            fix=f"Pass at most {initial_learning_rate=} (0 decays all the way).",
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
