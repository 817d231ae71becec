"""`RandomRot90`: batched, seeded rotations by multiples of 90 degrees."""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, register_op
from kerasopt.core.errors import InvalidValueError


@register_op("rot90")
class RandomRot90(AugmentOp):
    """Rotates each image of a batch by 0, 90, 180 or 270 degrees, drawn per image.

    Keras has no such layer, and `tf.image.rot90` turns a whole batch by one `k`; this
    draws `k` per image and composes it from a transpose and two flips, selected per
    image, so the whole batch is one graph call. Rotation by 90
    degrees swaps height and width, so images must be square. Mind the labels: a
    rotated 6 is a 9 (`check_label_safety` warns).

    Args:
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import RandomRot90
    >>> images, labels = np.zeros((4, 32, 32, 3), "uint8"), np.arange(4)
    >>> turned, labels = RandomRot90(seed=0)(images, labels)
    """

    def check_images(self, shape) -> None:
        super().check_images(shape)
        if shape[1] != shape[2]:
            raise InvalidValueError(
                f"RandomRot90 (rot90) needs square images, since a quarter turn swaps "
                f"height and width. Received: images.shape={tuple(shape)}. Use "
                f'flip(mode="horizontal_and_vertical") for a 180-degree-like change, or '
                f"affine(rotation=...) for small rotations."
            )

    def transform(self, images, labels, seed):
        import tensorflow as tf

        turns = tf.random.stateless_uniform(
            [tf.shape(images)[0]], seed, minval=0, maxval=4, dtype=tf.int32
        )

        def per_image(mask):
            return tf.reshape(mask, [-1, 1, 1, 1])

        # k quarter turns counter-clockwise = transpose if k is odd, then flip rows for
        # k in {1, 2} and columns for k in {2, 3}: three selects instead of four copies.
        x = tf.where(per_image(turns % 2 == 1), tf.transpose(images, [0, 2, 1, 3]), images)
        x = tf.where(per_image((turns == 1) | (turns == 2)), tf.reverse(x, [1]), x)
        return tf.where(per_image(turns >= 2), tf.reverse(x, [2]), x), labels
