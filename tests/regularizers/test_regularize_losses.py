"""SmoothedSparseCategoricalCrossentropy equals Keras' one-hot loss and round-trips."""

import keras
import numpy as np
import pytest
from regularize_helpers import save_and_load

from kerasopt.regularizers import SmoothedSparseCategoricalCrossentropy

LABELS = np.array([0, 2, 1, 3, 3, 0])


def _predictions(from_logits):
    logits = np.random.default_rng(0).normal(size=(6, 4)).astype("float32") * 3
    if from_logits:
        return logits
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits))


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3], ids=["s0", "s0.1", "s0.3"])
@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
@pytest.mark.parametrize("label_shape", [(6,), (6, 1)], ids=["flat", "column"])
def test_matches_categorical_crossentropy_on_one_hot(smoothing, from_logits, label_shape):
    y_pred = _predictions(from_logits)
    one_hot = np.eye(4, dtype="float32")[LABELS]
    weights = np.linspace(0.5, 1.5, 6).astype("float32")
    expected = keras.losses.CategoricalCrossentropy(
        label_smoothing=smoothing, from_logits=from_logits
    )(one_hot, y_pred, sample_weight=weights)
    loss = SmoothedSparseCategoricalCrossentropy(smoothing, from_logits=from_logits)
    actual = loss(LABELS.reshape(label_shape), y_pred, sample_weight=weights)
    np.testing.assert_allclose(float(actual), float(expected), rtol=1e-6)


def test_zero_smoothing_equals_sparse_crossentropy():
    y_pred = _predictions(False)
    expected = keras.losses.SparseCategoricalCrossentropy()(LABELS, y_pred)
    actual = SmoothedSparseCategoricalCrossentropy(0.0)(LABELS, y_pred)
    np.testing.assert_allclose(float(actual), float(expected), rtol=1e-6)


def test_smoothing_by_hand():
    # Two classes, p = (0.8, 0.2), label 0, smoothing 0.2: target (0.9, 0.1).
    loss = SmoothedSparseCategoricalCrossentropy(0.2)(np.array([0]), np.array([[0.8, 0.2]]))
    assert float(loss) == pytest.approx(-(0.9 * np.log(0.8) + 0.1 * np.log(0.2)), rel=1e-5)


def test_config_round_trip():
    loss = SmoothedSparseCategoricalCrossentropy(0.25, from_logits=True, reduction="sum")
    assert keras.saving.get_registered_name(type(loss)) == (
        "kerasopt>SmoothedSparseCategoricalCrossentropy"
    )
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is SmoothedSparseCategoricalCrossentropy
    assert restored.get_config() == loss.get_config()
    assert loss.get_config()["label_smoothing"] == 0.25


def test_keras_file_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(
        optimizer="adam",
        loss=SmoothedSparseCategoricalCrossentropy(0.2),
        metrics=["accuracy"],
    )
    x = np.random.default_rng(1).normal(size=(12, 4)).astype("float32")
    y = np.arange(12) % 3
    model.fit(x, y, epochs=2, batch_size=6, verbose=0)
    loaded = save_and_load(model, tmp_path)
    assert isinstance(loaded.loss, SmoothedSparseCategoricalCrossentropy)
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


def test_bad_arguments_raise():
    with pytest.raises(
        ValueError, match=r"expected label_smoothing in \[0, 1\)\. Received: label_smoothing=1\.0"
    ):
        SmoothedSparseCategoricalCrossentropy(1.0)
    with pytest.raises(ValueError, match=r"Received: label_smoothing=-0\.1"):
        SmoothedSparseCategoricalCrossentropy(-0.1)
    with pytest.raises(
        TypeError,
        match=r"label_smoothing to be a number\. Received: "
        r"label_smoothing='0.1' \(str\)",
    ):
        SmoothedSparseCategoricalCrossentropy("0.1")
    with pytest.raises(TypeError, match=r"from_logits to be a bool\. Received: from_logits='yes'"):
        SmoothedSparseCategoricalCrossentropy(0.1, from_logits="yes")
