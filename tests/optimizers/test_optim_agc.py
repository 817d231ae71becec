"""AdaptiveGradientClipping: the unit-wise clip of Brock et al. (2021) and the wrapping."""

import keras
import numpy as np
import pytest

from kerasopt.optimizers import AdaptiveGradientClipping, Lookahead


def agc_reference(grad, weight, clip_factor, eps):
    """NumPy AGC in float64: unit norms over all axes but the last (whole tensor if rank <= 1)."""
    axes = tuple(range(grad.ndim - 1)) if grad.ndim > 1 else None
    g_norm = np.sqrt(np.sum(grad**2, axis=axes, keepdims=True))
    w_norm = np.sqrt(np.sum(weight**2, axis=axes, keepdims=True))
    max_norm = clip_factor * np.maximum(w_norm, eps)
    return np.where(g_norm > max_norm, grad * max_norm / np.maximum(g_norm, 1e-30), grad)


def _clipped_by_one_sgd_step(weight, grad, **kwargs):
    """Returns the gradient AGC passed on, read back from one SGD step with lr=1."""
    var = keras.Variable(weight.astype("float32"))
    optimizer = AdaptiveGradientClipping(keras.optimizers.SGD(1.0), **kwargs)
    optimizer.apply([keras.ops.convert_to_tensor(grad.astype("float32"))], [var])
    assert int(optimizer.iterations) == 1
    return weight - var.numpy().astype("float64")


def test_huge_unit_is_clipped_and_small_unit_untouched():
    # Dense kernel (in=2, out=3): unit 0 has a huge gradient, unit 1 a small one, and
    # unit 2 zero weights, where the eps floor sets the bound.
    weight = np.array([[3.0, 1.0, 0.0], [4.0, 1.0, 0.0]])
    grad = np.array([[300.0, 1e-3, 1.0], [400.0, -1e-3, 0.0]])
    clipped = _clipped_by_one_sgd_step(weight, grad, clip_factor=0.1, eps=1e-3)
    np.testing.assert_allclose(np.linalg.norm(clipped[:, 0]), 0.1 * 5.0, rtol=1e-5)
    np.testing.assert_allclose(
        clipped[:, 0], grad[:, 0] * 0.5 / 500.0, rtol=1e-5
    )  # Direction kept.
    np.testing.assert_allclose(clipped[:, 1], grad[:, 1], rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(clipped[:, 2]), 0.1 * 1e-3, rtol=1e-4)
    np.testing.assert_allclose(clipped, agc_reference(grad, weight, 0.1, 1e-3), rtol=1e-4)


@pytest.mark.parametrize(
    "shape", [(), (5,), (4, 3), (3, 3, 2, 4)], ids=["scalar", "vector", "dense", "conv2d"]
)
def test_matches_numpy_reference(shape):
    rng = np.random.default_rng(1)
    weight = rng.normal(size=shape)
    # Mixed magnitudes so some units are clipped and some are not.
    grad = rng.normal(size=shape) * rng.choice([1e-3, 1e2], size=shape[-1:] if shape else ())
    clipped = _clipped_by_one_sgd_step(weight, grad, clip_factor=0.05, eps=1e-3)
    expected = agc_reference(grad, weight, 0.05, 1e-3)
    np.testing.assert_allclose(clipped, expected, rtol=2e-4, atol=1e-6)
    if len(shape) > 1:  # Both branches ran, so the test proves per-unit behaviour.
        changed = ~np.isclose(expected, grad).all(axis=tuple(range(len(shape) - 1)))
        assert changed.any() and not changed.all()


def test_bound_follows_inner_loss_scale_factor():
    weight, grad = np.array([3.0, 4.0]), np.array([30.0, 40.0])
    var = keras.Variable(weight.astype("float32"))
    inner = keras.optimizers.SGD(1.0, loss_scale_factor=128.0)
    AdaptiveGradientClipping(inner, clip_factor=0.1).apply(
        [keras.ops.convert_to_tensor(128.0 * grad.astype("float32"))], [var]
    )
    # The clip acts on the unscaled gradient: norm 50 clipped to 0.1 * 5.
    np.testing.assert_allclose(weight - var.numpy(), grad * 0.5 / 50.0, rtol=1e-5)


def test_trains_and_round_trips_through_keras_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    optimizer = AdaptiveGradientClipping(keras.optimizers.SGD(0.5, momentum=0.9), clip_factor=0.2)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=True)  # The clip runs under XLA.
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.1 * before

    path = tmp_path / "agc.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.optimizer, AdaptiveGradientClipping)
    assert isinstance(loaded.optimizer.inner_optimizer, keras.optimizers.SGD)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.clip_factor == 0.2
    assert int(loaded.optimizer.iterations) == 32
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_learning_rate_iterations_and_nesting_are_the_inner_ones():
    inner = keras.optimizers.SGD(learning_rate=0.1)
    optimizer = AdaptiveGradientClipping(inner)
    optimizer.learning_rate = 0.05
    assert float(inner.learning_rate) == pytest.approx(0.05)
    assert optimizer.iterations is inner.iterations
    nested = AdaptiveGradientClipping(Lookahead(keras.optimizers.SGD(0.1)))
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(nested))
    assert isinstance(restored.inner_optimizer, Lookahead)
    assert restored.get_config() == nested.get_config()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"clip_factor": 0.0},
            ValueError,
            r"AdaptiveGradientClipping: expected clip_factor > 0\. Received: clip_factor=0\.0",
        ),
        ({"clip_factor": -1}, ValueError, r"Received: clip_factor=-1\."),
        (
            {"clip_factor": "0.1"},
            TypeError,
            r"clip_factor to be a number\. Received: clip_factor='0",
        ),
        (
            {"eps": 0.0},
            ValueError,
            r"AdaptiveGradientClipping: expected eps > 0\. Received: eps=0\.0",
        ),
        ({"learning_rate": 0.1}, ValueError, r"uses the inner optimizer's learning rate"),
        ({"clipnorm": 1.0}, ValueError, r"does not apply `clipnorm` itself, got clipnorm=1\.0"),
        ({"momentum": 0.9}, ValueError, r"unexpected argument momentum=0\.9"),
    ],
    ids=["clip0", "clip-negative", "clip-str", "eps0", "learning_rate", "clipnorm", "unknown"],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        AdaptiveGradientClipping(keras.optimizers.SGD(), **kwargs)


def test_rejects_non_optimizer_built_optimizer_and_mismatched_apply():
    with pytest.raises(TypeError, match=r"requires `optimizer` to be a keras.*got 3 \(int\)"):
        AdaptiveGradientClipping(3)
    built = keras.optimizers.SGD()
    built.build([keras.Variable(np.zeros((1,), "float32"))])
    with pytest.raises(ValueError, match=r"requires an unbuilt inner optimizer"):
        AdaptiveGradientClipping(built)
    with pytest.raises(ValueError, match=r"got no variables and is not built yet"):
        AdaptiveGradientClipping(keras.optimizers.SGD()).apply([keras.ops.ones((1,))])
    var = keras.Variable(np.zeros((1,), "float32"))
    with pytest.raises(ValueError, match=r"needs one gradient per variable, got 2 gradients"):
        AdaptiveGradientClipping(keras.optimizers.SGD()).apply([keras.ops.ones((1,))] * 2, [var])
