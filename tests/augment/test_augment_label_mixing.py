"""MixUp and CutMix: labels are convex combinations weighted exactly as the images."""

import numpy as np
import pytest

from kerasopt.augment import AugmentationPolicy, CutMix, MixUp


def test_mixup_labels_are_a_convex_combination_matching_the_images(rng):
    images = rng.uniform(0, 1, size=(16, 4, 4, 2)).astype("float32")
    out, labels = MixUp(alpha=1.0, num_classes=16, seed=0)(images, np.arange(16))
    labels = labels.numpy()
    assert labels.shape == (16, 16) and labels.dtype == np.float32
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-6)
    assert (labels >= 0).all() and ((labels > 0).sum(axis=1) <= 2).all()
    # Image i is sum_k labels[i, k] * image_k: the same weights mix pixels and labels.
    expected = np.einsum("ik,khwc->ihwc", labels, images)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)
    assert ((labels > 0).sum(axis=1) == 2).any()


def test_cutmix_label_weights_equal_the_pasted_area(rng):
    # Image i is filled with the value i + 1, so each pixel tells which image it came from.
    images = np.broadcast_to(np.arange(1, 17, dtype="float32")[:, None, None], (16, 8, 8))
    out, labels = CutMix(alpha=1.0, num_classes=16, seed=0)(images.copy(), np.arange(16))
    out, labels = out.numpy(), labels.numpy()
    for i in range(16):
        area = np.array([(out[i] == k + 1).mean() for k in range(16)])
        np.testing.assert_allclose(labels[i], area, atol=1e-6)
    assert ((labels > 0).sum(axis=1) == 2).any()


def test_mixing_ops_accept_one_hot_labels_and_chain(rng):
    images = rng.integers(0, 256, size=(8, 8, 8), dtype=np.uint8)
    policy = AugmentationPolicy([MixUp(0.4), CutMix()], seed=0, num_classes=5)
    out, labels = policy(images, np.arange(8) % 5)
    assert out.dtype == np.uint8 and labels.shape == (8, 5)
    np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, rtol=1e-6)
    one_hot = np.eye(5, dtype="float32")[np.arange(8) % 5]
    _, labels = MixUp(seed=0)(images, one_hot)
    assert labels.shape == (8, 5)


def test_integer_labels_without_num_classes_are_refused():
    with pytest.raises(ValueError, match=r"MixUp.*needs num_classes.*labels.shape=\(4,\)"):
        MixUp()(np.zeros((4, 8, 8)), np.arange(4))


def test_one_hot_width_must_match_num_classes():
    with pytest.raises(ValueError, match=r"CutMix got one-hot labels of width 3.*num_classes=5"):
        CutMix(num_classes=5)(np.zeros((4, 8, 8)), np.eye(3)[[0, 1, 2, 0]])


def test_policy_reports_soft_labels():
    assert AugmentationPolicy(["flip", "mixup"], num_classes=3).soft_labels
    assert not AugmentationPolicy(["flip", "crop_pad(1)"]).soft_labels
    assert AugmentationPolicy.from_spec("cutmix(0.5)").soft_labels
