"""Lookahead: the slow/fast sync of Zhang et al. (2019), Algorithm 1, and the wrapping."""

import keras
import numpy as np
import pytest

from kerasopt.optimizers import Lookahead, RAdam


def lookahead_sgd_reference(w, grads, lr, k, alpha):
    """Returns (fast, slow) after each step of Lookahead around plain SGD, in float64."""
    slow = w.copy()
    out = []
    for t, g in enumerate(grads, start=1):
        w = w - lr * g
        if t % k == 0:
            slow = slow + alpha * (w - slow)
            w = slow.copy()
        out.append((w, slow))
    return out


@pytest.mark.parametrize("k, alpha", [(3, 0.5), (1, 0.8), (4, 1.0)], ids=["k3", "k1", "k4-a1"])
def test_sgd_sync_matches_reference(k, alpha):
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=(3,))
    grads = [rng.normal(size=(3,)) for _ in range(2 * k + 1)]
    expected = lookahead_sgd_reference(w0, grads, 0.1, k, alpha)

    var = keras.Variable(w0.astype("float32"))
    optimizer = Lookahead(keras.optimizers.SGD(0.1), sync_period=k, slow_step_size=alpha)
    for step, (g, (fast, slow)) in enumerate(zip(grads, expected, strict=True), start=1):
        optimizer.apply([keras.ops.convert_to_tensor(g.astype("float32"))], [var])
        np.testing.assert_allclose(var.numpy(), fast, atol=1e-6, rtol=0)
        if step % k == 0:  # Slow weights are only meaningful right after a sync.
            np.testing.assert_allclose(optimizer._slow_weights[0].numpy(), slow, atol=1e-6)
    assert int(optimizer.iterations) == len(grads)


def test_learning_rate_and_iterations_are_the_inner_ones():
    inner = keras.optimizers.SGD(learning_rate=0.1)
    optimizer = Lookahead(inner)
    assert float(optimizer.learning_rate) == pytest.approx(0.1)
    optimizer.learning_rate = 0.05
    assert float(inner.learning_rate) == pytest.approx(0.05)
    var = keras.Variable(np.zeros((2,), "float32"))
    optimizer.apply([keras.ops.ones((2,))], [var])
    # One inner SGD step at the updated inner rate (no sync yet with sync_period=6).
    np.testing.assert_allclose(var.numpy(), [-0.05, -0.05], atol=1e-7)
    assert optimizer.iterations is inner.iterations


def test_sync_inside_jit_compiled_fit():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(96, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=Lookahead(RAdam(0.05), sync_period=3), loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # 6 steps: ends on a sync.
    kernel, slow = model.layers[0].kernel, model.optimizer._slow_weights[0]
    assert int(model.optimizer.iterations) == 6
    np.testing.assert_array_equal(kernel.numpy(), slow.numpy())
    assert not np.allclose(kernel.numpy(), 0.0)


def test_slow_weights_start_from_weights_at_first_step():
    var = keras.Variable(np.zeros((2,), "float32"))
    optimizer = Lookahead(keras.optimizers.SGD(0.1), sync_period=2)
    optimizer.build([var])
    var.assign(np.array([1.0, 2.0], "float32"))  # E.g. weights loaded after compile.
    for _ in range(2):
        optimizer.apply([keras.ops.ones((2,))], [var])
    # slow = 1 + 0.5 * (fast - 1) with fast = w - 0.2.
    np.testing.assert_allclose(var.numpy(), [0.9, 1.9], atol=1e-6)


def test_accepts_optimizer_name():
    optimizer = Lookahead("adam")
    assert isinstance(optimizer.inner_optimizer, keras.optimizers.Adam)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"sync_period": 0},
            ValueError,
            r"Lookahead: expected sync_period to be an integer >= 1\. Received: sync_period=0",
        ),
        (
            {"sync_period": 2.0},
            ValueError,
            r"Lookahead: expected sync_period to be an integer\. Received: sync_period=2\.0",
        ),
        (
            {"slow_step_size": 0.0},
            ValueError,
            r"Lookahead: expected slow_step_size in \(0, 1\]\. Received: slow_step_size=0\.0",
        ),
        ({"slow_step_size": 1.5}, ValueError, r"Received: slow_step_size=1\.5"),
        ({"learning_rate": 0.1}, ValueError, r"Lookahead uses the inner optimizer's learning"),
        ({"clipnorm": 1.0}, ValueError, r"Lookahead does not apply `clipnorm` itself"),
        ({"momentum": 0.9}, ValueError, r"Lookahead got an unexpected argument momentum=0\.9"),
    ],
    ids=["sync0", "sync-float", "alpha0", "alpha>1", "learning_rate", "clipnorm", "unknown"],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Lookahead(keras.optimizers.SGD(), **kwargs)


def test_rejects_non_optimizer_and_built_optimizer():
    with pytest.raises(TypeError, match=r"Lookahead requires `optimizer` to be a keras"):
        Lookahead(3)
    built = keras.optimizers.SGD()
    built.build([keras.Variable(np.zeros((1,), "float32"))])
    with pytest.raises(ValueError, match=r"Lookahead requires an unbuilt inner optimizer"):
        Lookahead(built)
