"""`robustness_curve`: accuracy under attack as the L∞ budget grows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kerasopt.adversarial._arguments import ATTACKS, BUDGET_FIX, check_input_range, check_inputs
from kerasopt.adversarial._perturbation import accuracy, gradient_sign
from kerasopt.adversarial.pgd import pgd
from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.validation import check_fraction, check_option, check_positive_int

DEFAULT_EPSILONS = (0.0, 0.01, 0.02, 0.05, 0.1)


def robustness_curve(
    model,
    x,
    y,
    epsilons: Sequence[float] = DEFAULT_EPSILONS,
    *,
    attack: str = "fgsm",
    input_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 256,
    **attack_kwargs,
) -> list[dict]:
    """Top-1 accuracy on adversarial examples at each L∞ budget in `epsilons`.

    Each `epsilon` is a fraction of the input range, as in `fgsm` and `pgd`. At
    `epsilon=0` the inputs are untouched, so that point is the clean accuracy exactly as
    `model.predict(x, batch_size=batch_size)` gives it. For FGSM the input gradient does
    not depend on epsilon, so it is computed once and reused for every budget.

    Args:
        model: A Keras classifier returning class probabilities.
        x: Raw inputs, shape `(num_samples, ...)`, inside `input_range`.
        y: Integer labels, shape `(num_samples,)`.
        epsilons: Budgets, fractions of the input range in [0, 1]. Defaults to
            `(0.0, 0.01, 0.02, 0.05, 0.1)`.
        attack: `"fgsm"` or `"pgd"`. Defaults to `"fgsm"`.
        input_range: `(low, high)` of the raw inputs. Defaults to `(0.0, 1.0)`.
        batch_size: Samples per graph call and per prediction. Defaults to `256`.
        **attack_kwargs: Extra arguments of `pgd` (`steps`, `step_size`,
            `random_start`, `seed`); FGSM takes none.

    Returns:
        `[{"epsilon": e, "accuracy": a}, ...]`, in the order of `epsilons`.

    Example:

    ```python
    from kerasopt.adversarial import robustness_curve
    from kerasopt.data import load_dataset
    from kerasopt.models import load_model_safely

    data = load_dataset("digits")
    model = load_model_safely("saved_models/digits/model.keras")  # `kerasopt run digits`
    curve = robustness_curve(model, data.x_test, data.y_test, input_range=(0, 16))
    print([(point["epsilon"], round(point["accuracy"], 3)) for point in curve])
    ```
    """
    caller = "robustness_curve"
    attack = check_option(caller, "attack", attack, ATTACKS)
    if np.ndim(epsilons) != 1 or not len(epsilons):
        raise InvalidValueError(
            f"{caller} expects a non-empty sequence of epsilons. Received: "
            f"epsilons={epsilons!r}. Pass e.g. epsilons=(0, 0.02, 0.05)."
        )
    epsilons = [check_fraction(caller, "epsilon", e, fix=BUDGET_FIX) for e in epsilons]
    low, high = check_input_range(input_range, caller)
    batch_size = check_positive_int(caller, "batch_size", batch_size, example=256)
    x, y = check_inputs(x, y, (low, high), caller)
    allowed = {"fgsm": set(), "pgd": {"steps", "step_size", "random_start", "seed"}}[attack]
    unknown = sorted(set(attack_kwargs) - allowed)
    if unknown:
        raise InvalidTypeError(
            f"{caller} with attack={attack!r} got unknown arguments {unknown}. Expected only "
            f"{sorted(allowed) or 'no extra arguments'}."
        )

    sign = None
    curve = []
    for epsilon in epsilons:
        if epsilon == 0.0:
            x_adv = x
        elif attack == "fgsm":
            if sign is None:
                sign = gradient_sign(model, x, y, batch_size)
            x_adv = np.clip(x + np.float32(epsilon * (high - low)) * sign, low, high)
        else:
            x_adv = pgd(
                model,
                x,
                y,
                epsilon,
                input_range=(low, high),
                batch_size=batch_size,
                **attack_kwargs,
            )
        curve.append({"epsilon": epsilon, "accuracy": accuracy(model, x_adv, y, batch_size)})
    return curve
