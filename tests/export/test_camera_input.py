"""`CameraInput`: camera bytes to a model's own input, inside the graph."""

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.camera_input import CameraInput, to_camera_pixels


def test_gray_pixels_map_back_to_the_training_range(rng):
    x = rng.uniform(0, 16, size=(5, 8, 8)).astype("float32")
    pixels = to_camera_pixels(x, (0.0, 16.0))
    assert pixels.shape == (5, 8, 8, 3) and pixels.dtype == np.uint8
    assert (pixels[..., 0] == pixels[..., 2]).all()
    back = keras.ops.convert_to_numpy(CameraInput((8, 8), (0.0, 16.0))(pixels.astype("float32")))
    assert back.shape == (5, 8, 8)
    # Half a byte step of 16/255, plus the luma weights' rounding.
    np.testing.assert_allclose(back, x, atol=16 / 255 / 2 + 1e-3)


def test_color_images_keep_their_channels(rng):
    x = rng.uniform(0, 1, size=(3, 4, 4, 3)).astype("float32")
    pixels = to_camera_pixels(x, (0.0, 1.0))
    back = keras.ops.convert_to_numpy(CameraInput((4, 4, 3), (0.0, 1.0))(pixels.astype("float32")))
    np.testing.assert_allclose(back, x, atol=0.5 / 255 + 1e-6)
    assert not np.allclose(back[..., 0], back[..., 1])


def test_a_model_with_the_layer_saves_and_loads(tmp_path):
    layer = CameraInput((8, 8, 1), value_range=(-1.0, 1.0), name="camera")
    model = keras.Sequential([keras.Input((8, 8, 3)), layer])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    restored = loaded.get_layer("camera")
    assert restored.target_shape == (8, 8, 1) and restored.value_range == (-1.0, 1.0)
    frame = np.full((1, 8, 8, 3), 255.0, "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(frame)), 1.0, atol=1e-3)


@pytest.mark.parametrize(
    "shape, value_range, message",
    [
        (
            (8, 8, 2),
            (0, 1),
            r"\(H, W\), \(H, W, 1\) or \(H, W, 3\). Received: input shape \(8, 8, 2\)",
        ),
        ((64,), (0, 1), r"Received: input shape \(64,\)"),
        ((8, 8), (1, 1), r"low < high. Received: value_range=\(1, 1\)"),
    ],
    ids=["two_channels", "features", "empty_range"],
)
def test_bad_shapes_and_ranges_are_refused(shape, value_range, message):
    with pytest.raises(InvalidValueError, match=message):
        CameraInput(shape, value_range)
