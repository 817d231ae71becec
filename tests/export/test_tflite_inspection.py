import importlib.util
import io
import json
import sys
import types
import zipfile

import keras
import numpy as np
import pytest

from kerasopt.export import (
    FlexOpsError,
    check_no_flex_ops,
    convert_to_tflite,
    find_flex_ops,
    inspect_tflite,
    measure_latency_by_threads,
)


def tiny_cnn():
    """Input(8, 8) -> conv 8x3x3 -> dense 10: 2,970 parameters, non-zero biases."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8)),
            keras.layers.Reshape((8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", bias_initializer="ones"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", bias_initializer="ones"),
        ],
        name="tiny_cnn",
    )
    return model


@pytest.fixture(scope="module")
def files():
    """The tiny CNN as float32 and int8 TFLite, its parameter count and raw samples."""
    model = tiny_cnn()
    x = np.random.default_rng(0).uniform(0, 16, (64, 8, 8)).astype("float32")
    return {
        "float32": convert_to_tflite(model, "float32"),
        "int8": convert_to_tflite(model, "int8", representative_data=x),
        "params": model.count_params(),
        "x": x,
    }


@pytest.fixture(scope="module")
def flex_file():
    """A file with a Flex op: cumprod has no TFLite builtin, so SELECT_TF_OPS keeps it."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def cumulative_product(v):
        return tf.math.cumprod(v, axis=1)

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [cumulative_product.get_concrete_function()], cumulative_product
    )
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS,
        tf.lite.OpsSet.SELECT_TF_OPS,
    ]
    return converter.convert()


def ops_of(inspection):
    return {(u.op, u.input_dtypes, u.output_dtypes) for u in inspection.ops}


def test_int8_lists_conv_with_int8_inputs_and_no_float(files):
    inspection = inspect_tflite(files["int8"])
    assert ("CONV_2D", ("INT8", "INT8", "INT32"), ("INT8",)) in ops_of(inspection)
    assert all("FLOAT32" not in u.input_dtypes + u.output_dtypes for u in inspection.ops)
    assert sum(u.count for u in inspection.ops if u.op == "FULLY_CONNECTED") == 1


def test_float32_lists_conv_in_float32(files):
    inspection = inspect_tflite(files["float32"])
    assert ("CONV_2D", ("FLOAT32",) * 3, ("FLOAT32",)) in ops_of(inspection)


@pytest.mark.parametrize(("variant", "bytes_per_param"), [("float32", 4), ("int8", 1)], ids=str)
def test_constant_bytes_follow_the_parameter_count(files, variant, bytes_per_param):
    inspection = inspect_tflite(files[variant])
    expected = files["params"] * bytes_per_param
    # int8 keeps its 18 biases in int32 (3 more bytes each); Flatten's shape constants
    # add 16 bytes. The metadata buffers (over 100 bytes) must not count as weights.
    assert 0 <= inspection.constant_bytes - expected <= 18 * (4 - bytes_per_param) + 32


def test_activation_memory_is_bounded_and_shrinks_in_int8(files):
    float32, int8 = inspect_tflite(files["float32"]), inspect_tflite(files["int8"])
    # At least the input (8x8) and the conv output (6x6x8) at batch 1, in float32.
    assert float32.activation_bytes >= (64 + 288) * 4
    assert 0 < float32.peak_activation_bytes <= float32.activation_bytes
    assert int8.activation_bytes < float32.activation_bytes / 2


def test_inputs_outputs_signatures_and_metadata(files):
    inspection = inspect_tflite(files["int8"])
    (pixels,) = inspection.inputs
    assert pixels.shape == (-1, 8, 8) and pixels.dtype == "INT8"
    # Calibrated on 0..16: the int8 range covers 16.
    assert 15.5 < (127 - pixels.zero_point) * pixels.scale < 17.5
    assert inspection.outputs[0].dtype == "INT8" and inspection.outputs[0].shape == (-1, 10)
    assert list(inspection.signatures) == ["serving_default"]
    assert inspection.metadata["min_runtime_version"] > 0
    assert inspection.associated_files == () and inspection.flex_ops == ()
    assert inspection.litert_error is None


def test_a_file_litert_cannot_run_says_why(files):
    """int8 with EXPERIMENTAL_SPARSITY allocates, then XNNPACK fails at the first invoke."""
    import tensorflow as tf

    from kerasopt.export import LiteRTEvaluator
    from kerasopt.export.tflite_converter import configure_full_integer, savedmodel_converter

    model = tiny_cnn()
    kernel, bias = model.layers[-1].get_weights()
    kernel[np.abs(kernel) < np.quantile(np.abs(kernel), 0.9)] = 0
    model.layers[-1].set_weights([kernel, bias])
    with savedmodel_converter(model, tf.TensorSpec((None, 8, 8), tf.float32)) as converter:
        configure_full_integer(converter, files["x"])
        converter.optimizations = [tf.lite.Optimize.DEFAULT, tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
        content = converter.convert()
    inspection = inspect_tflite(content)
    assert ("DENSIFY", ("INT8",), ("INT8",)) in ops_of(inspection)
    try:
        LiteRTEvaluator(content).predict(files["x"][:1])
        runtime_error = None
    except RuntimeError as error:
        runtime_error = str(error)
    # Measured failing on ai-edge-litert 2.3.0; whichever way LiteRT goes, inspect agrees.
    assert (inspection.litert_error is None) == (runtime_error is None)
    if runtime_error is not None:
        assert "FULLY_CONNECTED" in inspection.litert_error


def test_appended_zip_is_listed(files):
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("labels.txt", "zero\none\n")
        archive.writestr("vocab.txt", "a\n")
    inspection = inspect_tflite(files["int8"] + bundle.getvalue())
    assert inspection.associated_files == ("labels.txt", "vocab.txt")
    assert inspection.litert_error is None


def test_metadata_written_by_attach_metadata_is_read_back(files):
    metadata = pytest.importorskip("kerasopt.export.tflite_metadata")
    labels = metadata.AssociatedFile("labels.txt", b"zero\none\n", "The class names.")
    description = metadata.ModelDescription(
        "tiny_cnn",
        "A tiny CNN.",
        inputs=(metadata.TensorDescription("image", "8x8 raw pixels."),),
        outputs=(metadata.TensorDescription("probability", "Scores.", files=(labels,)),),
    )
    inspection = inspect_tflite(metadata.attach_metadata(files["int8"], description))
    assert inspection.metadata["TFLITE_METADATA"] > 100
    assert inspection.associated_files == ("labels.txt",) and inspection.litert_error is None
    if importlib.util.find_spec("mediapipe") is not None:  # it decodes with mediapipe's schema
        assert inspection.tflite_metadata["name"] == "tiny_cnn"


def test_decoded_metadata_comes_from_the_sibling_module(files, monkeypatch):
    fake = types.ModuleType("kerasopt.export.tflite_metadata")
    fake.read_model_metadata = lambda content: {"name": "digits classifier"}
    monkeypatch.setitem(sys.modules, "kerasopt.export.tflite_metadata", fake)
    inspection = inspect_tflite(files["int8"])
    assert inspection.tflite_metadata == {"name": "digits classifier"}
    assert "digits classifier" in inspection.to_text()


def test_flex_ops_are_found_and_refused(flex_file, files):
    assert find_flex_ops(flex_file) == ["FlexCumprod"]
    assert find_flex_ops(files["int8"]) == []
    check_no_flex_ops(files["int8"], name="tiny_cnn")
    with pytest.raises(FlexOpsError, match="'cumprod' needs the Flex delegate.*FlexCumprod"):
        check_no_flex_ops(flex_file, name="cumprod")
    inspection = inspect_tflite(flex_file)
    assert inspection.flex_ops == ("FlexCumprod",)
    assert ("FlexCumprod", ("FLOAT32", "INT32"), ("FLOAT32",)) in ops_of(inspection)
    assert "Select TensorFlow op" in inspection.litert_error


@pytest.mark.parametrize("route", ["from_concrete_functions", "from_saved_model"])
def test_every_conversion_route_refuses_a_flex_file(flex_file, monkeypatch, route):
    import tensorflow as tf

    from kerasopt.export.tflite_converter import savedmodel_converter

    # The converter itself returns a Flex file: every export, through the frozen graph
    # (convert_to_tflite) or savedmodel_converter (bundles, text export), must refuse it.
    def converter(*args):
        return types.SimpleNamespace(convert=lambda: flex_file)

    monkeypatch.setattr(tf.lite.TFLiteConverter, route, converter)
    with pytest.raises(FlexOpsError, match="'tiny_cnn' needs the Flex delegate.*FlexCumprod"):
        if route == "from_concrete_functions":
            convert_to_tflite(tiny_cnn(), "float32")
        else:
            with savedmodel_converter(tiny_cnn(), tf.TensorSpec((None, 8, 8))) as saved:
                saved.convert()


def test_tables_and_dict(files):
    inspection = inspect_tflite(files["int8"])
    data = json.loads(json.dumps(inspection.to_dict()))
    conv = {"subgraph": 0, "op": "CONV_2D", "input_dtypes": ["INT8", "INT8", "INT32"]}
    assert any(conv.items() <= op.items() for op in data["ops"])
    assert data["constant_bytes"] == inspection.constant_bytes
    text = inspection.to_text()
    assert "activation bytes (upper bound)" in text and "INT8,INT8,INT32" in text
    assert "| CONV_2D | INT8,INT8,INT32 | INT8 | 1 |" in inspection.to_markdown()


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="expected a TFLite flatbuffer.*TFL3"):
        inspect_tflite(b"definitely not a flatbuffer")
    with pytest.raises(FileNotFoundError, match="No TFLite file"):
        inspect_tflite(tmp_path / "missing.tflite")


def test_latency_by_threads(files):
    latency = measure_latency_by_threads(files["int8"], files["x"], (1, 2), runs=3, warmup=1)
    assert list(latency) == [1, 2] and all(us > 0 for us in latency.values())
    with pytest.raises(ValueError, match=r"x to be a non-empty batch.*x.shape=\(8, 8\)"):
        measure_latency_by_threads(files["int8"], files["x"][0])
    with pytest.raises(ValueError, match="threads to be a non-empty tuple"):
        measure_latency_by_threads(files["int8"], files["x"], ())
    with pytest.raises(ValueError, match="threads"):
        measure_latency_by_threads(files["int8"], files["x"], (0,))
