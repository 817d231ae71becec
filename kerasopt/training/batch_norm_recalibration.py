"""`recalibrate_batch_norm`: fresh BatchNormalization statistics for changed weights.

A BatchNormalization layer's moving mean and variance follow the weights slowly (momentum
0.99 forgets a value in about 100 steps), so they go stale whenever the weights change
without enough training steps after: channel pruning removes filters (Li et al.,
"EagleEye", 2020), a distributed fit takes `replicas` times fewer steps, a federated
client trains a few steps per round. Running training data through the model in training
mode, with each layer's momentum set so the moving statistics become the exact average
over the batches, re-estimates them. Used by `compress_model`, by `train` under a
`tf.distribute` strategy and by the federated clients.
"""

from __future__ import annotations

import contextlib

import numpy as np

from kerasopt.core.errors import InvalidValueError


def batch_norm_layers(model) -> list:
    """Every BatchNormalization layer of `model`, nested models included."""
    import keras  # here: `kerasopt.training` loads without TensorFlow

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found.extend(batch_norm_layers(layer))
    return found


@contextlib.contextmanager
def momenta_restored(layers):
    """Gives each of `layers` its own `momentum` back on exit, whatever the body set.

    Example:

    ```python
    with momenta_restored(batch_norm_layers(model)) as layers:
        for layer in layers:
            layer.momentum = 0.0  # the next training-mode pass sets the statistics
        model(x, training=True)
    ```
    """
    momenta = [layer.momentum for layer in layers]
    try:
        yield layers
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum


def recalibrate_batch_norm(model, x, *, batches: int = 32, batch_size: int = 64, seed: int = 0):
    """Re-estimates every BatchNormalization layer's moving mean and variance on `x`.

    Draws `batches` batches of `batch_size` samples from `x` (without replacement when
    there are enough), runs the model on each in training mode, and sets the momentum of
    every BatchNormalization layer so that its moving statistics end as the plain
    average of the batch statistics (momentum `i / (i + 1)` at batch `i`). Other
    weights do not change; Dropout is active during the passes, as in training. The
    momenta are restored afterwards.

    Args:
        model: A built Keras model; modified in place.
        x: Training inputs, samples first.
        batches: Number of batches. Defaults to `32`.
        batch_size: Samples per batch. Defaults to `64`.
        seed: Seed of the batch draw. Defaults to `0`.

    Returns:
        The number of BatchNormalization layers recalibrated (0 leaves `model` as it was).

    Example:

    ```python
    from kerasopt.compress import prune_channels
    from kerasopt.training import recalibrate_batch_norm

    smaller = prune_channels(model, 0.5).model
    recalibrate_batch_norm(smaller, data.x_train)
    ```
    """
    if batches < 1 or batch_size < 1:
        raise InvalidValueError(
            f"recalibrate_batch_norm needs batches >= 1 and batch_size >= 1. Received: "
            f"{batches=}, {batch_size=}."
        )
    layers = batch_norm_layers(model)
    if not layers:
        return 0
    x = np.asarray(x)
    if len(x) == 0:
        raise InvalidValueError("recalibrate_batch_norm needs at least one sample; x is empty.")
    rng = np.random.default_rng(seed)
    needed = batches * batch_size
    order = rng.permutation(len(x)) if needed <= len(x) else rng.integers(0, len(x), needed)
    with momenta_restored(layers):
        for i in range(min(batches, max(1, len(order) // batch_size))):
            for layer in layers:
                layer.momentum = i / (i + 1)
            model(x[order[i * batch_size : (i + 1) * batch_size]], training=True)
    return len(layers)
