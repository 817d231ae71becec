"""`image_inputs`: the raw-pixel input and in-model scaling every image builder starts with."""

from __future__ import annotations

from collections.abc import Sequence

from kerasopt.core.errors import InvalidValueError


def check_image_shape(owner: str, input_shape: Sequence[int], num_classes: int) -> tuple:
    """`input_shape` as ints, refused unless `(H, W)` or `(H, W, C)`; `num_classes >= 2`.

    Example:

    >>> check_image_shape("build_cnn", [8, 8], 10)
    (8, 8)
    """
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) not in (2, 3):
        raise InvalidValueError(
            f"{owner} expects input_shape (height, width) or (height, width, channels). "
            f"Received: input_shape={input_shape}."
        )
    if num_classes < 2:
        raise InvalidValueError(f"{owner} needs num_classes >= 2. Received: {num_classes=}.")
    return input_shape


def image_inputs(input_shape: tuple, input_max: float):
    """`(inputs, x)`: `keras.Input` of raw pixels, then a channel axis and `1 / input_max`.

    A missing channel axis is added with `Reshape` (`"add_channel"`), and pixels are
    scaled to [0, 1] by `Rescaling` (`"rescale"`), so an exported model takes the values
    the dataset stores.

    Example:

    >>> inputs, x = image_inputs((28, 28), 255.0)
    >>> tuple(x.shape)
    (None, 28, 28, 1)
    """
    import keras

    inputs = keras.Input(shape=input_shape, name="pixels")
    x = inputs
    if len(input_shape) == 2:
        x = keras.layers.Reshape((*input_shape, 1), name="add_channel")(x)
    x = keras.layers.Rescaling(1.0 / input_max, name="rescale")(x)
    return inputs, x
