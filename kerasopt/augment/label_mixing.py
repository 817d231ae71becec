"""`MixUp` and `CutMix`: ops that blend pairs of images and, with them, their labels.

Both pair each image with another of the same batch (a random permutation) and return
float32 one-hot labels of shape `(b, num_classes)` that are a convex combination of the
two labels, weighted as the images are. They take integer labels (one-hot encoded here,
which is why they need `num_classes`) or labels that are already one-hot, so they can
follow each other. A policy that contains one reports `soft_labels=True`: train with
categorical cross-entropy.
"""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, one_hot_labels, register_op
from kerasopt.core.validation import check_number


class _LabelMixingOp(AugmentOp):
    soft_labels = True
    _fix = None  # optional correction of the Keras transformation, see CutMix

    def __init__(self, alpha: float, num_classes: int | None, seed: int | None, max_alpha=None):
        owner = type(self).__name__
        # alpha is the Beta(alpha, alpha) mixing parameter; 0 would disable the op.
        fix = "Pass e.g. alpha=0.2, or remove the op instead of disabling it."
        self.alpha = float(
            check_number(owner, "alpha", alpha, 0, max_alpha, closed="right", fix=fix)
        )
        if num_classes is not None:
            num_classes = int(check_number(owner, "num_classes", num_classes, 2, integer=True))
        self.num_classes = num_classes
        super().__init__(seed)

    def transform(self, images, labels, seed):
        from kerasopt.augment._seeding import run_keras_layer

        labels = one_hot_labels(type(self).__name__, labels, self.num_classes)
        return run_keras_layer(self._layer, images, seed, labels, fix=self._fix)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"alpha": self.alpha, "num_classes": self.num_classes})
        return config


@register_op("mixup")
class MixUp(_LabelMixingOp):
    """Blends each image with a partner: `lam * x_i + (1 - lam) * x_j`, labels alike.

    Wraps `keras.layers.MixUp`; `lam` is drawn per image from `Beta(alpha, alpha)` and
    the partner `j` from a random permutation of the batch (`j` may equal `i`).

    Args:
        alpha: Beta distribution parameter; small values keep most images close to one
            source. Defaults to `0.2`.
        num_classes: Number of classes, to one-hot integer labels. Not needed for
            one-hot labels; a policy fills it in from its own `num_classes`.
            Defaults to `None`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import MixUp
    >>> images, labels = np.zeros((4, 28, 28), "uint8"), np.arange(4)
    >>> mixed, soft = MixUp(alpha=0.2, num_classes=10, seed=0)(images, labels)
    >>> soft.shape
    TensorShape([4, 10])
    """

    def __init__(self, alpha: float = 0.2, num_classes: int | None = None, seed: int | None = None):
        super().__init__(alpha, num_classes, seed)
        import keras

        self._layer = keras.layers.MixUp(alpha=self.alpha, seed=0)


@register_op("cutmix")
class CutMix(_LabelMixingOp):
    """Pastes a random rectangle from a partner image; labels weighted by pasted area.

    Wraps `keras.layers.CutMix`. The rectangle covers about `1 - lam` of the image,
    `lam ~ Beta(alpha, alpha)`. Keras weights the labels by the rectangle's continuous
    area, which differs from the pixels actually pasted on small images (an 8x8 digit);
    here the label weight is the exact fraction of pasted pixels.

    Args:
        alpha: Beta distribution parameter, in `(0, 1]` (Keras' bound). Defaults to `1.0`.
        num_classes: Number of classes, to one-hot integer labels. Not needed for
            one-hot labels; a policy fills it in from its own `num_classes`.
            Defaults to `None`.
        seed: Seed of this op; see `AugmentOp`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import CutMix
    >>> images, labels = np.zeros((4, 32, 32, 3), "uint8"), np.arange(4)
    >>> mixed, soft = CutMix(num_classes=10, seed=0)(images, labels)
    """

    def __init__(self, alpha: float = 1.0, num_classes: int | None = None, seed: int | None = None):
        super().__init__(alpha, num_classes, seed, max_alpha=1.0)
        import keras

        self._layer = keras.layers.CutMix(factor=(self.alpha, self.alpha), seed=0)

    @staticmethod
    def _fix(transformation):
        import tensorflow as tf

        pasted = tf.cast(transformation["batch_masks"][..., 0], tf.float32)
        transformation["mix_weight"] = 1.0 - tf.reduce_mean(pasted, axis=[1, 2])
        return transformation
