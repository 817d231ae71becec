"""Every argument error reads alike: `Owner: expected .... Received: name=value. Fix.`

One table of bad arguments across the packages, checked by one test, as scikit-learn's
common tests do for `validate_params`. The checks themselves are in
`kerasopt.core.validation`.
"""

import keras
import numpy as np
import pytest

from kerasopt.core import validation
from kerasopt.core.errors import InvalidTypeError, InvalidValueError, KerasoptError


def _tiny_model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])


def _batch():
    return np.zeros((4, 4), "float32"), np.zeros(4, "int32")


def _adversarial_model(**kwargs):
    from kerasopt.adversarial import AdversarialModel

    return AdversarialModel(_tiny_model(), input_range=(0, 1), **kwargs)


def _calibration(**kwargs):
    from kerasopt.analysis import calibration

    return calibration(np.full((2, 2), 0.5), [0, 1], **kwargs)


def _schedule(name, *args, **kwargs):
    import kerasopt.schedules

    return getattr(kerasopt.schedules, name)(*args, **kwargs)


def _optimizer(name, **kwargs):
    import kerasopt.optimizers

    return getattr(kerasopt.optimizers, name)(**kwargs)


def _augment(name, **kwargs):
    import kerasopt.augment

    return getattr(kerasopt.augment, name)(**kwargs)


def _gradient_logger(**kwargs):
    from kerasopt.callbacks import GradientNormLogger

    return GradientNormLogger(_batch(), **kwargs)


def _loss(**kwargs):
    from kerasopt.regularizers import SmoothedSparseCategoricalCrossentropy

    return SmoothedSparseCategoricalCrossentropy(**kwargs)


def _text_model(**kwargs):
    from kerasopt.text import build_text_model

    return build_text_model("bow", 100, 8, **kwargs)


def _token_swap(**kwargs):
    from kerasopt.text import RandomTokenSwap

    return RandomTokenSwap(**kwargs)


# (call, owner, received): `received` is the `name=value` the message must show.
CASES = {
    "schedule-interval": (
        lambda: _schedule("WarmupCosine", 0.1, 0, 0),
        "WarmupCosine",
        "total_steps=0",
    ),
    "schedule-option": (
        lambda: _schedule("CyclicalLR", 0.01, 0.1, 10, mode="sine"),
        "CyclicalLR",
        "mode='sine'",
    ),
    "schedule-relation": (
        lambda: _schedule("LinearDecay", 0.1, 10, 0.2),
        "LinearDecay",
        "end_learning_rate=0.2",
    ),
    "optimizer-beta": (lambda: _optimizer("RAdam", beta_1=1.5), "RAdam", "beta_1=1.5"),
    "optimizer-type": (lambda: _optimizer("AdaBound", gamma="x"), "AdaBound", "gamma='x'"),
    "optimizer-wrapper": (
        lambda: _optimizer("Lookahead", optimizer=keras.optimizers.SGD(), sync_period=0),
        "Lookahead",
        "sync_period=0",
    ),
    "optimizer-callback": (lambda: _optimizer("SWA", start_epoch=-1), "SWA", "start_epoch=-1"),
    "augment-option": (
        lambda: _augment("RandomFlip", mode="diagonal"),
        "RandomFlip",
        "mode='diagonal'",
    ),
    "augment-int": (lambda: _augment("RandomCropPad", pad=0), "RandomCropPad", "pad=0"),
    "augment-range": (
        lambda: _augment("GaussianNoise", value_range=(1, 0)),
        "GaussianNoise",
        "value_range=(1, 0)",
    ),
    "augment-seed": (lambda: _augment("RandomRot90", seed=-1), "RandomRot90", "seed=-1"),
    "callback": (
        lambda: _gradient_logger(every_n_steps=0),
        "GradientNormLogger",
        "every_n_steps=0",
    ),
    "callback-type": (lambda: _gradient_logger(append="yes"), "GradientNormLogger", "append='yes'"),
    "adversarial-fraction": (
        lambda: _adversarial_model(epsilon=2),
        "AdversarialModel",
        "epsilon=2",
    ),
    "adversarial-option": (
        lambda: _adversarial_model(attack="cw"),
        "AdversarialModel",
        "attack='cw'",
    ),
    "analysis": (lambda: _calibration(bins=0), "calibration", "bins=0"),
    "regularizers": (
        lambda: _loss(label_smoothing=1.0),
        "SmoothedSparseCategoricalCrossentropy",
        "label_smoothing=1.0",
    ),
    "text-model": (lambda: _text_model(dropout=1.0), "build_text_model", "dropout=1.0"),
    "text-augment": (lambda: _token_swap(rate=1.5), "RandomTokenSwap", "rate=1.5"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_argument_errors_share_one_wording(case):
    call, owner, received = case
    with pytest.raises(KerasoptError) as caught:
        call()
    message = str(caught.value)
    assert isinstance(caught.value, InvalidValueError | InvalidTypeError)
    assert message.startswith(f"{owner}: expected "), message
    assert f"Received: {received}" in message, message
    assert message.endswith("."), message


@pytest.mark.parametrize(
    "call, expected",
    [
        (
            lambda: validation.check_float(
                "RAdam", "beta_1", 1.5, 0, 1, closed="left", example=0.9
            ),
            "RAdam: expected beta_1 in [0, 1). Received: beta_1=1.5. Pass a value such as "
            "beta_1=0.9.",
        ),
        (
            lambda: validation.check_int("SWA", "swa_freq", 0, 1),
            "SWA: expected swa_freq to be an integer >= 1. Received: swa_freq=0. Pass a value "
            "such as swa_freq=1.",
        ),
        (
            lambda: validation.check_option(
                "RandomFlip", "mode", "horizntal", ("horizontal", "vertical")
            ),
            "RandomFlip: expected mode to be one of 'horizontal', 'vertical'. Received: "
            "mode='horizntal'. Did you mean 'horizontal'?",
        ),
        (
            lambda: validation.check_float("AdaBound", "gamma", True, 0, closed="neither"),
            "AdaBound: expected gamma to be a number. Received: gamma=True (bool). Pass a value "
            "such as gamma=1.",
        ),
    ],
    ids=["interval", "int", "option", "bool"],
)
def test_the_wording(call, expected):
    with pytest.raises(KerasoptError) as caught:
        call()
    assert str(caught.value) == expected


def test_a_number_of_the_wrong_type_is_both_a_type_and_a_value_error():
    # The checks this module replaced raised one or the other for the same mistake.
    with pytest.raises(TypeError):
        validation.check_int("SWA", "swa_freq", 1.5, 1)
    with pytest.raises(ValueError):
        validation.check_int("SWA", "swa_freq", 1.5, 1)


@pytest.mark.parametrize(
    "call, returned",
    [
        (lambda: validation.check_number("RandomCropPad", "pad", 2, 1, integer=True), 2),
        (lambda: validation.check_float("RAdam", "epsilon", 0, 0), 0.0),
        (lambda: validation.check_fraction("RandomErasing", "rate", 1), 1.0),
        (lambda: validation.check_range("GaussianNoise", "value_range", [0, 16]), (0.0, 16.0)),
        (lambda: validation.check_seed("RandomFlip", None), None),
        (lambda: validation.check_int("x", "n", np.int64(3), 1), 3),
    ],
    ids=["unchanged", "float", "fraction", "range", "seed-none", "numpy-int"],
)
def test_valid_values_pass_through(call, returned):
    assert call() == returned
