"""`RandomCropPad`: pad by k pixels, then crop back at a random offset per image."""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, register_op
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_number, check_option

_FILL_MODES = ("constant", "reflect", "symmetric")


@register_op("crop_pad")
class RandomCropPad(AugmentOp):
    """Shifts each image by up to `pad` pixels: pad all sides, crop back at random.

    The classic CIFAR augmentation (pad 4, crop 32x32), done for a whole batch with two
    `tf.gather` calls instead of a crop per image. Shifts are whole pixels, so content
    is moved, never interpolated. Keras' `RandomCrop` draws one offset per batch and
    does not pad, so it is not used here.

    Args:
        pad: Pixels added on each side; the shift is in `[-pad, pad]` on each axis.
            Defaults to `4`.
        fill_mode: How padding is filled: `"constant"` (zeros), `"reflect"` or
            `"symmetric"` (mirror the border, `pad` must be smaller than the image).
            Defaults to `"constant"`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomCropPad
    >>> images, labels = np.zeros((4, 32, 32, 3), "uint8"), np.arange(4)
    >>> shifted, labels = RandomCropPad(pad=4, seed=0)(images, labels)
    """

    def __init__(self, pad: int = 4, fill_mode: str = "constant", seed: int | None = None):
        check_number("RandomCropPad", "pad", pad, 1, integer=True)
        self.fill_mode = check_option("RandomCropPad", "fill_mode", fill_mode, _FILL_MODES)
        super().__init__(seed)
        self.pad = int(pad)

    def check_images(self, shape) -> None:
        super().check_images(shape)
        if self.fill_mode != "constant" and self.pad >= min(shape[1], shape[2]):
            raise InvalidValueError(
                f"RandomCropPad with fill_mode={self.fill_mode!r} needs pad smaller than the "
                f"image. Received: pad={self.pad}, images.shape={tuple(shape)}. Lower pad "
                f'or use fill_mode="constant".'
            )

    def transform(self, images, labels, seed):
        import tensorflow as tf

        pad, (height, width) = self.pad, images.shape[1:3]
        padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode=self.fill_mode)
        offsets = tf.random.stateless_uniform(
            [tf.shape(images)[0], 2], seed, minval=0, maxval=2 * pad + 1, dtype=tf.int32
        )
        rows = offsets[:, :1] + tf.range(height)[None]
        cols = offsets[:, 1:] + tf.range(width)[None]
        out = tf.gather(padded, rows, axis=1, batch_dims=1)
        return tf.gather(out, cols, axis=2, batch_dims=1), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pad": self.pad, "fill_mode": self.fill_mode})
        return config
