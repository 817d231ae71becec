"""`pgd`: projected gradient descent, the iterated L∞ attack of Madry et al."""

from __future__ import annotations

import numpy as np

from kerasopt.adversarial._arguments import BUDGET_FIX, check_input_range, check_inputs
from kerasopt.adversarial._perturbation import pgd_tensor, run_batched
from kerasopt.core.validation import check_fraction, check_positive_int


def pgd(
    model,
    x,
    y,
    epsilon: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
    random_start: bool = True,
    seed: int | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Adversarial examples by projected gradient descent (Madry et al., 2018).

    Starts at `x` plus uniform noise in the L∞ ball (with `random_start`), then takes
    `steps` signed-gradient steps of `step_size`, each followed by a projection back
    onto the ball of radius `epsilon * (high - low)` around `x` and onto `input_range`.
    `epsilon` and `step_size` are fractions of the input range, as in `fgsm`. The loop
    runs on a `tf.function` graph with `tf.GradientTape` (TensorFlow backend), the model
    in inference mode. More steps make a stronger attack; PGD is the standard check
    that a model's robustness is not an artefact of FGSM's single step.

    Args:
        model: A Keras classifier returning class probabilities.
        x: Raw inputs, shape `(num_samples, ...)`, inside `input_range`.
        y: Integer labels, shape `(num_samples,)`.
        epsilon: L∞ budget as a fraction of the input range, in [0, 1].
        steps: Gradient steps. Defaults to `10`.
        step_size: Step as a fraction of the input range, or `None` for
            `2.5 * epsilon / steps` (Madry et al.). Defaults to `None`.
        input_range: `(low, high)` of the raw inputs. Defaults to `(0.0, 1.0)`.
        random_start: Start from a uniform random point in the ball. Defaults to `True`.
        seed: Seed of the random start; `None` draws one from NumPy's global generator
            (which `keras.utils.set_random_seed` seeds). Defaults to `None`.
        batch_size: Samples per graph call. Defaults to `256`.

    Returns:
        The adversarial examples, float32, shaped like `x`.

    Example:

    ```python
    from kerasopt.adversarial import pgd
    from kerasopt.data import load_dataset
    from kerasopt.models import load_model_safely

    data = load_dataset("digits")
    model = load_model_safely("saved_models/digits/model.keras")  # `kerasopt run digits`
    x_adv = pgd(model, data.x_test, data.y_test, 0.05, input_range=(0, 16), seed=0)
    ```
    """
    import tensorflow as tf

    epsilon = check_fraction("pgd", "epsilon", epsilon, fix=BUDGET_FIX)
    steps = check_positive_int("pgd", "steps", steps, example=10)
    step_size = 2.5 * epsilon / steps if step_size is None else step_size
    step_size = check_fraction("pgd", "step_size", step_size, fix=BUDGET_FIX)
    low, high = check_input_range(input_range, "pgd")
    batch_size = check_positive_int("pgd", "batch_size", batch_size, example=256)
    x, y = check_inputs(x, y, (low, high), "pgd")
    if epsilon == 0.0:
        return x

    span = high - low
    radius, step = np.float32(epsilon * span), np.float32(step_size * span)
    if random_start:
        rng = np.random.default_rng(seed if seed is not None else np.random.randint(2**31 - 1))
        noise = rng.uniform(-radius, radius, size=x.shape).astype("float32")
    else:
        noise = np.zeros_like(x)

    @tf.function(reduce_retracing=True)
    def attack(x_batch, y_batch, noise_batch):
        return pgd_tensor(model, x_batch, y_batch, radius, step, steps, low, high, noise_batch)

    return run_batched(attack, (x, y, noise), batch_size)
