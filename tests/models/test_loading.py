import keras
import pytest

from kerasopt.models import ModelFileError, load_model_safely


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="No model file"):
        load_model_safely(tmp_path / "none.keras")


def test_wrong_suffix(tmp_path):
    (tmp_path / "model.h5").write_bytes(b"x")
    with pytest.raises(ModelFileError, match="not a .keras file"):
        load_model_safely(tmp_path / "model.h5")


@pytest.mark.parametrize("content", [b"", b"not a zip at all"], ids=["empty", "text"])
def test_corrupt_file(tmp_path, content):
    (tmp_path / "m.keras").write_bytes(content)
    with pytest.raises(ModelFileError, match="not a valid .keras archive"):
        load_model_safely(tmp_path / "m.keras")


def test_truncated_file(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "full.keras")
    data = (tmp_path / "full.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="cut.keras"):
        load_model_safely(tmp_path / "cut.keras")


def test_lambda_layer_is_refused_by_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="safe_mode"):
        load_model_safely(tmp_path / "lambda.keras")


def test_a_model_trained_with_a_custom_loss_loads_in_a_fresh_process(tmp_path, digits):
    import subprocess
    import sys

    from kerasopt.models import build_cnn
    from kerasopt.training import TrainConfig, train

    model = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    config = TrainConfig(epochs=1, label_smoothing=0.1, augment=None, checkpoint=False)
    train(model, digits, config, verbose=0)  # compiled with SmoothedSparseCategorical...
    model.save(tmp_path / "smoothed.keras")
    # A new process has not imported kerasopt.regularizers, where the loss is registered.
    code = (
        "from kerasopt.models import load_model_safely;"
        f"m = load_model_safely({str(tmp_path / 'smoothed.keras')!r});"
        "print(m.output_shape)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(None, 10)" in done.stdout
