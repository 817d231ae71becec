"""`make_dataset`: the tf.data input pipeline used for training and evaluation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kerasopt.core.errors import InvalidValueError


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 32,
    shuffle: bool = True,
    augment: Callable | None = None,
    cache: bool = True,
    seed: int = 0,
):
    """Builds `cache -> shuffle -> batch -> augment -> prefetch(AUTOTUNE)`.

    Augmentation is mapped on whole batches (one graph call per batch, in parallel with
    training), which is many times faster than transforming images one by one.

    Args:
        x: Samples as the dataset stores them.
        y: Integer labels.
        batch_size: Samples per batch. Defaults to `32`.
        shuffle: Reshuffle every epoch with a seeded buffer. Defaults to `True`.
        augment: A function `(x_batch, y_batch) -> (x_batch, y_batch)`, run on the
            training stream only. Defaults to `None`.
        cache: Cache the decoded samples in memory. Defaults to `True`.
        seed: Shuffle seed, so a run can be repeated. Defaults to `0`.

    Example:

    >>> from kerasopt.data import load_dataset, make_dataset
    >>> data = load_dataset("digits")
    >>> ds = make_dataset(data.x_train, data.y_train, batch_size=64)
    """
    import tensorflow as tf

    if batch_size < 1:
        raise InvalidValueError(f"make_dataset needs batch_size >= 1. Received: {batch_size=}.")
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
