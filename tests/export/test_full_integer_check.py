import tempfile

import pytest

from kerasopt.export import NotFullIntegerError, check_full_integer, find_float_parts


def test_int8_passes(tflite_models):
    assert find_float_parts(tflite_models["int8"]) == []
    check_full_integer(tflite_models["int8"])


@pytest.mark.parametrize("variant", ["float32", "dynamic", "float16"])
def test_float_variants_fail_loudly_and_name_ops(tflite_models, variant):
    with pytest.raises(
        NotFullIntegerError, match=r"not full-integer: \d+ op\(s\).*\n  op \d+ [A-Z_0-9]+: tensor"
    ):
        check_full_integer(tflite_models[variant])


def test_model_export_route_with_resizing_is_caught(digits):
    """`model.export` of a model with Resizing keeps resource-variable ops in TFLite."""
    import tensorflow as tf

    from kerasopt.export import convert_to_tflite
    from kerasopt.models import build_cnn

    model = build_cnn((8, 8), 10, input_max=16, filters=(4,), dense_units=8, resize_to=16)
    with tempfile.TemporaryDirectory() as saved:
        model.export(saved, format="tf_saved_model", verbose=False)
        content = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
    with pytest.raises(NotFullIntegerError, match="VAR_HANDLE: resource-variable op"):
        check_full_integer(content, allow_float_io=True)
    # kerasopt's own route exports the same model without them.
    check_full_integer(convert_to_tflite(model, "int8", representative_data=digits.x_train))


def test_float_io_edges_can_be_allowed(trained_digits_model, digits):
    """Int8 inside, float32 at the edges: passes only when the edges are allowed."""
    import tensorflow as tf

    from kerasopt.export.tflite_converter import _calibration_samples

    with tempfile.TemporaryDirectory() as saved:
        import keras

        archive = keras.export.ExportArchive()
        archive.track(trained_digits_model)
        spec = tf.TensorSpec((None, 8, 8), tf.float32)
        archive.add_endpoint(
            "serve", lambda x: trained_digits_model(x, training=False), input_signature=[spec]
        )
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        samples = _calibration_samples(digits.x_train, 50, 0)
        converter.representative_dataset = lambda: ([x[None]] for x in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        content = converter.convert()
    with pytest.raises(NotFullIntegerError, match="QUANTIZE|DEQUANTIZE"):
        check_full_integer(content)
    check_full_integer(content, allow_float_io=True)
