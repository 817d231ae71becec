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
    assert again.content is measured.content
    assert again.tflite.accuracy == measured.tflite.accuracy
