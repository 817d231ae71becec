import numpy as np
import pytest

from kerasopt.export import LiteRTEvaluator, measure_tflite


def test_float32_matches_keras(tflite_models, trained_digits_model, digits):
    keras_probabilities = trained_digits_model.predict(digits.x_test, verbose=0)
    litert_probabilities = LiteRTEvaluator(tflite_models["float32"]).predict(
        digits.x_test, batch_size=100
    )
    np.testing.assert_allclose(litert_probabilities, keras_probabilities, atol=1e-4)


def test_int8_agrees_with_keras(tflite_models, trained_digits_model, digits):
    keras_probabilities = trained_digits_model.predict(digits.x_test, verbose=0)
    result = LiteRTEvaluator(tflite_models["int8"]).evaluate(
        digits.x_test, digits.y_test, keras_probabilities
    )
    keras_accuracy = float((keras_probabilities.argmax(-1) == digits.y_test).mean())
    assert result["agreement"] >= 0.97
    assert abs(result["accuracy"] - keras_accuracy) <= 0.02


def test_quantize_input_uses_the_model_scale(tflite_models):
    evaluator = LiteRTEvaluator(tflite_models["int8"])
    scale, zero_point = evaluator.input_details["quantization"]
    q = evaluator.quantize_input(np.array([[0.0, 16.0, 1000.0]]))
    assert q.dtype == np.int8
    assert (
        q[0, 0] == zero_point and abs(q[0, 1] - (16 / scale + zero_point)) <= 0.5 and q[0, 2] == 127
    )


def test_batch_size_does_not_change_predictions(tflite_models, digits):
    evaluator = LiteRTEvaluator(tflite_models["int8"])
    np.testing.assert_array_equal(
        evaluator.predict(digits.x_test, batch_size=1)[:40],
        evaluator.predict(digits.x_test[:40], batch_size=64),
    )


def test_measure_reports_every_field(tflite_models, digits):
    result = measure_tflite(
        tflite_models["int8"],
        digits.x_test,
        digits.y_test,
        variant="int8",
        require_full_integer=True,
        latency_runs=5,
    )
    assert set(result.to_dict()) == {
        "variant",
        "split",
        "samples",
        "accuracy",
        "agreement",
        "bytes",
        "gzip_bytes",
        "latency_us",
        "full_integer",
    }
    assert result.variant == "int8" and result.split == "test" and result.full_integer
    assert result.samples == len(digits.y_test) and result.agreement is None
    assert result.latency_us > 0 and result.gzip_bytes < result.bytes
    assert result.kilobytes == result.bytes / 1024


def test_path_and_bad_content(tmp_path, tflite_models):
    (tmp_path / "m.tflite").write_bytes(tflite_models["float32"])
    assert LiteRTEvaluator(tmp_path / "m.tflite").input_details["dtype"] == np.float32
    with pytest.raises(FileNotFoundError, match="No TFLite file"):
        LiteRTEvaluator(tmp_path / "missing.tflite")
    with pytest.raises(ValueError, match="Could not load the model as TFLite"):
        LiteRTEvaluator(b"definitely not a flatbuffer")


def test_measure_can_hand_back_its_probabilities(tflite_models, digits):
    result = measure_tflite(
        tflite_models["int8"], digits.x_test, digits.y_test, latency_runs=5, keep_probabilities=True
    )
    expected = LiteRTEvaluator(tflite_models["int8"]).predict(digits.x_test)
    np.testing.assert_array_equal(result.probabilities, expected)
    assert result.accuracy == float(np.mean(expected.argmax(-1) == digits.y_test))
    assert "probabilities" not in result.to_dict()
    plain = measure_tflite(tflite_models["int8"], digits.x_test, digits.y_test, latency_runs=5)
    assert plain.probabilities is None


def test_a_fixed_batch_model_is_run_at_its_batch_size(trained_digits_model, digits):
    """A file converted at batch 1 (as recurrent text models are) predicts any number of rows."""
    import tensorflow as tf

    from kerasopt.export.tflite_converter import savedmodel_converter

    spec = tf.TensorSpec((1, *digits.input_shape), tf.float32)
    with savedmodel_converter(trained_digits_model, spec) as converter:
        content = converter.convert()
    evaluator = LiteRTEvaluator(content)
    assert list(evaluator.input_details["shape_signature"]) == [1, *digits.input_shape]
    keras_probabilities = trained_digits_model.predict(digits.x_test[:30], verbose=0)
    np.testing.assert_allclose(
        evaluator.predict(digits.x_test[:30]), keras_probabilities, atol=1e-4
    )
