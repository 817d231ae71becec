"""`benchmark_throughput`: batched tf.data augmentation against a per-image Python loop.

The loop is the pattern of many tutorials: for each image, eager `tf.image` calls
(`flip_left_right`, `rot90`, pad + `random_crop`, `adjust_brightness`, ...), then stack
the results. Both sides do the same kind of work per image: the loop uses the
`tf.image` counterpart of each op of the policy with the same parameters, and ops
without one (affine, erasing, mixup, cutmix, rand_augment) run as the kerasopt op on a
batch of one image. Both are timed end-to-end from the uint8/float arrays to augmented
tensors, after an untimed warm-up (tracing, caches), best of `repeats` runs.
"""

from __future__ import annotations

import time

import numpy as np

from kerasopt.augment.color import RandomBrightness, RandomContrast, RandomHue, RandomSaturation
from kerasopt.augment.crop_pad import RandomCropPad
from kerasopt.augment.flip import RandomFlip
from kerasopt.augment.noise import GaussianNoise
from kerasopt.augment.rot90 import RandomRot90
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_positive_int


def _per_image_step(op, rng):
    """The one-image eager `tf.image` counterpart of `op`: `(image, label) -> image`."""
    import tensorflow as tf

    if isinstance(op, RandomFlip):

        def flip(x, _):
            if op.mode != "vertical" and rng.random() < 0.5:
                x = tf.image.flip_left_right(x)
            if op.mode != "horizontal" and rng.random() < 0.5:
                x = tf.image.flip_up_down(x)
            return x

        return flip
    if isinstance(op, RandomRot90):
        return lambda x, _: tf.image.rot90(x, k=int(rng.integers(4)))
    if isinstance(op, RandomCropPad):
        pad = op.pad

        def crop(x, _):
            padded = tf.pad(x, [[pad, pad], [pad, pad], [0, 0]], mode=op.fill_mode)
            return tf.image.random_crop(padded, tf.shape(x))

        return crop
    if isinstance(op, (RandomBrightness, RandomContrast, RandomSaturation, RandomHue)):
        low, high = op.value_range
        adjust = {
            RandomBrightness: lambda x, f: tf.image.adjust_brightness(x, f * (high - low)),
            RandomContrast: lambda x, f: tf.image.adjust_contrast(x, 1.0 + f),
            RandomSaturation: lambda x, f: tf.image.adjust_saturation(x, 1.0 + f),
            RandomHue: lambda x, f: tf.image.adjust_hue(x, f / 2),
        }[type(op)]

        def color(x, _):
            factor = float(rng.uniform(-op.factor, op.factor))
            return tf.clip_by_value(adjust(x, factor), low, high)

        return color
    if isinstance(op, GaussianNoise):
        low, high = op.value_range
        std = op.stddev * (high - low)
        return lambda x, _: tf.clip_by_value(x + tf.random.normal(tf.shape(x), 0, std), low, high)

    def one_image_batch(x, label):
        return op(x[None], label[None])[0][0]

    return one_image_batch


def _loop_augment(steps, images, labels):
    import tensorflow as tf

    out = []
    for image, label in zip(images, labels, strict=True):
        x = tf.cast(tf.convert_to_tensor(image), tf.float32)
        x = x[..., None] if image.ndim == 2 else x
        for step in steps:
            x = step(x, label)
        x = x[..., 0] if image.ndim == 2 else x
        integer = images.dtype.kind in "ui"
        out.append(
            tf.saturate_cast(tf.round(x), images.dtype) if integer else tf.cast(x, images.dtype)
        )
    return tf.stack(out)


def _best_seconds(run, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def benchmark_throughput(
    policy,
    images,
    labels,
    *,
    batch_size: int = 128,
    repeats: int = 3,
    seed: int = 0,
) -> dict:
    """Measures images/second of batched tf.data augmentation and of a per-image loop.

    (a) `make_dataset(images, labels, augment=policy, shuffle=False)`, iterating all
    batches; (b) a Python loop of eager per-image `tf.image` calls equivalent to the
    policy's ops, then `tf.stack`. Each side is warmed up once untimed, then timed
    `repeats` times end-to-end; the best time counts (least disturbed by other load).

    Args:
        policy: An `AugmentationPolicy` or anything `build_policy` accepts, e.g.
            `"flip(horizontal), rot90, crop_pad(2), brightness(0.2)"`.
        images: `(n, h, w)` or `(n, h, w, c)` images, e.g. uint8 28x28.
        labels: `(n,)` integer labels (label mixing ops get `num_classes` from their
            maximum) or `(n, classes)` one-hot labels.
        batch_size: Batch size of the tf.data pipeline. Defaults to `128`.
        repeats: Timed runs per side. Defaults to `3`.
        seed: Policy seed, and seed of the loop's random draws. Defaults to `0`.

    Returns:
        `{"batched_images_per_s", "loop_images_per_s", "speedup", "images",
        "batch_size"}`, with `speedup = batched / loop`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.augment import benchmark_throughput
    >>> images = np.random.default_rng(0).integers(0, 256, (2048, 28, 28), dtype="uint8")
    >>> labels = np.arange(2048) % 10
    >>> result = benchmark_throughput("flip, rot90, crop_pad(2), brightness(0.2)",
    ...                               images, labels)  # doctest: +SKIP
    """
    from kerasopt.augment.policy import build_policy
    from kerasopt.data import make_dataset

    images, labels = np.asarray(images), np.asarray(labels)
    check_positive_int("benchmark_throughput", "batch_size", batch_size, example=128)
    check_positive_int("benchmark_throughput", "repeats", repeats, example=3)
    if images.ndim not in (3, 4) or len(images) != len(labels) or len(images) == 0:
        raise InvalidValueError(
            "benchmark_throughput expects images (n, h, w) or (n, h, w, c) and n labels. "
            f"Received: images.shape={images.shape}, labels.shape={labels.shape}."
        )
    num_classes = max(int(labels.max()) + 1, 2) if labels.ndim == 1 else None
    policy = build_policy(policy, seed=seed, num_classes=num_classes)
    if policy is None:
        raise InvalidValueError(
            "benchmark_throughput needs a policy with at least one op. Received an empty "
            "spec; pass e.g. 'flip, rot90, crop_pad(2), brightness(0.2)'."
        )

    dataset = make_dataset(images, labels, batch_size=batch_size, shuffle=False, augment=policy)

    def run_batched():
        return [batch for batch in dataset]

    rng = np.random.default_rng(seed)
    steps = [_per_image_step(op, rng) for op in policy.ops]

    run_batched()  # warm-up: traces the map function and fills the cache
    batched = _best_seconds(run_batched, repeats)
    _loop_augment(steps, images[:batch_size], labels[:batch_size])  # warm-up
    loop = _best_seconds(lambda: _loop_augment(steps, images, labels), repeats)
    n = len(images)
    return {
        "batched_images_per_s": n / batched,
        "loop_images_per_s": n / loop,
        "speedup": loop / batched,
        "images": n,
        "batch_size": batch_size,
    }
