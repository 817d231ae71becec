"""Label safety warnings, the preview grid and the throughput benchmark."""

import warnings

import numpy as np
import pytest

from kerasopt.augment import benchmark_throughput, check_label_safety, preview

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def test_flip_on_digits_warns_with_op_dataset_and_fix():
    with pytest.warns(UserWarning, match=r"'flip' \(RandomFlip\).*'digits'.*Fix: drop it"):
        assert check_label_safety("flip(horizontal), brightness(0.2)", "digits") == ["flip"]


def test_rot90_and_vertical_flip_warn_where_classes_are_upright():
    with pytest.warns(UserWarning) as record:
        found = check_label_safety("flip(vertical), rot90, flip(horizontal)", "Fashion-MNIST")
    assert found == ["flip", "rot90"] and len(record) == 2
    assert 'flip(mode="horizontal")' in str(record[0].message)
    assert "small rotations" in str(record[1].message)


@pytest.mark.parametrize(
    "spec, dataset",
    [
        ("brightness(0.2), crop_pad(2), affine", "digits"),
        ("flip(horizontal), contrast(0.2)", "cifar10"),
        ("flip, rot90", "my_satellite_images"),
        ("flip, rot90", None),
    ],
    ids=["safe-ops", "horizontal-on-cifar", "unknown-dataset", "no-dataset"],
)
def test_no_warning_when_labels_keep_their_meaning(spec, dataset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_label_safety(spec, dataset) == []


def test_preview_writes_a_png(tmp_path, rng):
    images = rng.integers(0, 256, size=(10, 8, 8), dtype=np.uint8)
    path = preview(
        "flip, crop_pad(1), mixup(0.4)",
        images,
        tmp_path / "grid.png",
        labels=np.arange(10) % 3,
        samples=3,
        repeats=2,
    )
    data = path.read_bytes()
    assert path == tmp_path / "grid.png" and data.startswith(PNG_HEADER) and len(data) > 2000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]  # no partial file left


def test_preview_rgb_without_labels(tmp_path, rng):
    images = rng.uniform(0, 1, size=(2, 8, 8, 3)).astype("float32")
    path = preview("hue(0.2, value_range=(0, 1)), cutmix", images, tmp_path / "rgb.png")
    assert path.read_bytes().startswith(PNG_HEADER)
    with pytest.raises(
        ValueError, match=r"preview: expected repeats to be an integer >= 1\. Received: repeats=0"
    ):
        preview("flip", images, tmp_path / "x.png", repeats=0)


def test_benchmark_returns_sane_numbers(rng):
    images = rng.integers(0, 256, size=(24, 8, 8), dtype=np.uint8)
    result = benchmark_throughput(
        "flip, rot90, crop_pad(1), brightness(0.2), mixup",
        images,
        np.arange(24) % 3,
        batch_size=8,
        repeats=1,
    )
    assert set(result) == {
        "batched_images_per_s",
        "loop_images_per_s",
        "speedup",
        "images",
        "batch_size",
    }
    assert result["images"] == 24 and result["batch_size"] == 8
    assert result["batched_images_per_s"] > 0 and result["loop_images_per_s"] > 0
    assert result["speedup"] == pytest.approx(
        result["batched_images_per_s"] / result["loop_images_per_s"]
    )


def test_benchmark_argument_checks(rng):
    images = rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8)
    with pytest.raises(
        ValueError,
        match=r"benchmark_throughput: expected batch_size to be an integer >= 1\. "
        r"Received: batch_size=0",
    ):
        benchmark_throughput("flip", images, np.arange(4), batch_size=0)
    with pytest.raises(ValueError, match=r"at least one op"):
        benchmark_throughput("", images, np.arange(4))
