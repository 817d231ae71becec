"""`CameraInput`: camera pixels in, the model's own input out, inside the graph.

A phone gives `[1, H, W, 3]` RGB bytes; a model trained on gray 8x8 digits stored as 0-16
wants `(8, 8)` floats in 0-16. Putting that conversion in the exported graph means the app
passes the camera frame as it is, and no app can get the preprocessing wrong.

This module imports Keras at import time; `kerasopt.export` imports it only when a bundle
is built.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasopt.core.errors import InvalidValueError

# ITU-R BT.601 luma (tf.image.rgb_to_grayscale rounds them to 4 digits); they sum to 1, so a gray
# pixel repeated in R, G and B converts back to itself.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def check_image_shape(shape, where: str) -> tuple[int, ...]:
    """`shape` (one sample) if an image model can take it: `(H, W)`, `(H, W, 1|3)`."""
    shape = tuple(int(d) if d is not None else -1 for d in shape)
    rank_ok = len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))
    if not rank_ok or min(shape) < 1:
        raise InvalidValueError(
            f"{where}: an image bundle needs a model whose input is one image of fixed "
            f"size, (H, W), (H, W, 1) or (H, W, 3). Received: input shape {shape}. "
            "Bundle the image model itself, not a model over features or sequences."
        )
    return shape


@keras.saving.register_keras_serializable(package="kerasopt")
class CameraInput(keras.layers.Layer):
    """Maps RGB camera pixels (0-255) to a model's input shape and value range.

    Gray models (input `(H, W)` or `(H, W, 1)`) get the luma of the pixel; every model
    gets its values mapped linearly from 0-255 to `value_range`, the range its training
    data was stored in.

    Args:
        target_shape: One sample of the model's input, `(H, W)`, `(H, W, 1)` or
            `(H, W, 3)`.
        value_range: `(low, high)` of the training data. Defaults to `(0.0, 255.0)`.

    Example:

    >>> layer = CameraInput((8, 8), value_range=(0.0, 16.0))
    >>> layer(np.full((1, 8, 8, 3), 255.0, "float32")).shape
    (1, 8, 8)
    """

    def __init__(self, target_shape, value_range=(0.0, 255.0), **kwargs):
        super().__init__(**kwargs)
        self.target_shape = check_image_shape(target_shape, "CameraInput")
        low, high = (float(v) for v in value_range)
        if not np.isfinite([low, high]).all() or not high > low:
            raise InvalidValueError(
                "CameraInput: value_range must be two finite numbers, low < high. "
                f"Received: value_range={tuple(value_range)}."
            )
        self.value_range = (low, high)

    @property
    def gray(self) -> bool:
        return len(self.target_shape) == 2 or self.target_shape[-1] == 1

    def call(self, pixels):
        low, high = self.value_range
        scale = (high - low) / 255.0
        x = keras.ops.cast(pixels, "float32")
        if self.gray:
            # A fixed 1x1 convolution: TFLite quantizes it to one int8 CONV_2D.
            kernel = np.asarray(LUMA_WEIGHTS, "float32").reshape(1, 1, 3, 1) * scale
            x = keras.ops.conv(x, kernel) + low
        else:
            x = x * scale + low
        return keras.ops.reshape(x, (-1, *self.target_shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.target_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"target_shape": list(self.target_shape), "value_range": self.value_range})
        return config


def to_camera_pixels(x: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Images as stored (`value_range`) -> `uint8 [N, H, W, 3]` RGB, as a camera gives.

    The inverse of `CameraInput` up to rounding to whole bytes; gray images repeat in R, G
    and B. The bundle is scored on these pixels, LiteRT and MediaPipe alike.

    Example:

    >>> to_camera_pixels(np.full((1, 8, 8), 16.0), (0.0, 16.0))[0, 0, 0]
    array([255, 255, 255], dtype=uint8)
    """
    x = np.asarray(x, dtype="float32")
    low, high = value_range
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise InvalidValueError(
            f"to_camera_pixels: expected images (N, H, W), (N, H, W, 1) or (N, H, W, 3). "
            f"Received: shape {x.shape}."
        )
    # Scale and round before gray becomes RGB: on 54,000 Fashion-MNIST images, float32
    # RGB intermediates took the run's peak memory from 1.3 GB to 3.1 GB.
    scaled = (x - low) * np.float32(255.0 / (high - low))
    pixels = np.clip(np.round(scaled, out=scaled), 0, 255, out=scaled).astype("uint8")
    return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels
