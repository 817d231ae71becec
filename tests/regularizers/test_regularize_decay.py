"""decay_exempt keeps biases and normalization parameters out of AdamW's decay."""

import keras
import numpy as np
import pytest

from kerasopt.regularizers import decay_exempt

LR, DECAY = 0.1, 0.5


def _model():
    ones = {"bias_initializer": "ones"}
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, name="dense", **ones),
            keras.layers.BatchNormalization(beta_initializer="ones", name="bn"),
            keras.layers.LayerNormalization(beta_initializer="ones", name="ln"),
            keras.layers.Dense(2, name="head", **ones),
        ],
        name="net",
    )


def _zero_gradient_step(exempt):
    """One AdamW step with zero gradients: Adam moves nothing, so only decay acts."""
    model = _model()
    optimizer = keras.optimizers.AdamW(learning_rate=LR, weight_decay=DECAY)
    paths = decay_exempt(optimizer, model) if exempt else []
    before = {v.path: keras.ops.convert_to_numpy(v) for v in model.trainable_variables}
    grads = [keras.ops.zeros_like(v) for v in model.trainable_variables]
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    after = {v.path: keras.ops.convert_to_numpy(v) for v in model.trainable_variables}
    return paths, before, after


def test_exempt_variables_are_not_decayed_and_kernels_are():
    paths, before, after = _zero_gradient_step(exempt=True)
    assert paths == [
        f"net/{p}"
        for p in ("bn/beta", "bn/gamma", "dense/bias", "head/bias", "ln/beta", "ln/gamma")
    ]
    for path in paths:
        np.testing.assert_array_equal(after[path], before[path])
    for path in ("net/dense/kernel", "net/head/kernel"):
        np.testing.assert_allclose(after[path], before[path] * (1 - LR * DECAY), rtol=1e-6)


def test_without_exemption_biases_are_decayed():
    # The control: proves the zero-gradient step above would catch decayed biases.
    _, before, after = _zero_gradient_step(exempt=False)
    for path in ("net/dense/bias", "net/bn/gamma", "net/ln/beta"):
        np.testing.assert_allclose(after[path], before[path] * (1 - LR * DECAY), rtol=1e-6)


def test_training_with_compile_keeps_exemption():
    model = _model()
    optimizer = keras.optimizers.AdamW(learning_rate=LR, weight_decay=DECAY)
    decay_exempt(optimizer, model)
    model.compile(optimizer=optimizer, loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    model.fit(x, np.zeros((8, 2), "float32"), epochs=1, batch_size=8, verbose=0)
    assert not optimizer._use_weight_decay(model.get_layer("head").bias)
    assert optimizer._use_weight_decay(model.get_layer("head").kernel)


def test_bad_arguments_raise():
    model = _model()
    with pytest.raises(ValueError, match=r"Adam has weight_decay=None.*AdamW"):
        decay_exempt(keras.optimizers.Adam(), model)
    built = keras.optimizers.AdamW(weight_decay=0.1)
    built.build(model.trainable_variables)
    with pytest.raises(ValueError, match=r"AdamW is already built"):
        decay_exempt(built, model)
    with pytest.raises(TypeError, match=r"Received: str"):
        decay_exempt("adamw", model)
    with pytest.raises(ValueError, match=r"expects a built keras.Model"):
        decay_exempt(keras.optimizers.AdamW(weight_decay=0.1), keras.Sequential([]))
