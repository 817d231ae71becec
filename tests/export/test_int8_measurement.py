"""`measure_int8`: Keras outputs beside the int8 file, converted once or given."""

import numpy as np

from kerasopt.export import measure_int8


def test_measures_keras_and_the_int8_file_and_reuses_given_bytes(trained_digits_model, digits):
    measured = measure_int8(
        trained_digits_model, digits.x_train, digits.x_test, digits.y_test, latency_runs=2
    )
    expected = np.mean(measured.probabilities.argmax(-1) == digits.y_test)
    assert measured.keras_accuracy == expected
    assert measured.tflite.full_integer and measured.tflite.variant == "int8"
    assert measured.tflite.bytes == len(measured.content) and measured.tflite.agreement > 0.95
    again = measure_int8(
        trained_digits_model,
        digits.x_train,
        digits.x_test,
        digits.y_test,
        latency_runs=2,
        content=measured.content,
    )
    # The given file is measured as kerasopt writes it: already stripped, so unchanged.
    assert again.content == measured.content
    assert again.tflite.accuracy == measured.tflite.accuracy


def test_measures_the_file_without_debug_names_unless_asked(
    trained_digits_model, tflite_models, digits
):
    from kerasopt.export import strip_tensor_names

    named = tflite_models["int8"]
    args = (trained_digits_model, digits.x_train, digits.x_test, digits.y_test)
    stripped = measure_int8(*args, latency_runs=2, content=named)
    kept = measure_int8(*args, latency_runs=2, content=named, strip_names=False)
    assert stripped.content == strip_tensor_names(named)
    assert kept.content == named
    assert stripped.tflite.bytes < kept.tflite.bytes
    assert stripped.tflite.accuracy == kept.tflite.accuracy
