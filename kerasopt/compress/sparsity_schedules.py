"""Sparsity schedules: which fraction of a kernel is zero at a step, and when masks update.

`ConstantSparsity` and `PolynomialSparsity` follow TF-MOT's `ConstantSparsity` and
`PolynomialDecay` formulas, but are plain Python objects (the pruning callback runs
between compiled steps, so no tensors are needed), registered with Keras and
round-tripping through `get_config` / `from_config`.
"""

from __future__ import annotations

import numbers

import keras

from kerasopt.core.errors import InvalidValueError


def _check_int(owner: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidValueError(
            f"{owner} requires {name} to be an int >= {minimum}, got {name}={value!r}. "
            f"Pass a step count such as {max(minimum, 100)}."
        )
    return int(value)


def _check_sparsity(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise InvalidValueError(
            f"{owner} requires 0 <= {name} < 1 (the fraction of kernel weights set to "
            f"zero), got {name}={value!r}. Pass e.g. {name}=0.8 for 80 % zeros."
        )
    return float(value)


class PruningSchedule:
    """Base class of sparsity schedules: the target sparsity and update steps.

    A schedule maps an optimizer step to the fraction of each kernel that should be zero
    (`schedule(step)`) and says whether the pruning masks are recomputed before that step
    (`schedule.should_update(step)`): at `begin_step`, every `frequency` steps after it,
    and at `end_step`. Unlike TF-MOT, `end_step` is always an update step, so the final
    sparsity is reached even when `end_step - begin_step` is not a multiple of
    `frequency`.

    Args:
        begin_step: First step at which masks update. Defaults to `0`.
        end_step: Last step at which masks update; `None` updates forever. Defaults to
            `None`.
        frequency: Steps between mask updates. Defaults to `100`.

    Example:

    >>> from kerasopt.compress.sparsity_schedules import ConstantSparsity
    >>> schedule = ConstantSparsity(0.5, begin_step=10, frequency=5)
    >>> [s for s in range(25) if schedule.should_update(s)]
    [10, 15, 20]
    """

    def __init__(self, begin_step: int = 0, end_step: int | None = None, frequency: int = 100):
        owner = type(self).__name__
        self.begin_step = _check_int(owner, "begin_step", begin_step, 0)
        self.frequency = _check_int(owner, "frequency", frequency, 1)
        if end_step is not None:
            end_step = _check_int(owner, "end_step", end_step, 0)
            if end_step < self.begin_step:
                raise InvalidValueError(
                    f"{owner} requires end_step >= begin_step, got {end_step=} with "
                    f"begin_step={self.begin_step}. Pass a later end_step, or None to keep "
                    "updating masks until training stops."
                )
        self.end_step = end_step

    def should_update(self, step: int) -> bool:
        """Whether the masks are recomputed before optimizer step `step`."""
        step = int(step)
        if step < self.begin_step or (self.end_step is not None and step > self.end_step):
            return False
        return step == self.end_step or (step - self.begin_step) % self.frequency == 0

    def __call__(self, step: int) -> float:
        """The sparsity (fraction of zeros) the masks aim for at optimizer step `step`."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step).")

    def get_config(self) -> dict:
        return {
            "begin_step": self.begin_step,
            "end_step": self.end_step,
            "frequency": self.frequency,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


@keras.saving.register_keras_serializable(package="kerasopt")
class ConstantSparsity(PruningSchedule):
    """The same target sparsity at every update step, as TF-MOT's `ConstantSparsity`.

    `sparsity(step) = target_sparsity`. Masks are recomputed at `begin_step` and every
    `frequency` steps after it (until `end_step` when given); since pruned weights are
    already zero, later updates only re-select among the surviving weights.

    Args:
        target_sparsity: Fraction of each kernel set to zero, in [0, 1).
        begin_step: First step at which masks update. Defaults to `0`.
        end_step: Last step at which masks update; `None` updates forever. Defaults to
            `None`.
        frequency: Steps between mask updates. Defaults to `100`.

    Example:

    >>> from kerasopt.compress.sparsity_schedules import ConstantSparsity
    >>> schedule = ConstantSparsity(0.8, begin_step=0, frequency=50)
    >>> schedule(120), schedule.should_update(100)
    (0.8, True)
    """

    def __init__(
        self,
        target_sparsity: float,
        begin_step: int = 0,
        end_step: int | None = None,
        frequency: int = 100,
    ):
        self.target_sparsity = _check_sparsity(
            "ConstantSparsity", "target_sparsity", target_sparsity
        )
        super().__init__(begin_step=begin_step, end_step=end_step, frequency=frequency)

    def __call__(self, step: int) -> float:
        return self.target_sparsity

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"target_sparsity": self.target_sparsity})
        return config


@keras.saving.register_keras_serializable(package="kerasopt")
class PolynomialSparsity(PruningSchedule):
    """Sparsity rising from `initial_sparsity` to `target_sparsity`, as TF-MOT's `PolynomialDecay`.

    With `p = clip((step - begin_step) / (end_step - begin_step), 0, 1)`:
    `sparsity(step) = target + (initial - target) * (1 - p) ** power`. A cubic rise
    (`power=3`) prunes fast while many redundant weights remain and slowly near the
    target (Zhu & Gupta, 2017, https://arxiv.org/abs/1710.01878). Masks update at
    `begin_step`, every `frequency` steps, and at `end_step`.

    Args:
        initial_sparsity: Sparsity at `begin_step`, in [0, 1).
        target_sparsity: Sparsity from `end_step` on, in [0, 1).
        begin_step: Step at which pruning starts.
        end_step: Step at which `target_sparsity` is reached; must exceed `begin_step`.
        power: Exponent of the polynomial. Defaults to `3.0`.
        frequency: Steps between mask updates. Defaults to `100`.

    Example:

    >>> from kerasopt.compress.sparsity_schedules import PolynomialSparsity
    >>> schedule = PolynomialSparsity(0.0, 0.8, begin_step=0, end_step=100, frequency=10)
    >>> round(schedule(50), 4)
    0.7
    """

    def __init__(
        self,
        initial_sparsity: float,
        target_sparsity: float,
        begin_step: int,
        end_step: int,
        power: float = 3.0,
        frequency: int = 100,
    ):
        owner = "PolynomialSparsity"
        self.initial_sparsity = _check_sparsity(owner, "initial_sparsity", initial_sparsity)
        self.target_sparsity = _check_sparsity(owner, "target_sparsity", target_sparsity)
        if isinstance(power, bool) or not isinstance(power, numbers.Real) or power <= 0:
            raise InvalidValueError(
                f"{owner} requires power > 0, got {power=}. Pass e.g. power=3 (TF-MOT's "
                "default) or power=1 for a linear rise."
            )
        self.power = float(power)
        if end_step is None:
            raise InvalidValueError(
                f"{owner} requires an end_step (the step at which target_sparsity is "
                "reached), got end_step=None. Pass e.g. end_step=0.5 * total_steps, or use "
                "ConstantSparsity for an open-ended schedule."
            )
        super().__init__(begin_step=begin_step, end_step=end_step, frequency=frequency)
        if self.end_step == self.begin_step:
            raise InvalidValueError(
                f"{owner} requires end_step > begin_step, got end_step={self.end_step} and "
                f"begin_step={self.begin_step}. Pass a later end_step, or use "
                "ConstantSparsity to prune all at once."
            )

    def __call__(self, step: int) -> float:
        span = self.end_step - self.begin_step
        progress = min(1.0, max(0.0, (int(step) - self.begin_step) / span))
        decay = (1.0 - progress) ** self.power
        return self.target_sparsity + (self.initial_sparsity - self.target_sparsity) * decay

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "initial_sparsity": self.initial_sparsity,
                "target_sparsity": self.target_sparsity,
                "power": self.power,
            }
        )
        return config
