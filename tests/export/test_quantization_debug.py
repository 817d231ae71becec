"""`debug_quantization`: per-layer int8 errors, and the options measured on LiteRT."""

import json
import sys

import keras
import numpy as np
import pytest
from small_models import residual_cnn

from kerasopt.core.errors import InvalidValueError
from kerasopt.export import ConversionError, LiteRTEvaluator
from kerasopt.export.quantization_debug import debug_quantization, plot_quantization_debug
from kerasopt.export.quantization_options import (
    QUANTIZATION_OPTIONS,
    OptionUnavailableError,
    ai_edge_quantizer_content,
    float_compute_ops,
)

FAST = {"num_calibration": 32, "debug_samples": 12, "latency_runs": 2}


@pytest.fixture(scope="module")
def small_split(digits):
    return digits.x_train[:300], digits.y_train[:300], digits.x_test[:60], digits.y_test[:60]


@pytest.fixture(scope="module")
def model(small_split):
    """A residual CNN (a shape users bring, not written for this feature), trained briefly."""
    keras.utils.set_random_seed(0)
    x_train, y_train, _, _ = small_split
    model = residual_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def report(model, small_split):
    x_train, _, x_test, y_test = small_split
    return debug_quantization(
        model, x_train, x_test, y_test, keep_float=2, keep_float_ops=2, **FAST
    )


@pytest.fixture(scope="module")
def attention_report(small_split):
    """An attention block with LayerNormalization, whose int8 file holds float NEG ops
    before any denylist; keep-float once counted them as kept layers."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8))
    x = keras.layers.Dense(8)(keras.layers.Rescaling(1 / 16)(inputs))
    x = keras.layers.LayerNormalization()(x + keras.layers.MultiHeadAttention(1, 8)(x, x))
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    x_train, _, x_test, y_test = small_split
    options = ("int8_keep_float", "int8_keep_float_ops")
    return debug_quantization(
        model, x_train, x_test, y_test, keep_float=2, keep_float_ops=2, options=options, **FAST
    )


def _op_types(content, float_only=False):
    """The op type of every op of a `.tflite` file (of its float-computing ops only)."""
    from ai_edge_litert.interpreter import Interpreter

    if float_only:
        return [op.split(" ")[0] for op in float_compute_ops(content)]
    return [op["op_name"] for op in Interpreter(model_content=content)._get_ops_details()]


def test_layers_are_ranked_worst_first_with_both_metrics(report):
    errors = [layer.rmse_over_scale for layer in report.layers]
    assert len(errors) >= 5 and errors == sorted(errors, reverse=True)
    assert errors[0] > 0.1  # a quantized conv is at least about rounding (0.29) off
    assert {layer.op_name for layer in report.layers} >= {"CONV_2D", "FULLY_CONNECTED"}
    assert all(-1.0 <= layer.cosine <= 1.0 + 1e-6 for layer in report.layers)
    # Without preserved tensors the cosine read overwritten buffers; real ones are near 1.
    assert all(layer.cosine > 0.9 for layer in report.layers if layer.op_name == "CONV_2D")


def test_keep_float_leaves_exactly_the_worst_layers_float(report):
    kept = report.option("int8_keep_float")
    assert len(kept.float_tensors) == 2
    float_ops = float_compute_ops(kept.content)
    assert len(float_ops) == 2
    for name in kept.float_tensors:
        assert any(op.endswith(" " + name) for op in float_ops), (name, float_ops)
    worst = [layer.tensor_name for layer in report.layers]
    assert set(kept.float_tensors) <= set(worst[:4])  # skips only a denylist no-op
    assert float_compute_ops(report.option("int8").content) == []


def test_keep_float_counts_only_the_tensors_it_leaves_float(attention_report):
    kept = attention_report.option("int8_keep_float")
    assert kept.label == "int8 + keep-float 2" and len(kept.float_tensors) == 2
    float_ops = float_compute_ops(kept.content)
    assert "NEG" in _op_types(kept.content, float_only=True)  # float before any denylist
    for name in kept.float_tensors:  # a float BATCH_MATMUL's output gains a suffix ("...11")
        assert any(op.split(" ", 1)[1].startswith(name) for op in float_ops), (name, float_ops)


def test_keep_float_ops_leaves_exactly_the_worst_op_types_float(attention_report):
    option = attention_report.option("int8_keep_float_ops")
    worst_types = list(dict.fromkeys(layer.op_name for layer in attention_report.layers))
    assert option.float_ops == tuple(worst_types[:2]) and option.float_tensors == ()
    assert option.label == "int8 + keep-float 2 op types"
    float_types = _op_types(option.content, float_only=True)
    assert set(float_types) - {"NEG"} == set(option.float_ops)
    all_types = _op_types(option.content)
    for op_type in option.float_ops:  # every op of a chosen type, not only the worst one
        assert float_types.count(op_type) == all_types.count(op_type) > 0, op_type
    assert LiteRTEvaluator(option.content).input_dtype == np.int8
    assert f"float ops: {', '.join(option.float_ops)}" in attention_report.summary_table()


def test_keep_float_file_keeps_int8_io_and_is_scored_on_it(report, small_split):
    _, _, x_test, y_test = small_split
    kept = report.option("int8_keep_float")
    evaluator = LiteRTEvaluator(kept.content)
    assert evaluator.input_dtype == np.int8
    assert evaluator.output_details["dtype"] == np.int8
    assert kept.metrics.accuracy == evaluator.evaluate(x_test, y_test)["accuracy"]
    assert kept.metrics.bytes == len(kept.content) > report.option("int8").metrics.bytes


def test_int16x8_file_has_int16_activations(report):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=report.option("int16x8").content)
    assert interpreter.get_input_details()[0]["dtype"] == np.int16
    dtypes = {np.dtype(t["dtype"]) for t in interpreter.get_tensor_details()}
    assert np.dtype(np.int16) in dtypes and np.dtype(np.int8) in dtypes  # int8 weights
    assert np.dtype(np.float32) not in dtypes


def test_every_option_is_measured_in_order(report):
    assert report.option_names() == list(QUANTIZATION_OPTIONS)
    float32, int8 = report.option("float32").metrics, report.option("int8").metrics
    assert int8.full_integer and int8.bytes < float32.bytes
    weight_only = report.option("aeq_int8_weight_only")
    assert weight_only.skipped is None and weight_only.metrics.bytes < float32.bytes


def test_report_serializes_and_reads(report, tmp_path):
    data = json.loads(json.dumps(report.to_dict()))
    assert [o["name"] for o in data["options"]] == list(QUANTIZATION_OPTIONS)
    assert "content" not in data["options"][0] and data["keep_float"] == 2
    assert data["keep_float_ops"] == 2
    by_name = {option["name"]: option for option in data["options"]}
    assert len(by_name["int8_keep_float_ops"]["float_ops"]) == 2
    markdown = report.to_markdown()
    assert "| int8 + keep-float 2 |" in markdown and "rmse/scale" in markdown
    table = report.summary_table()
    assert all(option.label in table for option in report.options) and "float: " in table
    plot_quantization_debug(report, tmp_path / "q.png")
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_ai_edge_quantizer_skips_with_the_install_line(monkeypatch, report):
    monkeypatch.setitem(sys.modules, "ai_edge_quantizer", None)
    with pytest.raises(OptionUnavailableError, match=r"pip install ai-edge-quantizer==0\.10\.0"):
        ai_edge_quantizer_content(report.option("float32").content, "aeq_int8_weight_only")


def test_unavailable_options_are_skipped_rows_not_errors(monkeypatch, model, small_split):
    import kerasopt.export.quantization_options as quantization_options

    def no_16x8_kernel(*args, **kwargs):
        raise ConversionError("Quantization to 16x8-bit not yet supported for op: 'NEG'.")

    monkeypatch.setitem(sys.modules, "ai_edge_quantizer", None)
    monkeypatch.setattr(quantization_options, "convert_int16x8", no_16x8_kernel)
    x_train, _, x_test, y_test = small_split
    report = debug_quantization(
        model, x_train, x_test, y_test, keep_float=0,
        options=("float32", "int16x8", "aeq_int4_blockwise"), **FAST,
    )  # fmt: skip
    assert report.option_names() == ["float32", "int16x8", "aeq_int4_blockwise"]
    skipped = report.option("aeq_int4_blockwise")
    assert skipped.metrics is None and "pip install ai-edge-quantizer" in skipped.skipped
    assert "'NEG'" in report.option("int16x8").skipped
    assert report.option("float32").metrics.accuracy > 0
    assert report.summary_table().count("skipped") == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"options": ("int8", "int4")}, r"options='int4'"),
        ({"keep_float": -1}, r"keep_float=-1"),
        ({"keep_float_ops": -2}, r"keep_float_ops=-2"),
        ({"debug_samples": 0}, r"debug_samples=0"),
    ],
    ids=["unknown-option", "negative-keep-float", "negative-keep-float-ops", "no-debug-samples"],
)
def test_bad_arguments_name_the_value(model, small_split, kwargs, match):
    x_train, _, x_test, y_test = small_split
    with pytest.raises(InvalidValueError, match=match):
        debug_quantization(model, x_train, x_test, y_test, **kwargs)


def test_keep_float_beyond_the_layers_names_the_limit(model, small_split):
    x_train, _, x_test, y_test = small_split
    with pytest.raises(InvalidValueError, match=r"keep_float <= \d+.*Received: keep_float=999"):
        debug_quantization(
            model, x_train, x_test, y_test, keep_float=999, options=("int8_keep_float",), **FAST
        )


def test_two_input_model_is_refused(small_split):
    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))
    x = np.zeros((4, 4), "float32")
    with pytest.raises(InvalidValueError, match="one input"):
        debug_quantization(model, x, x, np.zeros(4, int))
