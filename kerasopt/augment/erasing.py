"""`RandomErasing` (cutout): blank a random rectangle of each image."""

from __future__ import annotations

import numbers

from kerasopt.augment._base import AugmentOp, check_value_range, register_op
from kerasopt.core.validation import check_number, invalid_value


@register_op("erasing", "cutout")
class RandomErasing(AugmentOp):
    """Fills a random rectangle of each image with a constant (cutout / random erasing).

    Wraps `keras.layers.RandomErasing` with an exact per-image probability `rate`
    (Keras' single-float `factor` instead draws a probability in `[0, factor]`). Each
    side of the rectangle is `sqrt(u)` of the image side, `u` uniform in `scale`.

    Args:
        rate: Probability that an image is erased, in `[0, 1]`. Defaults to `0.5`.
        scale: `(low, high)` range of `u`, both in `(0, 1]`. Defaults to `(0.02, 0.33)`.
        fill_value: Value written into the rectangle (clipped to `value_range`), or
            `None` for Gaussian noise. Defaults to `0.0`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomErasing
    >>> images, labels = np.full((4, 28, 28), 255, "uint8"), np.arange(4)
    >>> erased, labels = RandomErasing(rate=1.0, seed=0)(images, labels)
    """

    def __init__(
        self,
        rate: float = 0.5,
        scale=(0.02, 0.33),
        fill_value: float | None = 0.0,
        value_range=(0, 255),
        seed: int | None = None,
    ):
        self.rate = float(check_number("RandomErasing", "rate", rate, 0.0, 1.0))
        if (
            not isinstance(scale, (tuple, list))
            or len(scale) != 2
            or not all(isinstance(v, numbers.Real) for v in scale)
            or not 0.0 < scale[0] <= scale[1] <= 1.0
        ):
            raise invalid_value(
                "RandomErasing",
                "scale=(low, high) with 0 < low <= high <= 1, the range of the squared side "
                "fraction",
                f"scale={scale!r}",
                "Pass e.g. scale=(0.02, 0.33).",
            )
        if fill_value is not None:
            fill_value = float(check_number("RandomErasing", "fill_value", fill_value))
        self.scale = (float(scale[0]), float(scale[1]))
        self.fill_value = fill_value
        self.value_range = check_value_range("RandomErasing", value_range)
        super().__init__(seed)
        import keras

        self._layer = keras.layers.RandomErasing(
            factor=(self.rate, self.rate),
            scale=self.scale,
            fill_value=fill_value,
            value_range=self.value_range,
            seed=0,
        )

    def transform(self, images, labels, seed):
        from kerasopt.augment._seeding import run_keras_layer

        return run_keras_layer(self._layer, images, seed), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "rate": self.rate,
                "scale": self.scale,
                "fill_value": self.fill_value,
                "value_range": self.value_range,
            }
        )
        return config
