"""Classifiers shaped like the ones users bring, written the way a Keras user writes them.

kerasopt's own builders (`build_cnn`, `build_residual_cnn`) are what its defaults were
tuned on. Compression, export and the benchmarks are proven on these instead: a residual
block, MobileNet-style depthwise-separable blocks with global average pooling, a
Flatten -> Dense -> Dropout head, a Conv1D sequence model, and a model that normalizes
its own input with an adapted `Normalization` layer. Each takes raw inputs of
`input_shape` (2-D images are given a channel axis inside) and ends in a softmax.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasopt.core.errors import InvalidValueError


def _image_input(input_shape, input_max):
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Rescaling(1.0 / input_max)(inputs)
    if len(input_shape) == 2:
        x = keras.layers.Reshape((*input_shape, 1))(x)
    return inputs, x


def residual_block_model(input_shape, num_classes, *, input_max=255.0, filters=16):
    """The issue's model: a stem conv with batch norm, one residual block, a conv, a dense head.

    Example:

    >>> model = residual_block_model((8, 8), 10, input_max=16)
    >>> model.output_shape
    (None, 10)
    """
    inputs, x = _image_input(input_shape, input_max)
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    shortcut = x
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Activation("relu")(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = keras.layers.BatchNormalization()(y)
    x = keras.layers.Activation("relu")(keras.layers.Add()([shortcut, y]))
    x = keras.layers.Conv2D(2 * filters, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="residual_block_model")


def mobilenet_like(input_shape, num_classes, *, input_max=255.0, filters=16):
    """MobileNet-style: conv stem, depthwise 3x3 + pointwise 1x1 blocks with ReLU6, GAP head.

    Example:

    >>> mobilenet_like((8, 8), 10, input_max=16).count_params() > 0
    True
    """
    inputs, x = _image_input(input_shape, input_max)
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    for width, stride in ((2 * filters, 1), (4 * filters, 2), (4 * filters, 1)):
        x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU(6.0)(x)
        x = keras.layers.Conv2D(width, 1, use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="mobilenet_like")


def dropout_head_cnn(input_shape, num_classes, *, input_max=255.0, filters=32):
    """The tutorial CNN: two convs, max pooling, Flatten -> Dense(128) -> Dropout(0.5).

    Example:

    >>> dropout_head_cnn((8, 8), 10, input_max=16).layers[-2].rate
    0.5
    """
    inputs, x = _image_input(input_shape, input_max)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="dropout_head_cnn")


def conv1d_sequence(input_shape, num_classes, *, input_max=255.0, filters=32):
    """A Conv1D model over a sequence of feature vectors (an image's rows as time steps).

    Example:

    >>> conv1d_sequence((8, 8), 10, input_max=16).layers[2].__class__.__name__
    'Conv1D'
    """
    if len(input_shape) != 2:
        raise InvalidValueError(
            f"conv1d_sequence takes (steps, features) inputs. Received: {input_shape=}. "
            "Reshape images to (rows, columns) first."
        )
    inputs = keras.Input(input_shape, name="sequence")
    x = keras.layers.Rescaling(1.0 / input_max)(inputs)
    x = keras.layers.Conv1D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv1D(2 * filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="conv1d_sequence")


def normalized_input_cnn(input_shape, num_classes, *, adapt_data=None, filters=16, **_):
    """A CNN that standardizes its own input with a `Normalization` layer adapted on data.

    Args:
        adapt_data: Training inputs to adapt the layer on (mean and variance), or
            `None` to leave it at zero mean and unit variance. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(0, 16, (64, 8, 8)).astype("float32")
    >>> normalized_input_cnn((8, 8), 10, adapt_data=x).output_shape
    (None, 10)
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    if len(input_shape) == 2:
        x = keras.layers.Reshape((*input_shape, 1))(x)
    norm = keras.layers.Normalization(axis=None)
    if adapt_data is not None:
        norm.adapt(np.asarray(adapt_data, "float32").reshape(-1, *input_shape[:2], 1))
    else:
        norm.build((None, *input_shape[:2], 1))
    x = norm(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="normalized_input_cnn")


#: The zoo by name: `builder(input_shape, num_classes, input_max=..., adapt_data=...)`.
USER_SHAPED_MODELS = {
    "residual": residual_block_model,
    "mobilenet": mobilenet_like,
    "dropout_head": dropout_head_cnn,
    "conv1d": conv1d_sequence,
    "normalized": normalized_input_cnn,
}


def build_user_shaped(name, input_shape, num_classes, *, input_max=255.0, adapt_data=None):
    """Builds the zoo model `name` (a key of `USER_SHAPED_MODELS`).

    Example:

    >>> build_user_shaped("mobilenet", (8, 8), 10, input_max=16).name
    'mobilenet_like'
    """
    if name not in USER_SHAPED_MODELS:
        raise InvalidValueError(
            f"Unknown user-shaped model {name!r}. Choose one of {sorted(USER_SHAPED_MODELS)}."
        )
    builder = USER_SHAPED_MODELS[name]
    if builder is normalized_input_cnn:
        return builder(input_shape, num_classes, adapt_data=adapt_data)
    return builder(input_shape, num_classes, input_max=input_max)
