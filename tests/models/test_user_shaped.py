"""The user-shaped zoo: every model builds from raw inputs, ends in a softmax, and saves."""

import keras
import numpy as np
import pytest

from kerasopt.models.user_shaped import USER_SHAPED_MODELS, build_user_shaped


@pytest.mark.parametrize("name", list(USER_SHAPED_MODELS))
def test_each_zoo_model_outputs_probabilities_and_round_trips(name, tmp_path):
    x = np.random.default_rng(0).uniform(0, 16, (8, 8, 8)).astype("float32")
    model = build_user_shaped(name, (8, 8), 10, input_max=16, adapt_data=x)
    probabilities = keras.ops.convert_to_numpy(model(x))
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), probabilities, atol=1e-6)


def test_the_zoo_has_the_shapes_users_bring():
    x = np.random.default_rng(0).uniform(0, 16, (32, 8, 8)).astype("float32")
    kinds = {
        name: {type(layer).__name__ for layer in build_user_shaped(name, (8, 8), 10).layers}
        for name in USER_SHAPED_MODELS
    }
    assert "Add" in kinds["residual"] and "DepthwiseConv2D" in kinds["mobilenet"]
    assert {"Dropout", "Flatten"} <= kinds["dropout_head"] and "Conv1D" in kinds["conv1d"]
    norm = build_user_shaped("normalized", (8, 8), 10, adapt_data=x).layers[2]
    assert isinstance(norm, keras.layers.Normalization)
    assert float(keras.ops.convert_to_numpy(norm.mean).ravel()[0]) == pytest.approx(x.mean(), 1e-4)


def test_unknown_zoo_model_is_named():
    with pytest.raises(ValueError, match=r"Unknown user-shaped model 'vgg'. Choose one of"):
        build_user_shaped("vgg", (8, 8), 10)
