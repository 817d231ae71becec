"""Tensor-level L∞ attack steps shared by `fgsm`, `pgd` and `AdversarialModel`.

Everything here runs inside a `tf.function` (TensorFlow backend). On a graph, Keras'
crossentropy finds the logits behind the model's softmax, so the input gradient stays
informative even where the float32 softmax has saturated to exactly 1; run eagerly, the
clipped probabilities would give a zero gradient, and no perturbation, for the most
confident samples.
"""

from __future__ import annotations

import numpy as np

from kerasopt.core.errors import InvalidValueError


def sparse_crossentropy(y, y_pred):
    """Summed sparse crossentropy: the loss whose input gradient the attacks follow."""
    import keras

    return keras.ops.sum(keras.losses.sparse_categorical_crossentropy(y, y_pred))


def loss_gradient(model, x, y, loss_fn=sparse_crossentropy):
    """d loss(y, model(x)) / dx, with the model in inference mode (no BN/dropout updates)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(y, model(x, training=False))
    gradient = tape.gradient(loss, x)
    if gradient is None:
        raise InvalidValueError(
            f"The loss of model {model.name!r} does not depend on its input, so it has no "
            "input gradient to attack. Pass a differentiable classifier taking raw inputs."
        )
    return gradient


def fgsm_tensor(model, x, y, radius, low, high, loss_fn=sparse_crossentropy):
    """One signed-gradient step of size `radius` (raw units), clipped to [low, high]."""
    import tensorflow as tf

    step = radius * tf.sign(loss_gradient(model, x, y, loss_fn))
    return tf.clip_by_value(x + step, low, high)


def pgd_tensor(
    model, x, y, radius, step_size, steps, low, high, noise=None, loss_fn=sparse_crossentropy
):
    """`steps` signed-gradient steps, each projected on the radius ball and [low, high]."""
    import keras
    import tensorflow as tf

    def project(candidate):
        inside_ball = tf.clip_by_value(candidate, x - radius, x + radius)
        return tf.clip_by_value(inside_ball, low, high)

    start = x if noise is None else project(x + noise)

    def body(_, x_adv):
        gradient = loss_gradient(model, x_adv, y, loss_fn)
        return project(x_adv + step_size * tf.sign(gradient))

    return keras.ops.fori_loop(0, steps, body, start)


def run_batched(function, arrays: tuple[np.ndarray, ...], batch_size: int) -> np.ndarray:
    """Calls `function` on consecutive batches of `arrays`; concatenates the results."""
    outputs = []
    for start in range(0, len(arrays[0]), batch_size):
        batch = tuple(array[start : start + batch_size] for array in arrays)
        outputs.append(np.asarray(function(*batch)))
    return np.concatenate(outputs)


def gradient_sign(model, x: np.ndarray, y: np.ndarray, batch_size: int) -> np.ndarray:
    """sign(d loss / dx) for every sample, computed on a graph batch by batch."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def sign(x_batch, y_batch):
        return tf.sign(loss_gradient(model, x_batch, y_batch))

    return run_batched(sign, (x, y), batch_size)


def accuracy(model, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """Top-1 accuracy of `model` on `(x, y)`, with `model.predict` as reports use it."""
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.asarray(probabilities).argmax(axis=-1) == y))
