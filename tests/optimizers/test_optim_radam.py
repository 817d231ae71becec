"""RAdam against a NumPy transcription of Liu et al. (2019), Algorithm 2."""

import keras
import numpy as np
import pytest

from kerasopt.optimizers import RAdam


def radam_reference(w, grads, lr, beta_1, beta_2, epsilon, threshold=5.0):
    """Returns the weights after each step and whether that step was rectified (float64)."""
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    rho_inf = 2.0 / (1.0 - beta_2) - 1.0
    weights, rectified = [], []
    for t, g in enumerate(grads, start=1):
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g * g
        m_hat = m / (1.0 - beta_1**t)
        rho_t = rho_inf - 2.0 * t * beta_2**t / (1.0 - beta_2**t)
        if rho_t >= threshold:
            l_t = 1.0 / (np.sqrt(v / (1.0 - beta_2**t)) + epsilon)
            r_t = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            w = w - lr * r_t * m_hat * l_t
        else:
            w = w - lr * m_hat
        weights.append(w)
        rectified.append(bool(rho_t >= threshold))
    return weights, rectified


@pytest.mark.parametrize(
    "beta_2, n_plain", [(0.999, 5), (0.99, 5), (0.8, 6)], ids=["b2=0.999", "b2=0.99", "b2=0.8"]
)
def test_matches_reference_in_both_branches(beta_2, n_plain):
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(n_plain + 3)]
    expected, rectified = radam_reference(w0, grads, 0.01, 0.9, beta_2, 1e-7)
    # The test is only meaningful if it crosses from the plain to the rectified branch.
    assert rectified == [False] * n_plain + [True] * 3

    var = keras.Variable(w0.astype("float32"))
    optimizer = RAdam(learning_rate=0.01, beta_2=beta_2, epsilon=1e-7)
    for g, want in zip(grads, expected, strict=True):
        optimizer.apply([keras.ops.convert_to_tensor(g.astype("float32"))], [var])
        np.testing.assert_allclose(var.numpy(), want, atol=1e-6, rtol=0)


def test_plain_branch_is_momentum_sgd():
    var = keras.Variable(np.zeros((2,), "float32"))
    optimizer = RAdam(learning_rate=0.1)
    optimizer.apply([keras.ops.convert_to_tensor(np.array([1.0, -2.0], "float32"))], [var])
    # Step 1: m_hat equals the gradient, so the update is exactly -lr * g.
    np.testing.assert_allclose(var.numpy(), [-0.1, 0.2], atol=1e-7)


def test_weight_decay_is_decoupled_and_applied_by_base_class():
    var = keras.Variable(np.full((3,), 2.0, "float32"))
    optimizer = RAdam(learning_rate=0.1, weight_decay=0.5)
    optimizer.apply([keras.ops.zeros((3,))], [var])
    # A zero gradient gives a zero RAdam step, leaving only w -= lr * wd * w.
    np.testing.assert_allclose(var.numpy(), 2.0 * (1 - 0.1 * 0.5), atol=1e-7)


def test_sma_threshold_moves_the_switch():
    w0 = np.ones((3,))
    grads = [np.full((3,), 0.5)] * 8
    expected, rectified = radam_reference(w0, grads, 0.01, 0.9, 0.999, 1e-7, threshold=7.5)
    assert rectified == [False] * 7 + [True]
    var = keras.Variable(w0.astype("float32"))
    optimizer = RAdam(learning_rate=0.01, sma_threshold=7.5)
    for g in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g.astype("float32"))], [var])
    np.testing.assert_allclose(var.numpy(), expected[-1], atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"beta_1": 1.0},
            ValueError,
            r"RAdam: expected beta_1 in \[0, 1\)\. Received: beta_1=1\.0",
        ),
        (
            {"beta_2": -0.1},
            ValueError,
            r"RAdam: expected beta_2 in \[0, 1\)\. Received: beta_2=-0\.1",
        ),
        ({"epsilon": -1.0}, ValueError, r"RAdam: expected epsilon >= 0\. Received: epsilon=-1\.0"),
        (
            {"sma_threshold": 4},
            ValueError,
            r"RAdam: expected sma_threshold > 4\. Received: sma_threshold=4",
        ),
        (
            {"weight_decay": -0.1},
            ValueError,
            r"RAdam: expected weight_decay >= 0\. Received: weight_decay=-0\.1",
        ),
        (
            {"beta_1": "0.9"},
            TypeError,
            r"RAdam: expected beta_1 to be a number\. Received: beta_1='0\.9'",
        ),
    ],
    ids=["beta_1", "beta_2", "epsilon", "sma_threshold", "weight_decay", "beta_1-type"],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RAdam(**kwargs)
