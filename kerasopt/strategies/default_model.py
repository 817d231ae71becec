"""`default_builder`: the model a strategy trains when the caller brings none."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from kerasopt.data.splits import DatasetSplits


def default_builder(data: DatasetSplits) -> Callable[[], keras.Model]:
    """`build_cnn` for `data`'s shape and classes, pixels scaled by the training maximum.

    The builder captures the shape, classes and scale, not `data`, so it pickles small
    (Flower sends it to every simulated client).

    Example:

    >>> from kerasopt.data import load_dataset
    >>> build = default_builder(load_dataset("digits"))
    >>> build().output_shape
    (None, 10)
    """
    from kerasopt.models import build_cnn

    input_max = max(float(np.max(data.x_train)), 1.0)
    shape, classes = data.input_shape, data.num_classes
    return lambda: build_cnn(shape, classes, input_max=input_max)
