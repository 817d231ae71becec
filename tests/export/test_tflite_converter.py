import numpy as np
import pytest

from kerasopt.export import LiteRTEvaluator, convert_to_tflite, tflite_sizes


def test_int8_has_int8_input_and_output(tflite_models):
    evaluator = LiteRTEvaluator(tflite_models["int8"])
    assert evaluator.input_details["dtype"] == np.int8
    assert evaluator.output_details["dtype"] == np.int8
    scale, zero_point = evaluator.input_details["quantization"]
    # Calibrated on raw digits (0..16): the input range must cover 16, not 1 or 255.
    assert 15.5 < (127 - zero_point) * scale < 17.5


def test_float_variants_take_float_raw_pixels(tflite_models):
    for variant in ("float32", "dynamic", "float16"):
        details = LiteRTEvaluator(tflite_models[variant]).input_details
        assert details["dtype"] == np.float32 and tuple(details["shape"][1:]) == (8, 8)


def test_quantized_variants_are_smaller(tflite_models):
    # This model is tiny, so fixed flatbuffer overhead bounds the ratio; the <= 0.3x
    # target on the real digits model is asserted in tests/scenarios/test_run.py.
    size = {v: tflite_sizes(b)["bytes"] for v, b in tflite_models.items()}
    assert size["int8"] <= 0.55 * size["float32"]
    assert size["dynamic"] <= 0.55 * size["float32"]
    assert size["float16"] <= 0.75 * size["float32"]


def test_conversion_does_not_touch_the_model(trained_digits_model, digits):
    before = [w.copy() for w in trained_digits_model.get_weights()]
    convert_to_tflite(trained_digits_model, "int8", representative_data=digits.x_train)
    for a, b in zip(before, trained_digits_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_int8_needs_representative_data(trained_digits_model):
    with pytest.raises(ValueError, match="int8 variant needs representative_data"):
        convert_to_tflite(trained_digits_model, "int8")


def test_unknown_variant(trained_digits_model):
    with pytest.raises(ValueError, match=r"Unknown TFLite variant 'int4'. Expected one of"):
        convert_to_tflite(trained_digits_model, "int4")
