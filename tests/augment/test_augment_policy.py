"""`AugmentationPolicy`: composition, seeding through tf.data, config and repr."""

import numpy as np
import pytest
from augment_cases import ALL_OPS

from kerasopt.augment import AugmentationPolicy, GaussianNoise, RandomFlip, build_policy
from kerasopt.data import make_dataset

SPEC = "flip, affine, crop_pad(1), noise(0.05, value_range=(0, 16)), mixup(alpha=0.4)"


def _epoch(policy, x, y):
    batches = list(make_dataset(x, y, batch_size=32, augment=policy))
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def test_same_seed_repeats_through_parallel_tf_data(rng):
    x = rng.uniform(0, 16, size=(256, 8, 8)).astype("float32")
    y = rng.integers(0, 10, size=256)
    first = _epoch(build_policy(SPEC, seed=0, num_classes=10), x, y)
    second = _epoch(build_policy(SPEC, seed=0, num_classes=10), x, y)
    other = _epoch(build_policy(SPEC, seed=1, num_classes=10), x, y)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[0].shape == x.shape and first[1].shape == (256, 10)
    assert not np.array_equal(first[0], other[0])


def test_ops_of_a_policy_draw_independently():
    # Equal seeds would add the same noise twice (std 2s); independent ones give sqrt(2)s.
    images = np.full((16, 16, 16), 100.0, "float32")
    policy = AugmentationPolicy([GaussianNoise(0.02), GaussianNoise(0.02)], seed=0)
    noise = policy(images, np.zeros(16))[0].numpy() - images
    assert noise.std() == pytest.approx(np.sqrt(2) * 0.02 * 255, rel=0.05)


def test_explicit_op_seed_wins_and_step_varies_draws(rng):
    images = rng.integers(0, 256, size=(16, 8, 8), dtype=np.uint8)
    a = AugmentationPolicy([RandomFlip(seed=5)], seed=0)(images, np.zeros(16))[0]
    b = AugmentationPolicy([RandomFlip(seed=5)], seed=9)(images, np.zeros(16))[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    policy = AugmentationPolicy(["rot90"], seed=0)
    draws = [policy(images, np.zeros(16), step=s)[0].numpy() for s in range(2)]
    assert not np.array_equal(draws[0], draws[1])
    np.testing.assert_array_equal(policy(images, np.zeros(16), step=1)[0].numpy(), draws[1])


def test_every_op_composes_in_one_policy_round_trip():
    policy = AugmentationPolicy([cls(**kwargs) for cls, kwargs in ALL_OPS], seed=3)
    config = policy.get_config()
    assert [op["name"] for op in config["ops"]][:3] == ["flip", "rot90", "affine"]
    assert AugmentationPolicy.from_config(config) == policy
    assert AugmentationPolicy.from_spec(policy.to_spec(), seed=3) == policy


def test_policy_applies_ops_in_order_on_rgb(rng):
    images = rng.integers(0, 256, size=(4, 8, 8, 3), dtype=np.uint8)
    policy = build_policy("flip, saturation(0.3), hue(0.1), cutmix", num_classes=4)
    out, labels = policy(images, np.arange(4))
    assert out.shape == images.shape and out.dtype == np.uint8 and labels.shape == (4, 4)


def test_repr_and_spec():
    policy = AugmentationPolicy.from_spec("flip(vertical), crop_pad(2)", seed=4)
    assert repr(policy) == (
        "AugmentationPolicy([RandomFlip(mode='vertical'), RandomCropPad(pad=2)], seed=4)"
    )
    assert policy.to_spec() == 'flip(mode="vertical"), crop_pad(pad=2)'
    assert len(policy) == 2 and [op.name for op in policy] == ["flip", "crop_pad"]


def test_empty_policy_is_the_identity(rng):
    images = rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8)
    out, labels = AugmentationPolicy()(images, np.arange(4))
    np.testing.assert_array_equal(out.numpy(), images)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"seed": 1.5},
            r"AugmentationPolicy: expected seed to be an integer\. Received: seed=1\.5",
        ),
        (
            {"num_classes": 1},
            r"AugmentationPolicy: expected num_classes to be an integer >= 2\. "
            r"Received: num_classes=1",
        ),
    ],
    ids=["seed", "num_classes"],
)
def test_bad_policy_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        AugmentationPolicy(["flip"], **kwargs)
