import numpy as np
import pytest

from kerasopt.models import build_cnn, build_residual_cnn, count_macs, load_model_safely


def test_takes_raw_pixels_and_returns_probabilities(digits):
    model = build_residual_cnn(digits.input_shape, 10, input_max=16, widths=(4, 8))
    probabilities = model.predict(digits.x_test[:5], verbose=0)
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert model.get_layer("rescale").scale == pytest.approx(1 / 16)


def test_each_stage_pools_then_adds_a_shortcut():
    model = build_residual_cnn((28, 28), 10, widths=(8, 16, 16), stem_convs=2)
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n.endswith("_add")] == ["stage1_add", "stage2_add"]
    # Only a change of width needs a 1x1 projection on the shortcut.
    assert "stage1_projection_conv" in names and "stage2_projection_conv" not in names
    assert model.get_layer("stage2_add").output.shape[1:] == (7, 7, 16)
    assert sum(n.startswith("stem") and n.endswith("_conv") for n in names) == 2
    # The pooled head: the classifier holds widths[-1] x classes weights (+ biases).
    assert model.get_layer("probabilities").count_params() == 16 * 10 + 10


def test_blocks_repeat_residual_blocks_with_identity_shortcuts():
    one = build_residual_cnn((28, 28), 10, widths=(8, 16, 32), head="flatten")
    deeper = build_residual_cnn((28, 28), 10, widths=(8, 16, 32), head="flatten", blocks=(2, 1))
    names = [layer.name for layer in deeper.layers]
    assert [n for n in names if n.endswith("_add")] == [
        "stage1_add",
        "stage1_block2_add",
        "stage2_add",
    ]
    # The repeated block keeps the stage's width: an identity shortcut, no projection.
    assert "stage1_block2_projection_conv" not in names
    assert deeper.get_layer("stage1_block2_add").output.shape[1:] == (14, 14, 16)
    # Two 3x3 convs of 16 -> 16 filters with their BatchNorms are all that is added.
    added = 2 * (9 * 16 * 16 + 4 * 16)
    assert deeper.count_params() == one.count_params() + added
    # One int applies to every stage.
    assert len(build_residual_cnn((28, 28), 10, widths=(8, 16, 32), blocks=2).layers) > len(
        deeper.layers
    )


def test_flatten_head_keeps_the_positions_of_the_last_stage():
    model = build_residual_cnn((28, 28), 10, widths=(8, 16, 16), head="flatten")
    assert "pool" not in [layer.name for layer in model.layers]
    # 7 x 7 positions x 16 channels per class (+ biases)
    assert model.get_layer("probabilities").count_params() == 7 * 7 * 16 * 10 + 10


def test_separable_blocks_replace_each_stage_conv_with_depthwise_and_pointwise():
    conv = build_residual_cnn((28, 28), 10, widths=(8, 32, 64))
    separable = build_residual_cnn((28, 28), 10, widths=(8, 32, 64), block="separable")
    kinds = {type(layer).__name__ for layer in separable.layers}
    assert "DepthwiseConv2D" in kinds
    # stage2's second conv: 3x3 depthwise over 64 channels, then a 1x1 to 64 channels.
    assert separable.get_layer("stage2_b_depthwise").count_params() == 9 * 64
    assert separable.get_layer("stage2_b_conv").count_params() == 64 * 64
    assert separable.get_layer("stage2_b_conv").kernel_size == (1, 1)
    assert conv.get_layer("stage2_b_conv").count_params() == 9 * 64 * 64
    # The stem stays a full convolution, and the shortcut keeps its projection.
    assert separable.get_layer("stem0_conv").count_params() == 9 * 8
    assert "stage1_projection_conv" in [layer.name for layer in separable.layers]
    assert separable.count_params() < conv.count_params() / 4


def test_separable_blocks_convert_to_full_integer_int8(digits):
    from kerasopt.export import check_full_integer, convert_to_tflite

    model = build_residual_cnn(
        digits.input_shape, 10, input_max=16, widths=(4, 8), block="separable"
    )
    content = convert_to_tflite(model, "int8", representative_data=digits.x_train)
    check_full_integer(content)


def test_pooled_head_puts_the_bytes_in_convolutions():
    residual = build_residual_cnn((28, 28), 10)
    vgg = build_cnn((28, 28), 10)
    assert residual.count_params() < vgg.count_params() / 4
    assert count_macs(residual) < count_macs(vgg) / 2


def test_count_macs_matches_the_formula_by_hand():
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 64 * 9 * 3 * 4 = 6912
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)  # 64 * 9 * 4 = 2304
    x = keras.layers.SeparableConv2D(6, 3, strides=2, padding="same")(x)  # 16 * (36 + 24)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5)(x)  # 30
    model = keras.Model(inputs, outputs)
    assert count_macs(model) == 6912 + 2304 + 16 * 60 + 30


def test_wider_models_cost_more_and_are_int8_convertible(digits):
    from kerasopt.export import check_full_integer, convert_to_tflite

    small = build_residual_cnn(digits.input_shape, 10, input_max=16, widths=(4, 8))
    large = build_residual_cnn(digits.input_shape, 10, input_max=16, widths=(8, 16))
    assert count_macs(large) > 3 * count_macs(small)
    content = convert_to_tflite(small, "int8", representative_data=digits.x_train)
    check_full_integer(content)


def test_keras_file_round_trip_in_safe_mode(tmp_path, digits):
    model = build_residual_cnn(digits.input_shape, 10, input_max=16, widths=(4, 8))
    model.save(tmp_path / "m.keras")
    loaded = load_model_safely(tmp_path / "m.keras")
    np.testing.assert_allclose(
        loaded.predict(digits.x_test[:8], verbose=0),
        model.predict(digits.x_test[:8], verbose=0),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (64,)}, r"input_shape \(height, width\)"),
        ({"num_classes": 1}, r"num_classes >= 2"),
        ({"widths": (8, 0)}, r"widths\[i\].*Received: widths\[i\]=0"),
        ({"widths": ()}, r"non-empty sequence"),
        ({"widths": (4, 8, 16, 32, 64)}, r"at most 4 widths for a 8x8 input.*Pass fewer"),
        ({"stem_convs": 0}, r"stem_convs"),
        ({"widths": (4, 8), "blocks": (1, 2)}, r"one block count per pooled stage \(1\)"),
        ({"blocks": 0}, r"blocks"),
        ({"dropout": 1.0}, r"dropout"),
        ({"input_max": 0}, r"input_max"),
        ({"l2": -1.0}, r"l2"),
        ({"bn_momentum": 1.0}, r"bn_momentum"),
        ({"head": "flat"}, r"head to be one of 'pool', 'flatten'.*Did you mean 'flatten'"),
        ({"block": "depthwise"}, r"block to be one of 'conv', 'separable'"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    arguments = {"input_shape": (8, 8), "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_residual_cnn(arguments.pop("input_shape"), arguments.pop("num_classes"), **arguments)


def test_bn_momentum_reaches_every_batch_norm():
    model = build_residual_cnn((28, 28), 10, widths=(4, 8), bn_momentum=0.9)
    momenta = {
        layer.momentum for layer in model.layers if type(layer).__name__ == "BatchNormalization"
    }
    assert momenta == {0.9}
