"""The frozen-graph route: the same file as through a SavedModel, with its signature."""

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.export import convert_to_tflite
from kerasopt.export.serving_signature import add_serving_signature
from kerasopt.export.tflite_converter import frozen_graph_converter, savedmodel_converter


def _interpreter(content):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    return interpreter


def _outputs(content, x):
    interpreter = _interpreter(content)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    scale, zero_point = detail["quantization"]
    if detail["dtype"] == np.int8:
        x = np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int8)
    interpreter.set_tensor(detail["index"], x.astype(detail["dtype"]))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.mark.parametrize("variant", ["int8", "float32"])
def test_frozen_route_matches_the_savedmodel_route_bit_for_bit(
    trained_digits_model, digits, variant
):
    import tensorflow as tf

    content = convert_to_tflite(trained_digits_model, variant, representative_data=digits.x_train)
    spec = tf.TensorSpec((None, 8, 8), tf.float32, name="pixels")
    with savedmodel_converter(trained_digits_model, spec) as converter:
        if variant == "int8":
            from kerasopt.export.tflite_converter import configure_full_integer

            configure_full_integer(converter, digits.x_train)
        reference = converter.convert()
    x = digits.x_test[:64].astype("float32")
    for details in ("get_input_details", "get_output_details"):
        ours, theirs = (getattr(_interpreter(c), details)()[0] for c in (content, reference))
        assert ours["quantization"] == theirs["quantization"]
        assert ours["dtype"] == theirs["dtype"]
    np.testing.assert_array_equal(_outputs(content, x), _outputs(reference, x))
    # The signature the SavedModel route writes, so signature runners see the same file.
    assert _interpreter(content).get_signature_list() == (
        _interpreter(reference).get_signature_list()
    )
    runner = _interpreter(content).get_signature_runner()
    sample = _interpreter(content).get_input_details()[0]
    one = np.zeros((1, 8, 8), sample["dtype"])
    assert runner(pixels=one)["output_0"].shape == (1, 10)


def test_convert_to_tflite_writes_no_savedmodel(trained_digits_model, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a SavedModel was written")

    monkeypatch.setattr(keras.export.ExportArchive, "write_out", refuse)
    content = convert_to_tflite(trained_digits_model, "float32")
    assert "serving_default" in _interpreter(content).get_signature_list()


def test_a_lookup_table_is_left_to_the_savedmodel_route():
    import tensorflow as tf

    inputs = keras.Input((3,), dtype="int64")
    outputs = keras.layers.IntegerLookup(vocabulary=[3, 5, 7])(inputs)
    model = keras.Model(inputs, outputs)
    spec = tf.TensorSpec((None, 3), tf.int64)
    assert frozen_graph_converter(model, spec) is None


def test_a_file_with_signatures_is_returned_unchanged(tflite_models):
    content = tflite_models["int8"]
    assert add_serving_signature(content, "other") == content


def test_two_inputs_are_refused(tflite_models):
    from kerasopt.export.flatbuffer_model import pack_tflite, unpack_tflite

    model = unpack_tflite("test", tflite_models["float32"])
    model.signatureDefs = None
    main = model.subgraphs[0]
    main.inputs = [int(main.inputs[0]), int(main.outputs[0])]
    with pytest.raises(InvalidValueError, match="one input and one output.*2 inputs"):
        add_serving_signature(pack_tflite(model), "pixels")


def test_a_model_with_two_outputs_is_left_to_the_savedmodel_route():
    import tensorflow as tf

    inputs = keras.Input((8, 8))
    flat = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(3)(flat), keras.layers.Dense(2)(flat)])
    spec = tf.TensorSpec((None, 8, 8), tf.float32, name="pixels")
    assert frozen_graph_converter(model, spec) is None
    content = convert_to_tflite(model, "float32")
    assert len(_interpreter(content).get_output_details()) == 2
