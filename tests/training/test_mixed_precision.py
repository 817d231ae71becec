import dataclasses

import keras
import numpy as np
import pytest
from small_models import nested_backbone_cnn

from kerasopt.models import build_cnn, build_residual_cnn
from kerasopt.training import ConfigError, TrainConfig, train
from kerasopt.training.mixed_precision import (
    cpu_has_bfloat16,
    resolve_precision,
    tf_sees_gpu,
    with_precision,
)


def test_unknown_precision_names_the_valid_ones():
    with pytest.raises(ConfigError, match=r"precision='bf16'.*'mixed_bfloat16'"):
        TrainConfig(precision="bf16")


def test_auto_follows_the_cpu_flags(tmp_path):
    amx = tmp_path / "amx"
    amx.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n")
    plain = tmp_path / "plain"
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n")
    assert cpu_has_bfloat16(amx) and not cpu_has_bfloat16(plain)
    assert not cpu_has_bfloat16(tmp_path / "missing")
    expected = "float32" if tf_sees_gpu() else "mixed_bfloat16"
    assert resolve_precision("auto", cpuinfo=amx) == expected
    assert resolve_precision("auto", cpuinfo=plain) == "float32"
    assert resolve_precision("mixed_bfloat16", cpuinfo=plain) == "mixed_bfloat16"


def test_copy_computes_in_bfloat16_but_the_softmax_and_weights_stay_float32():
    model = build_residual_cnn((8, 8), 10, input_max=16, widths=(4, 8))
    copy = with_precision(model, "mixed_bfloat16")
    assert copy is not model
    assert copy.get_layer("stage1_a_conv").compute_dtype == "bfloat16"
    assert copy.get_layer("probabilities").compute_dtype == "float32"
    assert {v.dtype for v in copy.weights} == {"float32"}
    for original, copied in zip(model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(original, copied)
    assert with_precision(model, "float32") is model


def test_a_nested_backbone_computes_in_bfloat16_too():
    model = nested_backbone_cnn()
    copy = with_precision(model, "mixed_bfloat16")
    inner = copy.get_layer("backbone")
    convs = [layer for layer in inner.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 2 and {layer.compute_dtype for layer in convs} == {"bfloat16"}
    assert copy.get_layer("head").compute_dtype == "float32"
    x = np.random.default_rng(0).uniform(0, 16, (4, 8, 8)).astype("float32")
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0), atol=0.02)


def test_training_in_bfloat16_trains_the_float32_model(digits):
    data = dataclasses.replace(digits, x_train=digits.x_train[:800], y_train=digits.y_train[:800])
    model = build_cnn(
        data.input_shape, 10, input_max=16, filters=(8, 16), dense_units=32, bn_momentum=0.9
    )
    before = model.get_weights()
    config = TrainConfig(
        epochs=12,
        batch_size=32,
        augment=None,
        early_stopping_patience=None,
        precision="mixed_bfloat16",
        checkpoint=False,
    )
    result = train(model, data, config, verbose=0)
    assert result.precision == "mixed_bfloat16"
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    # compiled like its training copy, so it evaluates (and fits on) as train() left it
    assert type(model.optimizer).__name__ == "Adam"
    assert model.evaluate(data.x_test, data.y_test, verbose=0)[1] > 0.8
    assert keras.config.dtype_policy().name == "float32"
