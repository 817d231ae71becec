"""strip_tensor_names: smaller files that compute exactly what the converter's file does."""

import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.export import check_full_integer, measure_tflite
from kerasopt.export.tensor_names import BUFFER_ALIGNMENT, strip_tensor_names


def _interpreter(content):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    return interpreter


def _named_tensors(content):
    return [t["name"] for t in _interpreter(content).get_tensor_details() if t["name"]]


def _buffer_offsets(content):
    from ai_edge_litert import schema_py_generated as schema

    root = schema.Model.GetRootAs(content, 0)
    buffers = (root.Buffers(i) for i in range(root.BuffersLength()))
    return [b._tab.Vector(b._tab.Offset(4)) for b in buffers if b.DataLength()]


@pytest.mark.parametrize("variant", ["int8", "float32"])
def test_stripped_file_is_smaller_and_computes_the_same_outputs(tflite_models, digits, variant):
    content = tflite_models[variant]
    stripped = strip_tensor_names(content)
    assert len(stripped) < 0.95 * len(content)
    original, light = _interpreter(content), _interpreter(stripped)
    # The names a caller uses (inputs, outputs, signatures) are kept; the others go.
    for details in ("get_input_details", "get_output_details"):
        assert [d["name"] for d in getattr(light, details)()] == [
            d["name"] for d in getattr(original, details)()
        ]
    assert light.get_signature_list() == original.get_signature_list()
    assert len(_named_tensors(stripped)) == 2 < len(_named_tensors(content))
    before = measure_tflite(content, digits.x_test, digits.y_test, variant=variant)
    after = measure_tflite(stripped, digits.x_test, digits.y_test, variant=variant)
    assert after.accuracy == before.accuracy
    runner_a = original.get_signature_runner()
    runner_b = light.get_signature_runner()
    sample = digits.x_test[:1].astype("float32")
    if variant == "int8":
        scale, zero = original.get_input_details()[0]["quantization"]
        sample = np.clip(np.round(sample / scale + zero), -128, 127).astype("int8")
    np.testing.assert_array_equal(
        runner_a(pixels=sample)["output_0"], runner_b(pixels=sample)["output_0"]
    )


def test_stripped_int8_file_stays_full_integer_with_aligned_weights(tflite_models):
    stripped = strip_tensor_names(tflite_models["int8"])
    check_full_integer(stripped)
    offsets = _buffer_offsets(stripped)
    assert offsets and all(offset % BUFFER_ALIGNMENT == 0 for offset in offsets)


def test_stripping_twice_changes_nothing_more(tflite_models):
    once = strip_tensor_names(tflite_models["int8"])
    assert strip_tensor_names(once) == once


def test_refuses_bytes_that_are_not_a_tflite_file():
    with pytest.raises(
        InvalidValueError, match=r"strip_tensor_names: expected a TFLite flatbuffer.*TFL3"
    ):
        strip_tensor_names(b"PK\x03\x04 a zip, not a model")


def test_run_exports_write_and_measure_the_stripped_file(tmp_path, tflite_models, digits):
    import time

    from kerasopt.export.exported_model import write_and_measure

    content = tflite_models["int8"]
    exported = write_and_measure(content, "int8", tmp_path, digits, started=time.perf_counter())
    written = (tmp_path / "model_int8.tflite").read_bytes()
    assert written == strip_tensor_names(content)
    assert exported.metrics.bytes == len(written) < len(content)
    kept = write_and_measure(
        content, "int8", tmp_path / "named", digits, started=time.perf_counter(), strip_names=False
    )
    assert kept.metrics.bytes == len(content)
    assert kept.metrics.accuracy == exported.metrics.accuracy


def test_a_float_part_is_refused_with_the_converter_names_before_stripping(tmp_path, tflite_models):
    import time

    from kerasopt.export import NotFullIntegerError
    from kerasopt.export.exported_model import write_and_measure

    dynamic = tflite_models["dynamic"]
    with pytest.raises(NotFullIntegerError) as named:
        check_full_integer(dynamic)
    with pytest.raises(NotFullIntegerError) as refused:
        write_and_measure(dynamic, "int8", tmp_path, None, started=time.perf_counter())
    assert str(refused.value) == str(named.value)
    assert not (tmp_path / "model_int8.tflite").exists()


def test_refuses_a_bundle_whose_associated_files_would_be_dropped(tflite_models):
    import io
    import zipfile

    packed = io.BytesIO(tflite_models["int8"])
    packed.seek(0, io.SEEK_END)
    with zipfile.ZipFile(packed, "a") as archive:
        archive.writestr("labels.txt", "zero\none\n")
    with pytest.raises(InvalidValueError, match=r"received a bundle.*attach the metadata"):
        strip_tensor_names(packed.getvalue())
