"""`build_cnn`: the configurable MNIST-family CNN that takes raw pixels."""

from __future__ import annotations

from collections.abc import Sequence

from kerasopt.core.errors import InvalidValueError
from kerasopt.models.image_inputs import check_image_shape, image_inputs


def build_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    input_max: float = 255.0,
    filters: Sequence[int] = (32, 64),
    convs_per_block: int = 2,
    dense_units: int = 128,
    dropout: float = 0.3,
    batch_norm: bool = True,
    bn_momentum: float = 0.99,
    l2: float = 1e-4,
    resize_to: int | None = None,
    name: str = "cnn",
):
    """Builds a small VGG-style CNN whose preprocessing lives inside the model.

    The model takes raw pixels exactly as the dataset stores them (digits: `(8, 8)`
    values 0..16; MNIST: `(28, 28)` values 0..255; CIFAR-10: `(32, 32, 3)`) and returns
    class probabilities, so an exported `.tflite` needs no preprocessing code in the app.
    A missing channel axis is added with `Reshape`, pixels are scaled to [0, 1] by
    `Rescaling(1 / input_max)`, and optionally upscaled with `Resizing`.

    Each block is `convs_per_block` x (Conv2D 3x3 -> BatchNorm -> ReLU) then
    MaxPooling2D; the head is Flatten -> Dropout -> Dense(ReLU) -> Dropout -> softmax.
    L2 weight decay is set on the layers (`kernel_regularizer`), not on `compile()`.

    Args:
        input_shape: Shape of one raw sample, with or without a channel axis.
        num_classes: Number of output classes.
        input_max: Largest raw pixel value (16 for digits). Defaults to `255.0`.
        filters: Filters of each conv block. Defaults to `(32, 64)`.
        convs_per_block: Conv layers per block. Defaults to `2`.
        dense_units: Units of the hidden dense layer. Defaults to `128`.
        dropout: Dropout rate before and after the hidden dense layer. Defaults to `0.3`.
        batch_norm: Put BatchNormalization after each conv. Defaults to `True`.
        bn_momentum: Momentum of the BatchNorm moving statistics; 0.9 settles faster on
            small datasets with few steps. Defaults to `0.99`.
        l2: L2 weight-decay factor on conv and dense kernels; 0 disables. Defaults to
            `1e-4`.
        resize_to: Side length to upscale images to, or `None`. Defaults to `None`.
        name: Model name. Defaults to `"cnn"`.

    Example:

    >>> from kerasopt.models import build_cnn
    >>> model = build_cnn((8, 8), 10, input_max=16)
    >>> model.output_shape
    (None, 10)
    """
    import keras

    input_shape = check_image_shape("build_cnn", input_shape, num_classes)
    if not filters or any(int(f) < 1 for f in filters):
        raise InvalidValueError(f"build_cnn needs positive filter counts. Received: {filters=}.")
    if not 0.0 <= dropout < 1.0:
        raise InvalidValueError(f"build_cnn needs 0 <= dropout < 1. Received: {dropout=}.")
    if input_max <= 0:
        raise InvalidValueError(f"build_cnn needs input_max > 0. Received: {input_max=}.")
    if l2 < 0:
        raise InvalidValueError(f"build_cnn needs l2 >= 0. Received: {l2=}.")

    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs, x = image_inputs(input_shape, input_max)
    if resize_to:
        x = keras.layers.Resizing(resize_to, resize_to, name="resize")(x)
    for block, block_filters in enumerate(filters):
        for conv in range(convs_per_block):
            x = keras.layers.Conv2D(
                int(block_filters),
                3,
                padding="same",
                use_bias=not batch_norm,
                kernel_regularizer=regularizer,
                name=f"block{block}_conv{conv}",
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(
                    momentum=bn_momentum, name=f"block{block}_bn{conv}"
                )(x)
            x = keras.layers.ReLU(name=f"block{block}_relu{conv}")(x)
        x = keras.layers.MaxPooling2D(name=f"block{block}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_features")(x)
    x = keras.layers.Dense(
        dense_units, activation="relu", kernel_regularizer=regularizer, name="dense"
    )(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_dense")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
