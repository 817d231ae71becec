"""Each schedule's values against its formula, written out independently in NumPy."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasopt.schedules import (
    CyclicalLR,
    InverseSqrtDecay,
    InverseTimeDecay,
    LinearDecay,
    OneCycle,
    StepDecay,
    WarmupCosine,
)

STEPS = np.array([0, 1, 7, 10, 19, 20, 25, 49, 50, 73, 99, 100, 250])


def step_decay(t, lr0, drop, size):
    return lr0 * drop ** np.floor(t / size)


def inverse_time(t, lr0, rate, decay_steps):
    return lr0 / (1 + rate * t / decay_steps)


def inverse_sqrt(t, lr0, warmup):
    if warmup == 0:
        return lr0 * (1 + t) ** -0.5
    rise = lr0 * (t + 1) / (warmup + 1)
    return np.where(t <= warmup, rise, lr0 * np.sqrt((warmup + 1) / (t + 1)))


def linear(t, lr0, decay_steps, end):
    return lr0 + (end - lr0) * np.minimum(t, decay_steps) / decay_steps


def warmup_cosine(t, hi, total, warmup, lo, cycles, hold=0):
    out = []
    period = (total - warmup - hold) / cycles
    for s in t:
        if s < warmup:
            out.append(lo + (hi - lo) * s / warmup)
        elif s < warmup + hold:
            out.append(hi)
        elif s >= total:
            out.append(lo)
        else:
            into = (s - warmup - hold) % period
            out.append(lo + (hi - lo) * (1 + math.cos(math.pi * into / period)) / 2)
    return np.array(out)


def one_cycle(t, max_lr, total, pct_start=0.3, div=25.0, final_div=1e4):
    # Transcribed from torch.optim.lr_scheduler.OneCycleLR (cos, two phases).
    initial = max_lr / div
    phases = [
        (pct_start * total - 1, initial, max_lr),
        (total - 1, max_lr, initial / final_div),
    ]
    out = []
    for s in t:
        start_step = 0.0
        for i, (end_step, start_lr, end_lr) in enumerate(phases):
            if s <= end_step or i == len(phases) - 1:
                pct = min((s - start_step) / (end_step - start_step), 1.0)
                out.append(end_lr + (start_lr - end_lr) / 2 * (math.cos(math.pi * pct) + 1))
                break
            start_step = end_step
    return np.array(out)


def cyclical(t, base, top, step_size, mode="triangular", gamma=1.0):
    cycle = np.floor(1 + t / (2 * step_size))
    x = np.abs(t / step_size - 2 * cycle + 1)
    scale = {
        "triangular": np.ones_like(t, dtype=float),
        "triangular2": 1 / 2.0 ** (cycle - 1),
        "exp_range": gamma**t,
    }[mode]
    return base + (top - base) * np.maximum(0, 1 - x) * scale


# (id, schedule, NumPy formula, {step: value worked out by hand}).
CASES = [
    ("step_decay", StepDecay(0.1, 0.5, 10), lambda t: step_decay(t, 0.1, 0.5, 10), {10: 0.05}),
    ("step_decay_slow", StepDecay(2, 0.9, 25), lambda t: step_decay(t, 2.0, 0.9, 25), {50: 1.62}),
    (
        "inverse_time",
        InverseTimeDecay(0.1, 10, 0.5),
        lambda t: inverse_time(t, 0.1, 0.5, 10),
        {20: 0.05},
    ),
    ("inverse_sqrt", InverseSqrtDecay(0.01), lambda t: inverse_sqrt(t, 0.01, 0), {3: 0.005}),
    (
        "inverse_sqrt_warmup",
        InverseSqrtDecay(0.01, 20),
        lambda t: inverse_sqrt(t, 0.01, 20),
        {20: 0.01, 83: 0.005},
    ),
    ("linear", LinearDecay(0.1, 50), lambda t: linear(t, 0.1, 50, 0.0), {25: 0.05, 60: 0.0}),
    ("linear_end", LinearDecay(0.1, 73, 0.01), lambda t: linear(t, 0.1, 73, 0.01), {99: 0.01}),
    (
        "warmup_cosine",
        WarmupCosine(1e-3, 100, 10),
        lambda t: warmup_cosine(t, 1e-3, 100, 10, 0.0, 1),
        {5: 5e-4, 10: 1e-3, 55: 5e-4, 100: 0.0},
    ),
    (
        "warmup_cosine_restarts",
        WarmupCosine(1e-3, 100, 10, min_learning_rate=1e-5, cycles=3),
        lambda t: warmup_cosine(t, 1e-3, 100, 10, 1e-5, 3),
        {0: 1e-5, 40: 1e-3, 70: 1e-3, 100: 1e-5},
    ),
    (
        "warmup_hold_cosine",
        WarmupCosine(1e-3, 100, 10, hold_steps=40),
        lambda t: warmup_cosine(t, 1e-3, 100, 10, 0.0, 1, hold=40),
        {5: 5e-4, 10: 1e-3, 49: 1e-3, 75: 5e-4, 100: 0.0},
    ),
    (
        "no_warmup",
        WarmupCosine(1.0, 50, 0),
        lambda t: warmup_cosine(t, 1.0, 50, 0, 0.0, 1),
        {0: 1.0, 25: 0.5},
    ),
    (
        "one_cycle",
        OneCycle(0.01, 100),
        lambda t: one_cycle(t, 0.01, 100),
        {0: 0.01 / 25, 29: 0.01, 99: 0.01 / 25 / 1e4},
    ),
    (
        "one_cycle_custom",
        OneCycle(0.1, 250, pct_start=0.2, div_factor=10, final_div_factor=100),
        lambda t: one_cycle(t, 0.1, 250, 0.2, 10, 100),
        {0: 0.01, 49: 0.1, 249: 1e-4},
    ),
    (
        "triangular",
        CyclicalLR(1e-4, 1e-2, 10),
        lambda t: cyclical(t, 1e-4, 1e-2, 10),
        {10: 1e-2, 20: 1e-4, 25: 0.00505},
    ),
    (
        "triangular2",
        CyclicalLR(0.0, 1.0, 10, mode="triangular2"),
        lambda t: cyclical(t, 0.0, 1.0, 10, "triangular2"),
        {10: 1.0, 30: 0.5, 50: 0.25},
    ),
    (
        "exp_range",
        CyclicalLR(0.0, 1.0, 10, mode="exp_range", gamma=0.99),
        lambda t: cyclical(t, 0.0, 1.0, 10, "exp_range", 0.99),
        {10: 0.99**10, 30: 0.99**30},
    ),
]


@pytest.mark.parametrize(
    ("schedule", "formula", "anchors"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_matches_formula_in_graph_mode(schedule, formula, anchors):
    # Optimizers call the schedule inside a traced function with an int64 step variable.
    traced = tf.function(schedule)
    got = np.array([float(traced(tf.constant(s, "int64"))) for s in STEPS])
    np.testing.assert_allclose(got, formula(STEPS.astype(float)), rtol=1e-5, atol=1e-9)
    for step, expected in anchors.items():
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-9), step


def test_warmup_cosine_single_cycle_matches_keras_cosine_decay():
    ours = WarmupCosine(2e-3, 120, 20, min_learning_rate=1e-4)
    keras_schedule = keras.optimizers.schedules.CosineDecay(
        1e-4, decay_steps=100, alpha=1e-4 / 2e-3, warmup_target=2e-3, warmup_steps=20
    )
    got = np.array([float(ours(s)) for s in STEPS])
    want = np.array([float(keras_schedule(s)) for s in STEPS])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_annealable_cosine_cut_takes_effect_in_a_traced_function_without_a_retrace():
    from kerasopt.schedules import AnnealableCosine

    schedule = AnnealableCosine(1e-2, total_steps=100, hold_steps=20)
    traced = tf.function(schedule)
    step = lambda s: float(traced(tf.constant(s, "int64")))  # noqa: E731
    assert step(10) == pytest.approx(1e-2) and step(60) == pytest.approx(5e-3, rel=1e-5)
    schedule.anneal(step=40, steps=10)  # base rate at 40: 1e-2 * (1 + cos(pi / 4)) / 2
    at_cut = 1e-2 * (1 + np.cos(np.pi / 4)) / 2
    assert step(39) == pytest.approx(1e-2 * (1 + np.cos(np.pi * 19 / 80)) / 2, rel=1e-5)
    assert step(40) == pytest.approx(at_cut, rel=1e-5)
    assert step(45) == pytest.approx(at_cut / 2, rel=1e-5)
    assert step(50) == 0.0 and step(99) == 0.0
    assert traced.experimental_get_tracing_count() == 1
