"""Fused BatchNormalization for training: `fused_batch_norm`, `fused_batch_norm_call`.

Keras 3's `BatchNormalization` computes its batch statistics and normalizes with
separate elementwise ops (`ops.moments`, then `tf.nn.batch_normalization`), and each has
its own gradient: several passes over every activation it normalizes. TensorFlow's
`FusedBatchNormV3` does the forward in one oneDNN kernel on a CPU and the backward in
another, as `tf_keras` did. In a small CNN whose time goes to full-resolution activations
rather than to matrix products that matters: on this project's 2-core CPU a training step
of the Fashion-MNIST default (residual 16/32/64, 128 images) took 0.72x the CPU time with
the fused op, the two models interleaved in one process.

`train(config=TrainConfig(batch_norm="fused"))` (the default) trains inside
`fused_batch_norm(model)`, which gives each Keras BatchNormalization layer the fused
`call` for the duration of the fit only: the model keeps Keras' own layer class, config
and weights, so what is saved and converted to TFLite does not change. Outside training
the layer runs Keras' code, so inference is exactly Keras'.
"""

from __future__ import annotations

import contextlib
import types

#: What `TrainConfig.batch_norm` accepts.
BATCH_NORM_KERNELS = ("fused", "keras")


@contextlib.contextmanager
def fused_batch_norm(model):
    """Within the block, `model`'s BatchNormalization layers train with the fused kernel.

    Each `keras.layers.BatchNormalization` of `model` (nested models included) gets
    `fused_batch_norm_call` as its own `call` until the block ends; the layers' class,
    config and weights do not change, so a model saved inside the block is a plain Keras
    model. A train function traced inside the block keeps the fused ops after it.

    Yields:
        How many layers were switched.

    Example:

    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training import fused_batch_norm
    >>> model = build_cnn((8, 8), 10, input_max=16, filters=(8, 16))
    >>> with fused_batch_norm(model) as switched:
    ...     switched
    4
    """
    import keras

    from kerasopt.training.batch_norm_recalibration import batch_norm_layers

    # Exactly Keras' class: a subclass may have its own `call`.
    layers = [
        layer
        for layer in batch_norm_layers(model)
        if type(layer) is keras.layers.BatchNormalization
    ]
    for layer in layers:
        layer.call = types.MethodType(fused_batch_norm_call, layer)
    try:
        yield len(layers)
    finally:
        for layer in layers:
            layer.__dict__.pop("call", None)


@contextlib.contextmanager
def batch_norm_kernel(model, kernel: str):
    """Trains `model`'s BatchNormalization with `kernel` (`TrainConfig.batch_norm`) within.

    `"fused"` is `fused_batch_norm(model)`; `"keras"` leaves the layers as they are.

    Yields:
        How many layers were switched to the fused kernel.

    Example:

    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training.fused_batch_norm import batch_norm_kernel
    >>> model = build_cnn((8, 8), 10, input_max=16, filters=(8, 16))
    >>> with batch_norm_kernel(model, "keras") as switched:
    ...     switched
    0
    """
    if kernel == "keras":
        yield 0
        return
    with fused_batch_norm(model) as switched:
        yield switched


def fuses(layer, inputs) -> bool:
    """Whether `fused_batch_norm_call` takes the fused kernel for `layer` on `inputs`."""
    import keras

    rank = len(inputs.shape)
    axis = layer.axis if isinstance(layer.axis, int) else None
    return (
        2 <= rank <= 4
        and axis in (-1, rank - 1)
        and not layer.renorm
        and not layer.synchronized
        and keras.backend.backend() == "tensorflow"
    )


def fused_batch_norm_call(layer, inputs, training=None, mask=None):
    """`layer.call` (a Keras BatchNormalization) with TensorFlow's fused kernel in training.

    In training (and when trainable) it normalizes inputs of rank 2 to 4 over their last
    axis with `tf.compat.v1.nn.fused_batch_norm`, in float32, and updates the moving
    statistics as Keras does: with the batch's biased variance. Everything else
    (inference, a mask, renormalization, a synchronized or non-last axis) runs Keras' own
    `call`.

    Example:

    >>> import keras, numpy as np
    >>> from kerasopt.training.fused_batch_norm import fused_batch_norm_call
    >>> layer = keras.layers.BatchNormalization()
    >>> x = np.random.rand(8, 4, 4, 3).astype("float32")
    >>> layer.build(x.shape)
    >>> tuple(fused_batch_norm_call(layer, x, training=True).shape)
    (8, 4, 4, 3)
    """
    import keras

    base = keras.layers.BatchNormalization.call
    if not (training and layer.trainable) or mask is not None or not fuses(layer, inputs):
        return base(layer, inputs, training=training, mask=mask)
    import tensorflow as tf

    x = tf.cast(inputs, "float32")
    shape = tf.shape(x)
    channels = x.shape[-1]
    if len(x.shape) < 4:  # the kernel wants NHWC: [N, C] and [N, L, C] gain unit axes
        x = tf.reshape(x, [shape[0], 1, -1, channels])
    gamma = tf.cast(layer.gamma, "float32") if layer.scale else tf.ones([channels])
    beta = tf.cast(layer.beta, "float32") if layer.center else tf.zeros([channels])
    y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
        x, gamma, beta, epsilon=layer.epsilon, data_format="NHWC", is_training=True
    )
    # The kernel returns the unbiased variance; Keras' moving variance averages the
    # biased one.
    count = tf.cast(tf.size(x) // channels, "float32")
    variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
    momentum = layer.momentum
    moving_mean = tf.cast(layer.moving_mean, "float32")
    moving_variance = tf.cast(layer.moving_variance, "float32")
    layer.moving_mean.assign(moving_mean * momentum + mean * (1.0 - momentum))
    layer.moving_variance.assign(moving_variance * momentum + variance * (1.0 - momentum))
    return tf.cast(tf.reshape(y, shape), layer.compute_dtype)
