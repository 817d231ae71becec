"""Export of each text family, measured on tiny random models (vocab 200, length 32).

Observed on Keras 3.15 / TF 2.21 (300 random rows, output kernel x20; argmax agreement,
mean |dp|): bow int8 (0.967, 0.0013), tfidf int8 (0.993, 0.0063), cnn int8 (1.000,
0.0014), bilstm dynamic (1.000, 0.0002), transformer dynamic (0.993, 0.0014).
"""

import keras
import numpy as np
import pytest
from text_model_cases import SEQUENCE_LENGTH, TINY, VOCAB_SIZE, random_token_ids, sharpen

from kerasopt.export import check_full_integer
from kerasopt.text.text_export import TextExport, _layers_named_in, export_text_model
from kerasopt.text.text_models import TEXT_MODEL_FAMILIES, build_text_model

EXPECTED_MODE = {
    "bow": "int8",
    "tfidf": "int8",
    "cnn": "int8",
    "bilstm": "dynamic",
    "transformer": "dynamic",
}
# Lowest agreement observed: 0.967 (bow int8); the bounds leave room for other CPUs.
MIN_AGREEMENT = {"int8": 0.93, "dynamic": 0.98}
MAX_MEAN_ABS_DIFF = {"int8": 0.01, "dynamic": 0.005}


@pytest.fixture(scope="module")
def exported():
    """Each family built, exported and run on LiteRT once: (model, export, keras, litert)."""
    calibration, test_ids = random_token_ids(200, seed=1), random_token_ids(300, seed=2)
    results = {}
    for family in TEXT_MODEL_FAMILIES:
        keras.utils.set_random_seed(0)
        model = sharpen(build_text_model(family, VOCAB_SIZE, SEQUENCE_LENGTH, **TINY))
        export = export_text_model(model, calibration)
        reference = model.predict(test_ids, batch_size=300, verbose=0)
        results[family] = (model, export, reference, export.predict(test_ids))
    return results


@pytest.mark.parametrize("family", TEXT_MODEL_FAMILIES, ids=TEXT_MODEL_FAMILIES)
@pytest.mark.slow
def test_export_mode_per_family(exported, family):
    _, export, _, _ = exported[family]
    assert isinstance(export, TextExport)
    assert export.mode == EXPECTED_MODE[family]
    if export.mode == "int8":
        assert export.reason is None and export.blocking_layers == []


@pytest.mark.parametrize("family", TEXT_MODEL_FAMILIES, ids=TEXT_MODEL_FAMILIES)
def test_litert_agrees_with_keras(exported, family):
    _, export, reference, litert = exported[family]
    agreement = np.mean(litert.argmax(axis=1) == reference.argmax(axis=1))
    assert agreement >= MIN_AGREEMENT[export.mode], agreement
    assert np.abs(litert - reference).mean() <= MAX_MEAN_ABS_DIFF[export.mode]


@pytest.mark.parametrize("family", ["bow", "tfidf", "cnn"], ids=["bow", "tfidf", "cnn"])
def test_int8_exports_take_int32_ids_and_are_full_integer(exported, family):
    from ai_edge_litert.interpreter import Interpreter

    content = exported[family][1].content
    check_full_integer(content)
    interpreter = Interpreter(model_content=content)
    assert interpreter.get_input_details()[0]["dtype"] == np.int32
    assert interpreter.get_output_details()[0]["dtype"] == np.int8


def test_bilstm_falls_back_naming_the_lstm(exported):
    from ai_edge_litert.interpreter import Interpreter

    export = exported["bilstm"][1]
    assert export.blocking_layers == ["bilstm"]
    assert "'bilstm' (Bidirectional(LSTM))" in export.reason
    assert "WHILE" in export.reason
    # Tensor lists need a static shape: the recurrent export has batch size 1.
    signature = Interpreter(model_content=export.content).get_input_details()[0]
    assert list(signature["shape_signature"]) == [1, SEQUENCE_LENGTH]


def test_transformer_falls_back_naming_layer_normalization(exported):
    export = exported["transformer"][1]
    assert export.blocking_layers == ["attention_norm", "ffn_norm"]
    assert "'attention_norm' (LayerNormalization) runs NEG in float" in export.reason
    assert "'ffn_norm' (LayerNormalization) runs NEG in float" in export.reason


def test_failed_int8_conversion_falls_back_naming_the_layer(exported, monkeypatch):
    from kerasopt.export import ConversionError
    from kerasopt.text import text_export

    convert = text_export._convert

    def int8_fails(model, sequence_length, *, calibration=None, batch_size=None):
        if calibration is None:
            return convert(model, sequence_length, batch_size=batch_size)
        cause = RuntimeError(
            'loc(fused["MatMul:", "text_bow_1/hidden_1/MatMul@__inference"]): error: '
            "'tfl.fully_connected' op quantization failed\nmore converter output"
        )
        raise ConversionError("int8 failed") from cause

    monkeypatch.setattr(text_export, "_convert", int8_fails)
    export = export_text_model(exported["bow"][0], random_token_ids(8))
    assert export.mode == "dynamic"
    assert export.blocking_layers == ["hidden"]
    assert export.reason == (
        "Full-integer int8 conversion failed in layer(s) 'hidden': "
        "'tfl.fully_connected' op quantization failed"
    )


def test_converter_scopes_map_to_layer_names(exported):
    model = exported["bilstm"][0]
    message = (
        'loc(callsite(fused["TensorListReserve:", "text_bilstm_1/bilstm_1/backward_lstm_1/'
        'TensorArrayV2_1@__inference_<lambda>_5701"]'
    )
    assert _layers_named_in([message], model) == ["bilstm"]
    assert _layers_named_in(["tfl.dequantize", "serving_default_token_ids:0"], model) == []


def test_rejects_float_input_models():
    inputs = keras.Input((SEQUENCE_LENGTH,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="floaty")
    with pytest.raises(ValueError, match=r"integer token ids.*'floaty' with input dtype float32"):
        export_text_model(model, random_token_ids(4))


@pytest.mark.parametrize(
    "ids, match",
    [
        (np.zeros((4, 7), "int32"), r"shape \(n, 32\)\. Received: shape \(4, 7\)"),
        (np.full((4, SEQUENCE_LENGTH), -1), r"non-negative integer token ids.*min -1"),
        (np.zeros((4, SEQUENCE_LENGTH), "float32"), r"non-negative integer.*dtype float32"),
    ],
    ids=["shape", "negative", "float"],
)
def test_rejects_bad_representative_ids(exported, ids, match):
    with pytest.raises(ValueError, match=match):
        export_text_model(exported["bow"][0], ids)
