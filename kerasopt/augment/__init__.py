"""Batched, on-graph, seeded data augmentation for tf.data pipelines.

Every op and policy is a callable `(images, labels) -> (images, labels)` on whole
batches, for `make_dataset(x, y, augment=...)`. Images are `(b, h, w)` or
`(b, h, w, c)` of any dtype; shape and dtype are kept. Importing this package does not
import TensorFlow; building an op does.

A policy is a list of ops (`AugmentationPolicy`), a spec string such as
`"flip(horizontal), rot90, crop_pad(2), brightness(0.2), mixup(alpha=0.2)"` (syntax in
`kerasopt.augment.spec`), or a TOML table (format in `kerasopt.augment.policy`).
Op names: affine, brightness, contrast, crop_pad, cutmix, erasing (cutout), flip, hue,
mixup, noise, rand_augment, rot90, saturation. Ops with a `value_range` argument (the
range pixel values span, default `(0, 255)`) need it set for other data, e.g.
`(0, 16)` for digits or `(0, 1)` for scaled floats.

Example:

>>> from kerasopt.augment import build_policy
>>> from kerasopt.data import load_dataset, make_dataset
>>> data = load_dataset("digits")
>>> policy = build_policy("crop_pad(1), brightness(0.1, value_range=(0, 16))")
>>> ds = make_dataset(data.x_train, data.y_train, augment=policy)
"""

from kerasopt.augment._base import AugmentOp
from kerasopt.augment.benchmark import benchmark_throughput
from kerasopt.augment.color import RandomBrightness, RandomContrast, RandomHue, RandomSaturation
from kerasopt.augment.crop_pad import RandomCropPad
from kerasopt.augment.erasing import RandomErasing
from kerasopt.augment.flip import RandomFlip
from kerasopt.augment.label_mixing import CutMix, MixUp
from kerasopt.augment.noise import GaussianNoise
from kerasopt.augment.policy import AugmentationPolicy, build_policy
from kerasopt.augment.preview import preview
from kerasopt.augment.rand_augment import RandAugment
from kerasopt.augment.random_affine import RandomAffine
from kerasopt.augment.rot90 import RandomRot90
from kerasopt.augment.safety import check_label_safety
from kerasopt.augment.spec import parse_spec

__all__ = [
    "AugmentOp",
    "AugmentationPolicy",
    "CutMix",
    "GaussianNoise",
    "MixUp",
    "RandAugment",
    "RandomAffine",
    "RandomBrightness",
    "RandomContrast",
    "RandomCropPad",
    "RandomErasing",
    "RandomFlip",
    "RandomHue",
    "RandomRot90",
    "RandomSaturation",
    "benchmark_throughput",
    "build_policy",
    "check_label_safety",
    "parse_spec",
    "preview",
]
