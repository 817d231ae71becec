"""`GaussianNoise`: batched, seeded additive Gaussian pixel noise."""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, check_value_range, register_op
from kerasopt.core.validation import check_number


@register_op("noise")
class GaussianNoise(AugmentOp):
    """Adds zero-mean Gaussian noise to every pixel, then clips to the value range.

    The standard deviation is a fraction of the value range, so the same spec means the
    same noise level for uint8 images (`value_range=(0, 255)`) and scaled floats
    (`value_range=(0, 1)`). Unlike `keras.layers.GaussianNoise` (a regularisation layer
    with a stateful seed), this one is seeded per batch and clips to the pixel range.

    Args:
        stddev: Standard deviation as a fraction of `high - low`, in `[0, 1]`.
            Defaults to `0.05`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import GaussianNoise
    >>> images, labels = np.zeros((4, 28, 28), "uint8"), np.arange(4)
    >>> noisy, labels = GaussianNoise(0.05, seed=0)(images, labels)
    """

    def __init__(self, stddev: float = 0.05, value_range=(0, 255), seed: int | None = None):
        self.stddev = float(check_number("GaussianNoise", "stddev", stddev, 0.0, 1.0))
        self.value_range = check_value_range("GaussianNoise", value_range)
        super().__init__(seed)

    def transform(self, images, labels, seed):
        import tensorflow as tf

        low, high = self.value_range
        noise = tf.random.stateless_normal(tf.shape(images), seed, stddev=self.stddev)
        return tf.clip_by_value(images + noise * (high - low), low, high), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"stddev": self.stddev, "value_range": self.value_range})
        return config
