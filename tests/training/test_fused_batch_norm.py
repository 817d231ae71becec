import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasopt.models import build_cnn, build_residual_cnn, load_model_safely
from kerasopt.training import ConfigError, TrainConfig, fused_batch_norm, train
from kerasopt.training.fused_batch_norm import fused_batch_norm_call, fuses


def _pair(shape, **kwargs):
    """Two Keras BatchNormalization layers with the same (non-trivial) weights."""
    rng = np.random.default_rng(0)
    plain = keras.layers.BatchNormalization(momentum=0.9, **kwargs)
    fused = keras.layers.BatchNormalization(momentum=0.9, **kwargs)
    plain.build(shape)
    fused.build(shape)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in plain.get_weights()]
    plain.set_weights(weights)
    fused.set_weights(weights)
    return plain, fused


def _gradients(call, layer, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        # A weighting that is not constant over the batch, so the gradient is not zero.
        y = call(layer, x, training=True) * tf.range(1.0, x.shape[-1] + 1.0)
        loss = tf.reduce_sum(tf.square(y))
    return tape.gradient(loss, [x, *layer.trainable_weights])


def _keras_call(layer, x, training=None):
    return layer(x, training=training)


@pytest.mark.parametrize("shape", [(16, 6, 5, 3), (16, 7, 3), (16, 3)])
def test_training_matches_keras_outputs_statistics_and_gradients(shape):
    x = np.random.default_rng(1).normal(2.0, 3.0, shape).astype("float32")
    plain, fused = _pair(shape)
    assert fuses(fused, x)
    np.testing.assert_allclose(
        fused_batch_norm_call(fused, x, training=True), plain(x, training=True), atol=1e-5
    )
    # The moving statistics average the batch's biased variance, as Keras' do.
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, rtol=1e-5)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, rtol=1e-5)
    got = _gradients(fused_batch_norm_call, fused, x)
    expected = _gradients(_keras_call, plain, x)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_inference_and_other_layouts_run_keras_code():
    x = np.random.default_rng(2).normal(size=(8, 3, 4, 5)).astype("float32")
    plain, fused = _pair(x.shape)
    np.testing.assert_array_equal(
        fused_batch_norm_call(fused, x, training=False), plain(x, training=False)
    )
    # Channels first is not what the kernel takes: Keras' own code normalizes it.
    plain_first, fused_first = _pair(x.shape, axis=1)
    assert not fuses(fused_first, x)
    np.testing.assert_allclose(
        fused_batch_norm_call(fused_first, x, training=True),
        plain_first(x, training=True),
        atol=1e-5,
    )
    # Without scale and center the kernel gets ones and zeros.
    plain_bare, fused_bare = _pair(x.shape, center=False, scale=False)
    np.testing.assert_allclose(
        fused_batch_norm_call(fused_bare, x, training=True),
        plain_bare(x, training=True),
        atol=1e-5,
    )


def test_block_switches_every_batch_norm_then_restores_it(tmp_path):
    inner = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization()],
        name="backbone",
    )
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.BatchNormalization(name="outer_bn")(keras.layers.Flatten()(inner(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    layers = [inner.layers[-1], model.get_layer("outer_bn")]
    with fused_batch_norm(model) as switched:
        assert switched == 2
        assert all(layer.call.__func__ is fused_batch_norm_call for layer in layers)
        # Saved inside the block, the model is still plain Keras.
        model.save(tmp_path / "inside.keras")
    assert all("call" not in vars(layer) for layer in layers)
    saved = json.dumps(load_model_safely(tmp_path / "inside.keras").get_config())
    assert "Fused" not in saved and "BatchNormalization" in saved


def test_train_fused_trains_like_keras(digits):
    def trained(batch_norm):
        keras.utils.set_random_seed(0)
        model = build_residual_cnn(digits.input_shape, 10, input_max=16, widths=(8, 16))
        config = TrainConfig(
            epochs=2, batch_size=64, augment=None, batch_norm=batch_norm, checkpoint=False
        )
        return model, train(model, digits, config, verbose=0)

    fused, fused_result = trained("fused")
    plain, plain_result = trained("keras")
    assert (fused_result.batch_norm_fused, plain_result.batch_norm_fused) == (4, 0)
    # The model itself trained: its optimizer ran every step.
    assert int(fused.optimizer.iterations) == 2 * int(np.ceil(len(digits.x_train) / 64))
    # The same training, up to the summation order: moving statistics included.
    for got, expected in zip(fused.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, rtol=0.05, atol=0.02)
    agreement = np.mean(
        fused.predict(digits.x_test, verbose=0).argmax(-1)
        == plain.predict(digits.x_test, verbose=0).argmax(-1)
    )
    assert agreement >= 0.97


def test_a_model_without_batch_norm_switches_nothing(digits):
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), batch_norm=False)
    with fused_batch_norm(model) as switched:
        assert switched == 0


def test_unknown_batch_norm_names_the_valid_ones():
    with pytest.raises(ConfigError, match=r"batch_norm='fast'.*'fused', 'keras'"):
        TrainConfig(batch_norm="fast")
