import json

import keras
import numpy as np
import pytest

from kerasopt.cli import main


@pytest.fixture(scope="module")
def int8_file(tmp_path_factory):
    """An int8 CNN taking digits' raw 8x8 images (untrained: only its structure matters)."""
    from kerasopt.export import convert_to_tflite

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8)),
            keras.layers.Reshape((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    x = np.random.default_rng(0).uniform(0, 16, (32, 8, 8)).astype("float32")
    path = tmp_path_factory.mktemp("inspect") / "model_int8.tflite"
    path.write_bytes(convert_to_tflite(model, "int8", representative_data=x))
    return path


def test_prints_the_tables(int8_file, capsys):
    assert main(["inspect", str(int8_file)]) == 0
    out = capsys.readouterr().out
    for title in ("Summary", "Ops", "Inputs and outputs", "Signatures", "Metadata"):
        assert f"\n{title}\n" in f"\n{out}"
    assert "CONV_2D" in out and "INT8,INT8,INT32" in out
    assert "activation bytes (upper bound)" in out and "serving_default" in out
    assert "LiteRT latency" not in out


def test_json_with_latency_per_thread(int8_file, capsys):
    assert main(["inspect", str(int8_file), "--data", "digits", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(op["op"] == "CONV_2D" and op["input_dtypes"][0] == "INT8" for op in report["ops"])
    assert report["inputs"][0]["dtype"] == "INT8" and report["flex_ops"] == []
    assert list(report["latency_us_by_threads"]) == ["1", "2", "4"]
    assert all(us > 0 for us in report["latency_us_by_threads"].values())


def test_missing_file_is_one_line(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.tflite")]) == 2
    assert "kerasopt inspect: error: No TFLite file" in capsys.readouterr().err


def test_help_names_the_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--data" in out and "--json" in out and "Flex" in out
