"""`RandomAffine`: batched, seeded rotation/translation/zoom for tf.data pipelines."""

from __future__ import annotations

from kerasopt.augment._base import AugmentOp, register_op
from kerasopt.core.validation import check_fraction


@register_op("affine")
class RandomAffine(AugmentOp):
    """Random rotation, translation and zoom of image batches, on-graph.

    Built from Keras' own preprocessing layers and applied to whole batches inside
    `tf.data` (`make_dataset(..., augment=RandomAffine())`). Accepts batches of
    grayscale images without a channel axis (`(b, h, w)`, as MNIST and digits are
    stored) as well as `(b, h, w, c)`. Labels pass through unchanged. Pixels that move
    in from outside are filled with 0, the background of digit images. Each batch is
    seeded from the op's seed and its own content, so a seeded run repeats even with
    parallel `tf.data` maps.

    Args:
        rotation: Maximum rotation as a fraction of a full turn. Defaults to `0.05`.
        translation: Maximum shift as a fraction of height and width. Defaults to `0.1`.
        zoom: Maximum zoom in or out as a fraction. Defaults to `0.1`.
        seed: Seed for repeatable runs. Defaults to `None`.

    Example:

    >>> from kerasopt.augment import RandomAffine
    >>> from kerasopt.data import load_dataset, make_dataset
    >>> data = load_dataset("digits")
    >>> ds = make_dataset(data.x_train, data.y_train, augment=RandomAffine(seed=0))
    """

    def __init__(
        self,
        rotation: float = 0.05,
        translation: float = 0.1,
        zoom: float = 0.1,
        seed: int | None = None,
    ):
        for name, value in (("rotation", rotation), ("translation", translation), ("zoom", zoom)):
            check_fraction("RandomAffine", name, value, closed="left", example=0.1)
        super().__init__(seed)
        import keras

        self.rotation, self.translation, self.zoom = rotation, translation, zoom
        layers = []
        if translation:
            layers.append(
                keras.layers.RandomTranslation(
                    translation, translation, fill_mode="constant", seed=0
                )
            )
        if rotation:
            layers.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=0))
        if zoom:
            layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=0))
        self._layers = layers

    def transform(self, images, labels, seed):
        from kerasopt.augment._seeding import fold, run_keras_layer

        for index, layer in enumerate(self._layers):
            images = run_keras_layer(layer, images, fold(seed, index))
        return images, labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"rotation": self.rotation, "translation": self.translation, "zoom": self.zoom}
        )
        return config
