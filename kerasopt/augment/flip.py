"""`RandomFlip`: batched, seeded horizontal and vertical flips."""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, register_op
from kerasopt.core.validation import check_option

_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


@register_op("flip")
class RandomFlip(AugmentOp):
    """Flips each image of a batch left-right and/or up-down with probability 1/2.

    Wraps `keras.layers.RandomFlip`, fed a per-batch stateless seed so a seeded
    pipeline repeats under parallel `tf.data` maps. Each image draws its own flip.
    Mind the labels: a flipped digit may be another digit (`check_label_safety` warns).

    Args:
        mode: `"horizontal"` (left-right), `"vertical"` (up-down) or
            `"horizontal_and_vertical"` (each axis drawn independently). Defaults to
            `"horizontal"`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomFlip
    >>> images, labels = np.zeros((4, 28, 28), "uint8"), np.arange(4)
    >>> flipped, labels = RandomFlip("horizontal", seed=0)(images, labels)
    """

    def __init__(self, mode: str = "horizontal", seed: int | None = None):
        self.mode = check_option("RandomFlip", "mode", mode, _MODES)
        super().__init__(seed)
        import keras

        self._layer = keras.layers.RandomFlip(mode, seed=0)

    def transform(self, images, labels, seed):
        from kerasopt.augment._seeding import run_keras_layer

        return run_keras_layer(self._layer, images, seed), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"mode": self.mode})
        return config
