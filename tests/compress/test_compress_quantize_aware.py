import importlib
import os

import keras
import numpy as np
import pytest

from kerasopt.compress.quantize_aware import quantize_aware
from kerasopt.export import (
    LiteRTEvaluator,
    check_full_integer,
    convert_to_tflite,
    measure_tflite,
)

# Read at collection, before any test has called into TF-MOT.
LEGACY_KERAS_AT_START = os.environ.get("TF_USE_LEGACY_KERAS")


@pytest.fixture(scope="module")
def qat(trained_digits_model, digits):
    model = keras.models.clone_model(trained_digits_model)
    model.set_weights(trained_digits_model.get_weights())
    weights = [w.copy() for w in model.get_weights()]
    keras.utils.set_random_seed(0)
    return model, weights, quantize_aware(model, digits)


@pytest.mark.slow
def test_qat_tflite_is_full_integer_with_int8_io(qat):
    _, _, result = qat
    check_full_integer(result.tflite)
    evaluator = LiteRTEvaluator(result.tflite)
    assert evaluator.input_details["dtype"] == np.int8
    assert evaluator.output_details["dtype"] == np.int8


def test_qat_accuracy_matches_post_training_int8(qat, digits):
    model, _, result = qat
    ptq = convert_to_tflite(model, "int8", representative_data=digits.x_train)
    qat_accuracy = measure_tflite(result.tflite, digits.x_test, digits.y_test, latency_runs=1)
    ptq_accuracy = measure_tflite(ptq, digits.x_test, digits.y_test, latency_runs=1)
    # Measured: QAT 0.947, PTQ 0.942 on the 360 test digits.
    assert qat_accuracy.accuracy >= ptq_accuracy.accuracy - 0.015
    assert qat_accuracy.accuracy > 0.9


def test_calibration_lifts_accuracy_from_chance(qat):
    _, _, result = qat
    # Measured: 0.10 uncalibrated (inputs clipped to [-6, 6]), 0.93 calibrated.
    assert result.calibration_accuracy["uncalibrated"] < 0.3
    assert result.calibration_accuracy["calibrated"] > 0.8
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result.tf_keras_model.layers[1].__class__.__name__ == "QuantizeLayer"


def test_user_model_and_legacy_keras_variable_unchanged(qat):
    model, weights, _ = qat
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert os.environ.get("TF_USE_LEGACY_KERAS") == LEGACY_KERAS_AT_START


def test_batch_norm_not_after_conv_or_dense_names_the_layer(digits):
    # TF-MOT folds a BatchNormalization that follows a linear Conv2D, DepthwiseConv2D or
    # Dense (so Dense -> BatchNormalization quantizes); after Flatten it has no rule.
    model = keras.Sequential(
        [
            keras.Input((8, 8)),
            keras.layers.Flatten(name="flatten"),
            keras.layers.BatchNormalization(name="pixels_bn"),
            keras.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="flatten_bn_model",
    )
    with pytest.raises(
        ValueError, match=r"'pixels_bn' \(BatchNormalization\).*fold.*--quantize int8"
    ):
        quantize_aware(model, digits)
    assert os.environ.get("TF_USE_LEGACY_KERAS") == LEGACY_KERAS_AT_START


@pytest.mark.parametrize(
    "kwargs",
    [{"epochs": 0}, {"batch_size": 0}, {"learning_rate": 0.0}, {"calibration_batches": 0}],
    ids=["epochs", "batch_size", "learning_rate", "calibration_batches"],
)
def test_rejects_bad_arguments(trained_digits_model, digits, kwargs):
    with pytest.raises(ValueError, match=f"{next(iter(kwargs))}="):
        quantize_aware(trained_digits_model, digits, **kwargs)


def test_unknown_preserve_scheme_is_named(digits, trained_digits_model):
    from kerasopt.compress import quantize_aware

    with pytest.raises(
        ValueError, match=r"preserve must be one of \[None, 'sparsity', 'clusters'\]"
    ):
        quantize_aware(trained_digits_model, digits, preserve="pruning")


@pytest.mark.slow
def test_qat_file_matches_the_keras_model_route_without_a_saved_model(qat, digits, monkeypatch):
    import tensorflow as tf

    _, _, result = qat
    # The same fake-quantized model through TFLiteConverter.from_keras_model (a legacy
    # SavedModel): the frozen route must give the same int8 outputs and input scale.
    qat_module = importlib.import_module("kerasopt.compress.quantize_aware")
    converter = tf.lite.TFLiteConverter.from_keras_model(result.tf_keras_model)
    qat_module.configure_full_integer(converter, np.asarray(digits.x_train, "float32"))
    reference = LiteRTEvaluator(converter.convert())
    frozen = LiteRTEvaluator(result.tflite)
    assert frozen.input_details["quantization"] == reference.input_details["quantization"]
    np.testing.assert_array_equal(
        frozen.predict(digits.x_test[:100]), reference.predict(digits.x_test[:100])
    )
    assert frozen._interpreter().get_signature_list() == {
        "serving_default": {"inputs": ["pixels"], "outputs": ["output_0"]}
    }

    def no_saved_model(*args, **kwargs):
        raise AssertionError("the QAT export wrote a SavedModel")

    monkeypatch.setattr(tf.saved_model, "save", no_saved_model)
    again = qat_module._convert(result.tf_keras_model, digits.x_train, "again")
    assert again == result.tflite
