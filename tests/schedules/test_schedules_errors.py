"""Every argument check raises a ValueError that names the class and the bad value."""

import keras
import numpy as np
import pytest

from kerasopt.schedules import (
    AnnealableCosine,
    CyclicalLR,
    InverseSqrtDecay,
    LinearDecay,
    OneCycle,
    StepDecay,
    WarmupCosine,
    find_lr,
)


def _model(compiled=True):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    if compiled:
        model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


X, Y = np.zeros((8, 2), "float32"), np.zeros((8,), "float32")

# Grouped by callable: one test item per group keeps the suite fast, since the shared
# conftest clears the Keras session after every item.
ERRORS = {
    "StepDecay": [
        (
            lambda: StepDecay(0, 0.5, 10),
            r"StepDecay: expected initial_learning_rate > 0\. Received: initial_learning_rate=0",
        ),
        (
            lambda: StepDecay(0.1, 1.5, 10),
            r"StepDecay: expected drop_rate in \(0, 1\]\. Received: drop_rate=1\.5",
        ),
        (
            lambda: StepDecay(0.1, 0.5, 0),
            r"StepDecay: expected step_size > 0\. Received: step_size=0",
        ),
    ],
    "LinearDecay": [
        (
            lambda: LinearDecay(-1, 10),
            r"LinearDecay: expected initial_learning_rate > 0\. Received: .*=-1",
        ),
        (
            lambda: LinearDecay(0.1, 0),
            r"LinearDecay: expected decay_steps > 0\. Received: decay_steps=0",
        ),
        (
            lambda: LinearDecay(0.1, 10, 0.2),
            r"end_learning_rate in \[0, 0\.1\]\. Received: end_learning_rate=0\.2\. "
            r"Pass at most initial_learning_rate=0\.1",
        ),
    ],
    "InverseSqrtDecay": [
        (
            lambda: InverseSqrtDecay(0),
            r"InverseSqrtDecay: expected initial_learning_rate > 0\. Received: .*=0",
        ),
        (
            lambda: InverseSqrtDecay(0.1, -1),
            r"InverseSqrtDecay: expected warmup_steps >= 0\. Received: warmup_steps=-1",
        ),
    ],
    "WarmupCosine": [
        (
            lambda: WarmupCosine(0, 100, 10),
            r"WarmupCosine: expected peak_learning_rate > 0\. Received: .*=0",
        ),
        (
            lambda: WarmupCosine(0.1, 0, 0),
            r"WarmupCosine: expected total_steps > 0\. Received: total_steps=0",
        ),
        (
            lambda: WarmupCosine(0.1, 100, 100),
            r"warmup_steps in \[0, 100\)\. Received: warmup_steps=100\..*total_steps=100",
        ),
        (
            lambda: WarmupCosine(0.1, 100, 10, 0.2),
            r"min_learning_rate in \[0, 0\.1\]\. Received: min_learning_rate=0\.2",
        ),
        (
            lambda: WarmupCosine(0.1, 100, 10, cycles=1.5),
            r"WarmupCosine: expected cycles to be an integer\. Received: cycles=1\.5",
        ),
        (
            lambda: WarmupCosine(0.1, 100, 10, hold_steps=90),
            r"WarmupCosine: expected hold_steps .*Received: hold_steps=90.*fewer hold steps",
        ),
    ],
    "AnnealableCosine": [
        (
            lambda: AnnealableCosine(0, 100),
            r"AnnealableCosine: expected peak_learning_rate > 0\. Received: .*=0",
        ),
        (
            lambda: AnnealableCosine(0.1, 100, hold_steps=100),
            r"AnnealableCosine: expected hold_steps .*Received: hold_steps=100",
        ),
        (
            lambda: AnnealableCosine(0.1, 100).anneal(step=10, steps=0),
            r"AnnealableCosine.anneal: expected steps to be an integer >= 1\. Received: steps=0",
        ),
    ],
    "OneCycle": [
        (
            lambda: OneCycle(0, 100),
            r"OneCycle: expected max_learning_rate > 0\. Received: max_learning_rate=0",
        ),
        (
            lambda: OneCycle(0.1, 0),
            r"OneCycle: expected total_steps > 0\. Received: total_steps=0",
        ),
        (
            lambda: OneCycle(0.1, 100, pct_start=1.0),
            r"OneCycle: expected pct_start in \(0, 1\)\. Received: pct_start=1\.0",
        ),
        (
            lambda: OneCycle(0.1, 100, div_factor=0),
            r"OneCycle: expected div_factor > 0\. Received: div_factor=0",
        ),
        (
            lambda: OneCycle(0.1, 100, final_div_factor=-1),
            r"OneCycle: expected final_div_factor > 0\. Received: final_div_factor=-1",
        ),
    ],
    "CyclicalLR": [
        (
            lambda: CyclicalLR(0.1, 0.01, 10),
            r"base_learning_rate in \[0, 0\.01\)\. Received: base_learning_rate=0\.1\. "
            r"Pass the lower bound first",
        ),
        (
            lambda: CyclicalLR(0.01, 0.1, 0),
            r"CyclicalLR: expected step_size > 0\. Received: step_size=0",
        ),
        (
            lambda: CyclicalLR(0.01, 0.1, 10, mode="sine"),
            r"CyclicalLR: expected mode to be one of .*Received: mode='sine'",
        ),
        (
            lambda: CyclicalLR(0.01, 0.1, 10, gamma=1.5),
            r"CyclicalLR: expected gamma in \(0, 1\]\. Received: gamma=1\.5",
        ),
    ],
    "find_lr": [
        (
            lambda: find_lr(_model(), X, Y, min_lr=1.0, max_lr=0.1),
            r"find_lr: expected max_lr > 1\. Received: max_lr=0\.1\. "
            r"Pass a max_lr above min_lr=1\.0",
        ),
        (
            lambda: find_lr(_model(), X, Y, steps=1),
            r"find_lr: expected steps to be an integer >= 2\. Received: steps=1",
        ),
        (
            lambda: find_lr(_model(), X, Y, batch_size=0),
            r"find_lr: expected batch_size to be an integer >= 1\. Received: batch_size=0",
        ),
        (lambda: find_lr(_model(compiled=False), X, Y), r"find_lr requires a loss"),
        (lambda: find_lr(_model(), X, Y[:5]), r"got 8 inputs and 5 targets"),
    ],
}


@pytest.mark.parametrize("cases", list(ERRORS.values()), ids=list(ERRORS))
def test_rejects_bad_arguments(cases):
    for make, match in cases:
        with pytest.raises(ValueError, match=match):
            make()
