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
