"""Batched, on-graph data augmentation for tf.data pipelines."""

from kerasopt.augment.random_affine import RandomAffine

__all__ = ["RandomAffine"]
