"""`mirror_average`: a classifier averaged over each image and its mirror image.

Test-time augmentation built into the model, so `model.keras`, every TFLite file and the
phone bundle compute it: the wrapped classifier runs once on a batch twice as large (the
images, then the same images flipped left to right) and the two halves of its output are
averaged. It adds no weights and doubles the inference arithmetic. Wrap a model after
training, for classes that stay the same when mirrored (garments; not digits or text)
and a model trained with `flip(horizontal)`.

`kerasopt.models` exposes both names lazily: this module imports Keras.
"""

from __future__ import annotations

import logging

import keras

from kerasopt.core.validation import invalid_value


@keras.saving.register_keras_serializable(package="kerasopt")
class MirrorAverage(keras.layers.Wrapper):
    """Runs `layer` on images and their left-right mirrors; returns the mean output.

    The input is an image batch, `(batch, height, width)` or `(batch, height, width,
    channels)`; the mirror flips axis 2, the width.

    Example:

    >>> import numpy as np
    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.models.mirror_averaging import MirrorAverage
    >>> layer = MirrorAverage(build_cnn((8, 8), 10, input_max=16))
    >>> x = np.random.default_rng(0).uniform(0, 16, (2, 8, 8)).astype("float32")
    >>> bool(np.allclose(layer(x), layer(x[:, :, ::-1]), atol=1e-6))
    True
    """

    def call(self, inputs, training=None):
        ops = keras.ops
        both = ops.concatenate([inputs, ops.flip(inputs, axis=2)], axis=0)
        outputs = self.layer(both, training=training)
        halves = ops.reshape(outputs, (2, -1, *outputs.shape[1:]))
        return ops.mean(halves, axis=0)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def check_mirrorable(model) -> tuple:
    """The shape of `model`'s one image input, `(height, width[, channels])`; else raises.

    `kerasopt run` calls it before training, so a model `mirror_average` would refuse
    fails before its epochs are spent.

    Example:

    >>> from kerasopt.models import build_cnn
    >>> check_mirrorable(build_cnn((28, 28), 10, input_max=255))
    (28, 28)
    """
    inputs = getattr(model, "inputs", None) or []
    shape = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else ()
    if len(shape) not in (2, 3):
        raise invalid_value(
            "mirror_average",
            "a model with one image input, (height, width) or (height, width, channels)",
            f"inputs of shapes {[tuple(t.shape) for t in inputs]}",
            "Mirror-average an image classifier; text and tabular inputs have no mirror.",
        )
    return shape


def mirror_average(model) -> keras.Model:
    """`model` wrapped so that its output is the mean over each image and its mirror.

    Example:

    >>> from kerasopt.models import build_cnn, mirror_average
    >>> model = build_cnn((28, 28), 10, input_max=255)
    >>> averaged = mirror_average(model)
    >>> averaged.count_params() == model.count_params()
    True
    """
    shape = check_mirrorable(model)
    # The same layers and weights without `model`'s compile state, whose loss may be a
    # class the process loading the file has not imported.
    classifier = keras.Model(model.inputs, model.outputs, name=model.name)
    image = keras.Input(shape=shape, dtype=model.inputs[0].dtype, name="image")
    outputs = MirrorAverage(classifier, name="mirror_average")(image)
    return keras.Model(image, outputs, name=f"{model.name}_mirror_average")


def classifier_inside(model, owner: str):
    """The classifier a `mirror_average` model wraps, or `model` when it wraps none.

    Compression, distillation and transfer learning work on the classifier's own layers;
    their results are not mirror-averaged (wrap them again with `mirror_average`).

    Example:

    >>> from kerasopt.models import build_cnn, mirror_average
    >>> model = build_cnn((28, 28), 10, input_max=255)
    >>> inner = classifier_inside(mirror_average(model), "compress_model")
    >>> inner.layers[1:] == model.layers[1:]  # the same layers, and so the same weights
    True
    """
    wrappers = [layer for layer in model.layers if isinstance(layer, MirrorAverage)]
    if len(model.layers) != 2 or len(wrappers) != 1:
        return model
    logging.getLogger(__name__).warning(
        "%s: %r is mirror-averaged; working on the classifier inside it (%r). What it "
        "writes is not mirror-averaged: wrap it with kerasopt.models.mirror_average.",
        owner,
        model.name,
        wrappers[0].layer.name,
    )
    return wrappers[0].layer
