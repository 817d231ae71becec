"""`RandomAffine`: batched, seeded rotation/translation/zoom for tf.data pipelines."""

from __future__ import annotations


class RandomAffine:
    """Random rotation, translation and zoom of image batches, on-graph.

    Built from Keras' own preprocessing layers and applied to whole batches inside
    `tf.data` (`make_dataset(..., augment=RandomAffine())`). Accepts batches of
    grayscale images without a channel axis (`(b, h, w)`, as MNIST and digits are
    stored) as well as `(b, h, w, c)`. Labels pass through unchanged. Pixels that move
    in from outside are filled with 0, the background of digit images.

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
            if not 0.0 <= value < 1.0:
                raise ValueError(
                    f"RandomAffine expects 0 <= {name} < 1 (a fraction). Received: {name}={value}."
                )
        import keras

        self.rotation, self.translation, self.zoom, self.seed = rotation, translation, zoom, seed
        layers = []
        if translation:
            layers.append(
                keras.layers.RandomTranslation(
                    translation, translation, fill_mode="constant", seed=seed
                )
            )
        if rotation:
            layers.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed))
        if zoom:
            layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed))
        self._layers = layers

    def __call__(self, images, labels):
        import tensorflow as tf

        add_channel = images.shape.rank == 3
        x = tf.expand_dims(images, -1) if add_channel else images
        x = tf.cast(x, "float32")
        for layer in self._layers:
            x = layer(x, training=True)
        x = tf.squeeze(x, -1) if add_channel else x
        return tf.cast(x, images.dtype), labels

    def get_config(self) -> dict:
        return {
            "rotation": self.rotation,
            "translation": self.translation,
            "zoom": self.zoom,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict) -> RandomAffine:
        return cls(**config)
