"""Photometric ops: `RandomBrightness`, `RandomContrast`, `RandomSaturation`, `RandomHue`.

Grouped in one module because each is a few lines around the same idea: a per-image
random strength, applied within the pixel `value_range` and clipped back into it.
`value_range` is the range pixel values span: `(0, 255)` for uint8 images (the default),
`(0, 1)` for scaled floats, `(0, 16)` for scikit-learn digits. Brightness and contrast
work on any number of channels; saturation and hue need RGB.
"""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, check_value_range, register_op
from kerasopt.core.validation import check_number


class _ColorOp(AugmentOp):
    def __init__(self, factor: float, value_range=(0, 255), seed: int | None = None):
        owner = type(self).__name__
        self.factor = float(check_number(owner, "factor", factor, 0.0, 1.0))
        self.value_range = check_value_range(owner, value_range)
        super().__init__(seed)

    def transform(self, images, labels, seed):
        from kerasopt.augment._seeding import run_keras_layer

        return run_keras_layer(self._layer, images, seed), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


@register_op("brightness")
class RandomBrightness(_ColorOp):
    """Adds a random offset to each image, a fraction of the value range.

    Wraps `keras.layers.RandomBrightness`: each image gets `delta * (high - low)` added,
    `delta` uniform in `[-factor, factor]`, and is clipped to `value_range`.

    Args:
        factor: Largest offset as a fraction of the value range, in `[0, 1]`.
            Defaults to `0.2`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomBrightness
    >>> images, labels = np.full((4, 8, 8), 8.0, "float32"), np.arange(4)
    >>> out, labels = RandomBrightness(0.2, value_range=(0, 16), seed=0)(images, labels)
    """

    def __init__(self, factor: float = 0.2, value_range=(0, 255), seed: int | None = None):
        super().__init__(factor, value_range, seed)
        import keras

        self._layer = keras.layers.RandomBrightness(
            self.factor, value_range=self.value_range, seed=0
        )


@register_op("contrast")
class RandomContrast(_ColorOp):
    """Scales each image's deviation from its mean by a random factor.

    Wraps `keras.layers.RandomContrast`: pixels become `(x - mean) * c + mean` per image
    and channel, `c` uniform in `[1 - factor, 1 + factor]`, clipped to `value_range`.

    Args:
        factor: Largest contrast change, in `[0, 1]`. Defaults to `0.2`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomContrast
    >>> images, labels = np.zeros((4, 28, 28), "uint8"), np.arange(4)
    >>> out, labels = RandomContrast(0.3, seed=0)(images, labels)
    """

    def __init__(self, factor: float = 0.2, value_range=(0, 255), seed: int | None = None):
        super().__init__(factor, value_range, seed)
        import keras

        self._layer = keras.layers.RandomContrast(self.factor, value_range=self.value_range, seed=0)


@register_op("saturation")
class RandomSaturation(_ColorOp):
    """Scales each RGB image's saturation by a random factor.

    Converts to HSV, multiplies saturation by `s` uniform in `[1 - factor, 1 + factor]`,
    clips it to `[0, 1]` and converts back. Implemented with `tf.image` rather than
    `keras.layers.RandomSaturation`, which (Keras 3.15) does not clip the scaled
    saturation and returns pixels far outside `value_range` (e.g. -1940 for 0-255 input).

    Args:
        factor: Largest saturation change, in `[0, 1]`. Defaults to `0.2`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomSaturation
    >>> images, labels = np.zeros((4, 32, 32, 3), "uint8"), np.arange(4)
    >>> out, labels = RandomSaturation(0.3, seed=0)(images, labels)
    """

    needs_rgb = True

    def __init__(self, factor: float = 0.2, value_range=(0, 255), seed: int | None = None):
        super().__init__(factor, value_range, seed)

    def transform(self, images, labels, seed):
        import tensorflow as tf

        low, high = self.value_range
        scale = tf.random.stateless_uniform(
            [tf.shape(images)[0], 1, 1], seed, 1.0 - self.factor, 1.0 + self.factor
        )
        hsv = tf.image.rgb_to_hsv(tf.clip_by_value((images - low) / (high - low), 0.0, 1.0))
        saturation = tf.clip_by_value(hsv[..., 1] * scale, 0.0, 1.0)
        hsv = tf.stack([hsv[..., 0], saturation, hsv[..., 2]], axis=-1)
        return tf.image.hsv_to_rgb(hsv) * (high - low) + low, labels


@register_op("hue")
class RandomHue(_ColorOp):
    """Rotates each RGB image's hue by a random angle.

    Wraps `keras.layers.RandomHue`: the hue turns by up to `factor / 2` of the colour
    circle, in either direction, and the result is clipped to `value_range`.

    Args:
        factor: Largest hue shift, in `[0, 1]` (1 is half a turn). Defaults to `0.1`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 255)`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomHue
    >>> images, labels = np.zeros((4, 32, 32, 3), "uint8"), np.arange(4)
    >>> out, labels = RandomHue(0.1, seed=0)(images, labels)
    """

    needs_rgb = True

    def __init__(self, factor: float = 0.1, value_range=(0, 255), seed: int | None = None):
        super().__init__(factor, value_range, seed)
        import keras

        self._layer = keras.layers.RandomHue(self.factor, value_range=self.value_range, seed=0)
