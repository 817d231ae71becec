"""`RandAugment`: a random pick of `num_ops` ops at one magnitude, per batch."""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, check_value_range, register_op
from kerasopt.core.validation import check_number


@register_op("rand_augment", "randaugment")
class RandAugment(AugmentOp):
    """RandAugment (Cubuk et al., 2019) via `keras.layers.RandAugment`, seeded per batch.

    Keras picks `num_ops` of its 11 ops (shear, translation, rotation, brightness,
    colour degeneration, contrast, sharpness, solarization, posterization,
    auto-contrast, equalization) for the whole batch and applies each with a strength up
    to `magnitude`. The Keras layer ignores a per-call seed and advances its own
    generator; here it is handed the per-batch stateless seed, so a seeded pipeline
    repeats under parallel `tf.data` maps. Keras computes all 11 candidates per batch,
    so this is the most expensive op. Works on grayscale and RGB.

    Args:
        num_ops: Number of ops applied in sequence, at least 1. Defaults to `2`.
        magnitude: Strength of each op, in `[0, 1]`. Defaults to `0.5`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandAugment
    >>> images, labels = np.zeros((4, 32, 32, 3), "uint8"), np.arange(4)
    >>> out, labels = RandAugment(num_ops=2, magnitude=0.3, seed=0)(images, labels)
    """

    def __init__(
        self,
        num_ops: int = 2,
        magnitude: float = 0.5,
        value_range=(0, 255),
        seed: int | None = None,
    ):
        self.num_ops = int(check_number("RandAugment", "num_ops", num_ops, 1, integer=True))
        self.magnitude = float(check_number("RandAugment", "magnitude", magnitude, 0.0, 1.0))
        self.value_range = check_value_range("RandAugment", value_range)
        super().__init__(seed)
        import keras

        self._layer = keras.layers.RandAugment(
            value_range=self.value_range, num_ops=self.num_ops, factor=self.magnitude, seed=0
        )

    def transform(self, images, labels, seed):
        from kerasopt.augment._seeding import run_keras_layer

        return run_keras_layer(self._layer, images, seed, swap_generator=True), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"num_ops": self.num_ops, "magnitude": self.magnitude, "value_range": self.value_range}
        )
        return config
