"""`fgsm`: the fast gradient sign method, one signed-gradient step of size epsilon."""

from __future__ import annotations

import numpy as np

from kerasopt.adversarial._arguments import BUDGET_FIX, check_input_range, check_inputs
from kerasopt.adversarial._perturbation import gradient_sign
from kerasopt.core.validation import check_fraction, check_positive_int


def fgsm(
    model,
    x,
    y,
    epsilon: float,
    *,
    input_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 256,
) -> np.ndarray:
    """Adversarial examples by the fast gradient sign method (Goodfellow et al., 2015).

    `x_adv = clip(x + epsilon * (high - low) * sign(d loss / dx), low, high)`, where
    the loss is the sparse crossentropy of the model in inference mode. `epsilon` is a
    fraction of the input range `(low, high)`, so `epsilon=0.05` means 0.8 on digits
    (pixels 0..16) and 12.75 on MNIST (0..255): the same budget whatever the raw scale.
    Every pixel the clip leaves alone moves by exactly `epsilon * (high - low)`. The
    gradient is taken on a `tf.function` graph with `tf.GradientTape` (TensorFlow
    backend), batch by batch. The model takes raw inputs, as `build_cnn` models do.

    Args:
        model: A Keras classifier returning class probabilities.
        x: Raw inputs, shape `(num_samples, ...)`, inside `input_range`.
        y: Integer labels, shape `(num_samples,)`.
        epsilon: L∞ budget as a fraction of the input range, in [0, 1].
        input_range: `(low, high)` of the raw inputs; results are clipped to it.
            Defaults to `(0.0, 1.0)`.
        batch_size: Samples per gradient computation. Defaults to `256`.

    Returns:
        The adversarial examples, float32, shaped like `x`.

    Example:

    ```python
    from kerasopt.adversarial import fgsm
    from kerasopt.data import load_dataset
    from kerasopt.models import load_model_safely

    data = load_dataset("digits")
    model = load_model_safely("saved_models/digits/model.keras")  # `kerasopt run digits`
    x_adv = fgsm(model, data.x_test, data.y_test, 0.05, input_range=(0, 16))
    accuracy = (model.predict(x_adv).argmax(-1) == data.y_test).mean()
    ```
    """
    epsilon = check_fraction("fgsm", "epsilon", epsilon, fix=BUDGET_FIX)
    low, high = check_input_range(input_range, "fgsm")
    batch_size = check_positive_int("fgsm", "batch_size", batch_size, example=256)
    x, y = check_inputs(x, y, (low, high), "fgsm")
    if epsilon == 0.0:
        return x
    radius = np.float32(epsilon * (high - low))
    sign = gradient_sign(model, x, y, batch_size)
    return np.clip(x + radius * sign, low, high).astype("float32")
