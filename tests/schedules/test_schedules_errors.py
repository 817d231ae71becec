"""Every argument check raises a ValueError that names the class and the bad value."""

import keras
import numpy as np
import pytest

from kerasopt.schedules import (
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
        (lambda: StepDecay(0, 0.5, 10), r"StepDecay requires initial_learning_rate > 0"),
        (lambda: StepDecay(0.1, 1.5, 10), r"StepDecay requires 0 < drop_rate <= 1"),
        (lambda: StepDecay(0.1, 0.5, 0), r"StepDecay requires step_size > 0, got step_size=0"),
    ],
    "LinearDecay": [
        (lambda: LinearDecay(-1, 10), r"LinearDecay requires initial_learning_rate > 0"),
        (lambda: LinearDecay(0.1, 0), r"LinearDecay requires decay_steps > 0"),
        (lambda: LinearDecay(0.1, 10, 0.2), r"end_learning_rate <= initial_learning_rate, got"),
    ],
    "InverseSqrtDecay": [
        (lambda: InverseSqrtDecay(0), r"InverseSqrtDecay requires initial_learning_rate > 0"),
        (lambda: InverseSqrtDecay(0.1, -1), r"warmup_steps >= 0, got warmup_steps=-1"),
    ],
    "WarmupCosine": [
        (lambda: WarmupCosine(0, 100, 10), r"WarmupCosine requires peak_learning_rate > 0"),
        (lambda: WarmupCosine(0.1, 0, 0), r"WarmupCosine requires total_steps > 0"),
        (lambda: WarmupCosine(0.1, 100, 100), r"warmup_steps < total_steps, got warmup_steps=100"),
        (lambda: WarmupCosine(0.1, 100, 10, 0.2), r"got min_learning_rate=0.2"),
        (lambda: WarmupCosine(0.1, 100, 10, cycles=1.5), r"int >= 1, got cycles=1.5"),
    ],
    "OneCycle": [
        (lambda: OneCycle(0, 100), r"OneCycle requires max_learning_rate > 0"),
        (lambda: OneCycle(0.1, 0), r"OneCycle requires total_steps > 0, got total_steps=0"),
        (lambda: OneCycle(0.1, 100, pct_start=1.0), r"0 < pct_start < 1, got pct_start=1.0"),
        (lambda: OneCycle(0.1, 100, div_factor=0), r"OneCycle requires div_factor > 0"),
        (lambda: OneCycle(0.1, 100, final_div_factor=-1), r"got final_div_factor=-1"),
    ],
    "CyclicalLR": [
        (lambda: CyclicalLR(0.1, 0.01, 10), r"base_learning_rate < max_learning_rate, got"),
        (lambda: CyclicalLR(0.01, 0.1, 0), r"CyclicalLR requires step_size > 0"),
        (lambda: CyclicalLR(0.01, 0.1, 10, mode="sine"), r"got mode='sine'"),
        (lambda: CyclicalLR(0.01, 0.1, 10, gamma=1.5), r"0 < gamma <= 1, got gamma=1.5"),
    ],
    "find_lr": [
        (lambda: find_lr(_model(), X, Y, min_lr=1.0, max_lr=0.1), r"got min_lr=1.0, max_lr=0.1"),
        (lambda: find_lr(_model(), X, Y, steps=1), r"steps >= 2.*got .*steps=1,"),
        (lambda: find_lr(_model(), X, Y, batch_size=0), r"batch_size >= 1.*got .*batch_size=0,"),
        (lambda: find_lr(_model(compiled=False), X, Y), r"find_lr requires a loss"),
        (lambda: find_lr(_model(), X, Y[:5]), r"got 8 inputs and 5 targets"),
    ],
}


@pytest.mark.parametrize("cases", list(ERRORS.values()), ids=list(ERRORS))
def test_rejects_bad_arguments(cases):
    for make, match in cases:
        with pytest.raises(ValueError, match=match):
            make()
