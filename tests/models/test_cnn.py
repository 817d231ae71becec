import numpy as np
import pytest

from kerasopt.models import build_cnn, load_model_safely


def test_takes_raw_pixels_and_returns_probabilities(digits):
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    probabilities = model.predict(digits.x_test[:5], verbose=0)
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert model.get_layer("rescale").scale == pytest.approx(1 / 16)
    assert model.get_layer("add_channel").target_shape == (8, 8, 1)


def test_l2_lives_on_layers_and_adds_losses():
    model = build_cnn((8, 8), 10, filters=(4,), l2=1e-3)
    regularized = [
        layer.name for layer in model.layers if getattr(layer, "kernel_regularizer", None)
    ]
    assert regularized == ["block0_conv0", "block0_conv1", "dense"]
    assert len(model.losses) == 3
    plain = build_cnn((8, 8), 10, l2=0)
    assert not [layer for layer in plain.layers if getattr(layer, "kernel_regularizer", None)]


def test_options_shape_the_network():
    model = build_cnn(
        (28, 28, 3),
        5,
        filters=(8, 16, 32),
        convs_per_block=1,
        batch_norm=False,
        dropout=0.0,
        resize_to=32,
    )
    names = [layer.name for layer in model.layers]
    assert "add_channel" not in names and "resize" in names
    assert not any("bn" in n or "dropout" in n for n in names)
    assert sum("conv" in n for n in names) == 3
    assert model.output_shape == (None, 5)


def test_keras_file_round_trip_in_safe_mode(tmp_path, digits):
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
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
        ({"input_shape": (64,)}, r"input_shape \(height, width\).*Received: input_shape=\(64,\)"),
        ({"num_classes": 1}, r"num_classes >= 2.*num_classes=1"),
        ({"filters": (8, 0)}, r"positive filter counts"),
        ({"dropout": 1.0}, r"0 <= dropout < 1.*dropout=1.0"),
        ({"input_max": 0}, r"input_max > 0"),
        ({"l2": -1.0}, r"l2 >= 0"),
    ],
    ids=["shape", "classes", "filters", "dropout", "input-max", "l2"],
)
def test_bad_arguments_raise_with_the_value(kwargs, match):
    arguments = {"input_shape": (8, 8), "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_cnn(arguments.pop("input_shape"), arguments.pop("num_classes"), **arguments)
