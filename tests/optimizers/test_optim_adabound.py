"""AdaBound against a NumPy transcription of the authors' reference implementation."""

import keras
import numpy as np
import pytest

from kerasopt.optimizers import AdaBound


def adabound_reference(w, grads, lrs, base_lr, final_lr, gamma, beta_1, beta_2, eps, amsbound):
    """Luolc/AdaBound `AdaBound.step`, one call per gradient, in float64."""
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    weights, clipped_low, clipped_high = [], False, False
    for t, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        v_max = np.maximum(v_max, v)
        denom = np.sqrt(v_max if amsbound else v) + eps
        step_size = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        scaled_final_lr = final_lr * lr / base_lr
        lower = scaled_final_lr * (1 - 1 / (gamma * t + 1))
        upper = scaled_final_lr * (1 + 1 / (gamma * t))
        raw = step_size / denom
        clipped_low |= bool(np.any(raw < lower))
        clipped_high |= bool(np.any(raw > upper))
        w = w - np.clip(raw, lower, upper) * m
        weights.append(w)
    return weights, clipped_low and clipped_high


@pytest.mark.parametrize("amsbound", [False, True], ids=["adabound", "amsbound"])
def test_matches_reference_with_both_bounds_active(amsbound):
    w0 = np.array([0.5, -1.0, 2.0, 0.1])
    # Mixed magnitudes so some elements hit the lower bound and some the upper one.
    grads = [
        np.array([1.0, 1e-3, 0.1, -2.0]),
        np.array([0.5, -1e-3, 0.2, 1.0]),
        np.array([2.0, 1e-4, -0.1, 0.1]),
        np.array([0.1, 3.0, 0.1, -0.5]),
    ]
    # The learning rate drops before step 3, as a scheduler would: the bounds must follow.
    lrs = [1e-3, 1e-3, 5e-4, 5e-4]
    expected, both_clips = adabound_reference(
        w0, grads, lrs, 1e-3, 0.1, 0.5, 0.9, 0.999, 1e-7, amsbound
    )
    assert both_clips

    var = keras.Variable(w0.astype("float32"))
    optimizer = AdaBound(learning_rate=1e-3, final_lr=0.1, gamma=0.5, amsbound=amsbound)
    for g, lr, want in zip(grads, lrs, expected, strict=True):
        optimizer.learning_rate = lr
        optimizer.apply([keras.ops.convert_to_tensor(g.astype("float32"))], [var])
        np.testing.assert_allclose(var.numpy(), want, atol=1e-6, rtol=0)
    # base_lr stays the initial learning rate, so a reload keeps the bounds' scaling.
    assert optimizer.get_config()["base_lr"] == 1e-3
    assert optimizer.get_config()["learning_rate"] == pytest.approx(5e-4)


def test_schedule_uses_its_initial_value_as_base_lr():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.5)
    w0 = np.array([1.0, -1.0, 0.5])
    grads = [np.array([0.3, 0.02, -1.0]), np.array([0.1, -0.5, 0.4])]
    lrs = [0.01, 0.005]  # The schedule at iterations 0 and 1.
    expected, _ = adabound_reference(w0, grads, lrs, 0.01, 0.1, 0.5, 0.9, 0.999, 1e-7, False)
    var = keras.Variable(w0.astype("float32"))
    optimizer = AdaBound(learning_rate=schedule, gamma=0.5)
    assert optimizer.base_lr is None
    for g, want in zip(grads, expected, strict=True):
        optimizer.apply([keras.ops.convert_to_tensor(g.astype("float32"))], [var])
        np.testing.assert_allclose(var.numpy(), want, atol=1e-6, rtol=0)


def test_callable_learning_rate_needs_base_lr():
    with pytest.raises(ValueError, match=r"AdaBound cannot tell the initial learning rate"):
        AdaBound(learning_rate=lambda: 0.01)
    assert AdaBound(learning_rate=lambda: 0.01, base_lr=0.01).base_lr == 0.01


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"final_lr": 0.0},
            ValueError,
            r"AdaBound: expected final_lr > 0\. Received: final_lr=0\.0",
        ),
        ({"gamma": -1e-3}, ValueError, r"AdaBound: expected gamma > 0\. Received: gamma=-0\.001"),
        (
            {"beta_2": 1.0},
            ValueError,
            r"AdaBound: expected beta_2 in \[0, 1\)\. Received: beta_2=1\.0",
        ),
        (
            {"epsilon": -1e-8},
            ValueError,
            r"AdaBound: expected epsilon >= 0\. Received: epsilon=-1e-08",
        ),
        ({"base_lr": 0.0}, ValueError, r"AdaBound: expected base_lr > 0\. Received: base_lr=0\.0"),
        (
            {"final_lr": None},
            TypeError,
            r"AdaBound: expected final_lr to be a number\. Received: final_lr=None",
        ),
    ],
    ids=["final_lr", "gamma", "beta_2", "epsilon", "base_lr", "final_lr-type"],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        AdaBound(**kwargs)


def test_warmup_schedule_needs_base_lr():
    warmup = keras.optimizers.schedules.CosineDecay(0.0, 100, warmup_target=1e-3, warmup_steps=10)
    with pytest.raises(ValueError, match=r"starts at lr=0.0 \(a warmup\?\). Pass base_lr="):
        AdaBound(warmup)
    optimizer = AdaBound(warmup, base_lr=1e-3)
    variable = keras.Variable([1.0, -2.0])
    optimizer.apply([keras.ops.convert_to_tensor([0.5, 0.5])], [variable])
    assert np.isfinite(keras.ops.convert_to_numpy(variable)).all()
