"""Stateless, order-independent seeds for augmentation inside parallel `tf.data` maps.

Keras preprocessing layers draw their randomness from a `SeedGenerator`, a variable that
every call advances. Inside `Dataset.map(..., num_parallel_calls=AUTOTUNE)` the calls run
concurrently, so which batch gets which state is a race and a seeded run does not
repeat. Here each batch gets a seed computed from its own content (a fingerprint of the
pixels) and the op's seed, so the same batch always gets the same augmentation, whatever
the thread schedule. Keras layers are fed this seed through `StatelessSeedGenerator`.

This module imports TensorFlow and Keras at import time; `kerasopt.augment` loads it
lazily, from inside the ops.
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf


class StatelessSeedGenerator(keras.random.SeedGenerator):
    """A `SeedGenerator` without state: draw `i` is `fold_in(seed, i)`.

    Keras' random ops accept any `SeedGenerator` and only call its `next()`. This one
    derives every draw from a seed tensor, so the draws inside a traced `tf.data`
    function are fixed functions of that tensor. No variable is created.
    """

    def __init__(self, seed):  # noqa: D107 - skips the parent, which creates a variable.
        self.name = "kerasopt_stateless_seed"
        self._initial_seed = None
        self._seed = seed
        self._draws = 0

    def next(self, ordered=True):
        self._draws += 1
        return tf.random.experimental.stateless_fold_in(self._seed, self._draws)


def batch_seed(images, step=None):
    """An int32 `[2]` seed fingerprinted from the batch's pixels (and `step`)."""
    flat = tf.reshape(images, [1, -1])
    fingerprint = tf.fingerprint(flat)  # (1, 8) uint8
    seed = tf.bitcast(tf.reshape(fingerprint, [2, 4]), tf.int32)
    if step is not None:
        seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(step, tf.int64))
    return seed


def fold(seed, data: int):
    """Folds an integer into a seed tensor, giving an independent stream."""
    return tf.random.experimental.stateless_fold_in(seed, data)


@contextlib.contextmanager
def _generator(layer, generator, swap: bool):
    # RandAugment ignores the `seed` argument and reads `layer.generator`; the attribute is
    # set with object.__setattr__ so Keras' tracker does not record the temporary object.
    previous = layer.generator if swap else None
    if swap:
        object.__setattr__(layer, "generator", generator)
    layer.backend.set_backend("tensorflow")
    try:
        yield
    finally:
        layer.backend.reset()
        if swap:
            object.__setattr__(layer, "generator", previous)


def run_keras_layer(layer, images, seed, labels=None, *, swap_generator=False, fix=None):
    """Applies a Keras preprocessing layer to a float batch with a stateless seed.

    Args:
        layer: A Keras image preprocessing layer.
        images: `(b, h, w, c)` float32 batch.
        seed: int32 `[2]` seed tensor.
        labels: One-hot labels to transform along, or `None`. Defaults to `None`.
        swap_generator: Also replace `layer.generator` during the call, for layers that
            ignore the `seed` argument (RandAugment). Defaults to `False`.
        fix: A function `(transformation) -> transformation` applied before use, or
            `None`. Defaults to `None`.

    Returns:
        `images` or `(images, labels)` when labels are given.
    """
    generator = StatelessSeedGenerator(seed)
    with _generator(layer, generator, swap_generator):
        transformation = layer.get_random_transformation(images, training=True, seed=generator)
        if fix is not None:
            transformation = fix(transformation)
        out = layer.transform_images(images, transformation, training=True)
        if labels is None:
            return out
        return out, layer.transform_labels(labels, transformation, training=True)
