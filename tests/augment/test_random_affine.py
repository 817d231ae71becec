import numpy as np
import pytest
import tensorflow as tf

from kerasopt.augment import RandomAffine


@pytest.mark.parametrize(
    "shape, dtype", [((16, 28, 28), "uint8"), ((16, 8, 8, 3), "float32")], ids=["no-channel", "rgb"]
)
def test_shape_and_dtype_are_kept(shape, dtype):
    images = tf.constant(np.random.default_rng(0).integers(0, 16, size=shape).astype(dtype))
    labels = tf.range(16)
    out, out_labels = RandomAffine(seed=1)(images, labels)
    assert out.shape == shape and out.dtype == images.dtype
    np.testing.assert_array_equal(out_labels.numpy(), labels.numpy())


def test_fill_is_black_and_images_move():
    images = tf.ones((8, 16, 16))
    out, _ = RandomAffine(rotation=0.0, zoom=0.0, translation=0.3, seed=0)(images, tf.zeros(8))
    out = out.numpy()
    assert out.min() == 0.0  # pixels moved in from outside are background
    assert (out != 1.0).any(axis=(1, 2)).all()


def test_config_round_trip():
    augment = RandomAffine(rotation=0.1, translation=0.05, zoom=0.0, seed=7)
    assert RandomAffine.from_config(augment.get_config()).get_config() == augment.get_config()


@pytest.mark.parametrize("name", ["rotation", "translation", "zoom"])
def test_out_of_range_fraction(name):
    with pytest.raises(
        ValueError, match=rf"RandomAffine: expected {name} in \[0, 1\)\. Received: {name}=1\.5"
    ):
        RandomAffine(**{name: 1.5})
