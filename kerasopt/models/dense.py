"""`build_dense_classifier`: the classic units/dropout classifier on flattened inputs."""

from __future__ import annotations

from collections.abc import Sequence

from kerasopt.core.errors import InvalidValueError


def build_dense_classifier(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    input_max: float = 255.0,
    units: int = 64,
    layers: int = 1,
    dropout: float = 0.2,
    l2: float = 0.0,
    name: str = "dense_classifier",
):
    """Builds Flatten -> Rescaling -> `layers` x (Dense(units, relu) -> Dropout) -> softmax.

    The model the classic `GridSearchCV` over `units` and `dropout` tunes. Like
    `build_cnn` it takes raw values (pixels 0..`input_max`) and scales them inside.

    Args:
        input_shape: Shape of one raw sample.
        num_classes: Number of output classes.
        input_max: Largest raw input value. Defaults to `255.0`.
        units: Units of each hidden layer. Defaults to `64`.
        layers: Number of hidden layers. Defaults to `1`.
        dropout: Dropout after each hidden layer, in `[0, 1)`. Defaults to `0.2`.
        l2: L2 penalty on the kernels; 0 disables. Defaults to `0.0`.
        name: Model name. Defaults to `"dense_classifier"`.

    Example:

    >>> from kerasopt.models import build_dense_classifier
    >>> model = build_dense_classifier((8, 8), 10, input_max=16, units=32)
    >>> model.output_shape
    (None, 10)
    """
    import keras

    if units < 1 or layers < 1:
        raise InvalidValueError(
            f"build_dense_classifier needs units >= 1 and layers >= 1. Received: {units=}, "
            f"{layers=}."
        )
    if not 0.0 <= dropout < 1.0:
        raise InvalidValueError(
            f"build_dense_classifier needs 0 <= dropout < 1. Received: {dropout=}."
        )
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=tuple(int(d) for d in input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Rescaling(1.0 / input_max, name="rescale")(x)
    for index in range(layers):
        x = keras.layers.Dense(
            units, activation="relu", kernel_regularizer=regularizer, name=f"dense{index}"
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{index}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
