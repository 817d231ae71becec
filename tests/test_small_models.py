"""The shared zoo builds, trains one step, and saves and loads in safe mode."""

import keras
import numpy as np
import pytest
from small_models import USER_SHAPED_MODELS, image_classification_data, regression_data


@pytest.mark.parametrize("build", USER_SHAPED_MODELS.values(), ids=USER_SHAPED_MODELS.keys())
def test_zoo_model_trains_and_round_trips(build, tmp_path):
    x, y = image_classification_data(32)
    model = build()
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=False)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_regression_targets():
    x, y = regression_data(8, weights=None)
    np.testing.assert_allclose(y[:, 0], x.sum(axis=1), rtol=1e-6)
    x, y = regression_data(8, bias=0.5)
    np.testing.assert_allclose(y[:, 0], x @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.5, rtol=1e-5)
