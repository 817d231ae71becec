import subprocess
import sys

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.data import load_dataset
from kerasopt.export import measure_int8
from kerasopt.models import MirrorAverage, build_cnn, load_model_safely, mirror_average
from kerasopt.training import TrainConfig, train


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_output_is_the_mean_over_each_image_and_its_mirror(digits):
    keras.utils.set_random_seed(0)
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    averaged = mirror_average(model)
    x = digits.x_test[:6].astype("float32")
    expected = (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(averaged.predict(x, verbose=0), expected, atol=1e-6)
    assert averaged.count_params() == model.count_params()  # the weights are shared


def test_saved_file_loads_in_safe_mode_with_the_same_outputs(digits, tmp_path):
    model = mirror_average(build_cnn(digits.input_shape, 10, input_max=16, filters=(4,)))
    model.save(tmp_path / "m.keras")
    loaded = load_model_safely(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], MirrorAverage)
    x = digits.x_test[:4]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_trained_model_saved_averaged_loads_in_a_fresh_process(digits, tmp_path):
    # Trained with kerasopt's own loss (label smoothing): a new process has not imported it.
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    config = TrainConfig(epochs=1, label_smoothing=0.1, early_stopping_patience=None)
    train(model, digits, config, verbose=0)
    mirror_average(model).save(tmp_path / "m.keras")
    code = (
        "import sys; from kerasopt.models import load_model_safely; "
        "m = load_model_safely(sys.argv[1]); print(type(m.layers[-1]).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.keras")], capture_output=True, text=True
    )
    assert done.stdout.strip() == "MirrorAverage", done.stderr[-2000:]


def test_a_model_without_an_image_input_is_refused():
    inputs = keras.Input((5,))
    dense = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    with pytest.raises(InvalidValueError, match=r"one image input.*Received: inputs of shapes"):
        mirror_average(dense)


def test_int8_file_keeps_one_copy_of_the_weights_and_agrees_with_keras(digits):
    keras.utils.set_random_seed(0)
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(8,), dense_units=16)
    train(model, digits, TrainConfig(epochs=10, augment=None), verbose=0)
    plain = measure_int8(model, digits.x_train, digits.x_test, digits.y_test, latency_runs=5)
    averaged = measure_int8(
        mirror_average(model), digits.x_train, digits.x_test, digits.y_test, latency_runs=5
    )
    assert averaged.tflite.full_integer
    # One batch of two through the same weights: the file grows by a few ops, not a copy.
    assert averaged.tflite.bytes < plain.tflite.bytes + 4096
    # Quantized as faithfully as the model itself (digits are not mirror-symmetric, so
    # the averaged model is the less sure one; its accuracy is not the point here).
    assert averaged.tflite.agreement >= plain.tflite.agreement - 0.03


def test_compression_and_transfer_work_on_the_classifier_inside(digits, tmp_path, caplog):
    from kerasopt.compress import compress_model
    from kerasopt.strategies.transfer_run import load_source

    keras.utils.set_random_seed(0)
    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(8,), dense_units=16)
    train(model, digits, TrainConfig(epochs=2, augment=None), verbose=0)
    averaged = mirror_average(model)
    assert load_source(averaged).layers[1:] == model.layers[1:]  # the same layers
    with caplog.at_level("WARNING"):
        report = compress_model(
            averaged, digits, prune=0.5, epochs=1, learning_rate=1e-2, out_dir=tmp_path
        )
    assert "is mirror-averaged; working on the classifier inside it ('cnn')" in caplog.text
    assert report.stages[-1].kernel_sparsity == pytest.approx(0.5, abs=0.05)
