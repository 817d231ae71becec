"""Every op: shape, dtype and label handling, config round trip; then each op's effect."""

import numpy as np
import pytest
from augment_cases import ALL_OPS, OP_IDS, assert_op_round_trips

import kerasopt.augment as aug

RGB_ONLY = (aug.RandomSaturation, aug.RandomHue)


@pytest.mark.parametrize("cls, kwargs", ALL_OPS, ids=OP_IDS)
@pytest.mark.parametrize(
    "shape, dtype",
    [((6, 8, 8), "uint8"), ((6, 8, 8, 3), "float32")],
    ids=["gray-uint8", "rgb-float32"],
)
def test_shape_dtype_and_labels(cls, kwargs, shape, dtype, rng):
    if cls in RGB_ONLY and len(shape) == 3:
        pytest.skip("colour op; the grayscale refusal is tested below")
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 16.0
    images = (rng.uniform(0, high, size=shape)).astype(dtype)
    labels = np.arange(6) % 3
    out, out_labels = cls(**kwargs)(images, labels)
    assert out.shape == shape and out.dtype == dtype
    if cls.soft_labels:
        assert out_labels.shape == (6, 10) and out_labels.dtype == "float32"
    else:
        np.testing.assert_array_equal(out_labels.numpy(), labels)


@pytest.mark.parametrize("cls, kwargs", ALL_OPS, ids=OP_IDS)
def test_config_round_trip(cls, kwargs):
    assert_op_round_trips(cls(**kwargs))


@pytest.mark.parametrize("cls, kwargs", ALL_OPS, ids=OP_IDS)
def test_seeded_op_repeats_and_step_changes_the_draw(cls, kwargs, rng):
    images = rng.uniform(0, 1, size=(8, 8, 8, 3)).astype("float32")
    op = cls(**{**kwargs, "seed": 11})
    first, _ = op(images, np.arange(8))
    again, _ = cls.from_config(op.get_config())(images, np.arange(8))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    draws = [op(images, np.arange(8), step=step)[0].numpy() for step in range(3)]
    assert not all(np.array_equal(draws[0], d) for d in draws[1:])


@pytest.mark.parametrize("mode, axes", [("horizontal", (1,)), ("vertical", (0,))])
def test_flip_really_flips(mode, axes, rng):
    images = rng.integers(0, 256, size=(16, 6, 5), dtype=np.uint8)
    out = aug.RandomFlip(mode, seed=0)(images, np.zeros(16))[0].numpy()
    flipped = [np.array_equal(o, np.flip(x, axis=axes)) for o, x in zip(out, images, strict=True)]
    kept = [np.array_equal(o, x) for o, x in zip(out, images, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert any(flipped) and any(kept)


def test_rot90_really_rotates(rng):
    images = rng.integers(0, 256, size=(16, 5, 5, 3), dtype=np.uint8)
    out = aug.RandomRot90(seed=0)(images, np.zeros(16))[0].numpy()
    turns = []
    for o, x in zip(out, images, strict=True):
        matches = [k for k in range(4) if np.array_equal(o, np.rot90(x, k, axes=(0, 1)))]
        assert matches, "output is no quarter turn of its input"
        turns.append(matches[0])
    assert set(turns) == {0, 1, 2, 3}


def test_rot90_refuses_non_square_images():
    with pytest.raises(ValueError, match=r"RandomRot90.*square.*images.shape=\(2, 4, 6\)"):
        aug.RandomRot90()(np.zeros((2, 4, 6)), np.zeros(2))


def test_crop_pad_keeps_shape_and_shifts_content(rng):
    images = rng.integers(1, 256, size=(16, 8, 8), dtype=np.uint8)  # no zeros inside
    out = aug.RandomCropPad(pad=2, seed=0)(images, np.zeros(16))[0].numpy()
    assert out.shape == images.shape
    shifts = []
    for o, x in zip(out, images, strict=True):
        padded = np.pad(x, 2)
        found = [
            (dy - 2, dx - 2)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(padded[dy : dy + 8, dx : dx + 8], o)
        ]
        assert found, "output is no whole-pixel shift of its input"
        shifts.append(found[0])
    assert len(set(shifts)) > 3 and (out == 0).any()


def test_noise_has_the_requested_std():
    images = np.full((16, 16, 16), 100.0, dtype="float32")
    out = aug.GaussianNoise(stddev=0.02, seed=0)(images, np.zeros(16))[0].numpy()
    noise = out - images
    assert abs(noise.mean()) < 0.2
    assert noise.std() == pytest.approx(0.02 * 255, rel=0.05)


def test_noise_is_clipped_to_the_value_range():
    out = aug.GaussianNoise(stddev=0.5, value_range=(0, 16), seed=0)(
        np.full((4, 8, 8), 8.0, "float32"), np.zeros(4)
    )[0]
    assert out.numpy().min() >= 0 and out.numpy().max() <= 16


def test_erasing_zeroes_a_rectangle():
    images = np.full((8, 16, 16), 255, dtype=np.uint8)
    out = aug.RandomErasing(rate=1.0, seed=0)(images, np.zeros(8))[0].numpy()
    for o in out:
        rows, cols = np.nonzero(o == 0)
        assert 0 < len(rows) < o.size
        box = o[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert (box == 0).all() and (o[o != 0] == 255).all()


def test_erasing_rate_zero_changes_nothing(rng):
    images = rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8)
    out = aug.RandomErasing(rate=0.0, seed=0)(images, np.zeros(4))[0].numpy()
    np.testing.assert_array_equal(out, images)


def test_brightness_adds_one_offset_per_image_within_range():
    images = np.full((8, 6, 6), 8.0, dtype="float32")
    out = aug.RandomBrightness(0.25, value_range=(0, 16), seed=0)(images, np.zeros(8))[0]
    delta = out.numpy() - 8.0
    assert np.allclose(delta, delta[:, :1, :1]) and np.abs(delta).max() <= 4.0 + 1e-5
    assert len(np.unique(delta[:, 0, 0].round(4))) > 1


def test_contrast_keeps_the_mean(rng):
    images = rng.uniform(100, 150, size=(8, 6, 6)).astype("float32")
    out = aug.RandomContrast(0.5, seed=0)(images, np.zeros(8))[0].numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), images.mean(axis=(1, 2)), rtol=1e-4)
    assert not np.allclose(out, images)


def test_saturation_stays_in_range_and_keeps_gray_gray(rng):
    images = rng.uniform(0, 255, size=(8, 6, 6, 3)).astype("float32")
    images[0] = images[0, :, :, :1]  # a gray image: r = g = b
    out = aug.RandomSaturation(1.0, seed=0)(images, np.zeros(8))[0].numpy()
    assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3
    np.testing.assert_allclose(out[0], images[0], atol=1e-3)
    identity = aug.RandomSaturation(0.0, seed=0)(images, np.zeros(8))[0].numpy()
    np.testing.assert_allclose(identity, images, atol=1e-2)


def test_hue_keeps_range_and_gray(rng):
    images = rng.uniform(0, 1, size=(8, 6, 6, 3)).astype("float32")
    images[0] = 0.5
    out = aug.RandomHue(0.5, value_range=(0, 1), seed=0)(images, np.zeros(8))[0].numpy()
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_allclose(out[0], 0.5, atol=1e-5)
    assert not np.allclose(out[1:], images[1:])


@pytest.mark.parametrize("cls", RGB_ONLY, ids=lambda c: c.__name__)
@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 8, 8, 1)], ids=["no-channel", "one-channel"])
def test_colour_ops_refuse_grayscale(cls, shape):
    shown = str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=rf"{cls.__name__} \({cls.name}\).*3 channels.*{shown}"):
        cls()(np.zeros(shape, "uint8"), np.zeros(4))


def test_rank_is_checked():
    with pytest.raises(ValueError, match=r"\(b, h, w\) or \(b, h, w, c\).*shape=\(8, 8\)"):
        aug.RandomFlip()(np.zeros((8, 8)), np.zeros(8))


@pytest.mark.parametrize(
    "cls, kwargs, error, match",
    [
        (aug.RandomFlip, {"mode": "horizonal"}, ValueError, "mode=.*Did you mean 'horizontal'"),
        (
            aug.RandomCropPad,
            {"pad": 0},
            ValueError,
            r"RandomCropPad: expected pad to be an integer >= 1\. Received: pad=0",
        ),
        (
            aug.RandomCropPad,
            {"pad": 1.5},
            TypeError,
            r"RandomCropPad: expected pad to be an integer\. Received: pad=1\.5",
        ),
        (
            aug.RandomBrightness,
            {"factor": 1.5},
            ValueError,
            r"RandomBrightness: expected factor in \[0, 1\]\. Received: factor=1\.5",
        ),
        (
            aug.RandomContrast,
            {"value_range": (1, 0)},
            ValueError,
            r"RandomContrast: expected value_range=\(low, high\) with low < high\. "
            r"Received: value_range=\(1, 0\)",
        ),
        (
            aug.GaussianNoise,
            {"stddev": "big"},
            TypeError,
            r"GaussianNoise: expected stddev to be a number\. Received: stddev='big'",
        ),
        (
            aug.RandomErasing,
            {"scale": (0.5, 0.1)},
            ValueError,
            r"RandomErasing: expected scale=.*Received: scale=\(0\.5, 0\.1\)",
        ),
        (
            aug.MixUp,
            {"alpha": 0.0},
            ValueError,
            r"MixUp: expected alpha > 0\. Received: alpha=0\.0",
        ),
        (
            aug.CutMix,
            {"alpha": 2.0},
            ValueError,
            r"CutMix: expected alpha in \(0, 1\]\. Received: alpha=2\.0",
        ),
        (
            aug.RandAugment,
            {"num_ops": 0},
            ValueError,
            r"RandAugment: expected num_ops to be an integer >= 1\. Received: num_ops=0",
        ),
        (
            aug.RandomRot90,
            {"seed": -1},
            ValueError,
            r"RandomRot90: expected seed in \[0, 2147483647\]\. Received: seed=-1",
        ),
        (
            aug.RandomAffine,
            {"zoom": 1.5},
            ValueError,
            r"RandomAffine: expected zoom in \[0, 1\)\. Received: zoom=1\.5",
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_bad_arguments(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(**kwargs)
