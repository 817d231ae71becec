"""`kerasopt debug-quant`: the report files and one .tflite per option, written to --out."""

import json

import numpy as np
import pytest
from small_models import separable_cnn

from kerasopt.cli import main
from kerasopt.export import LiteRTEvaluator


@pytest.fixture(scope="module")
def model_and_data(tmp_path_factory):
    """An untrained separable CNN and a small 8x8 `.npz` (the command does not train)."""
    folder = tmp_path_factory.mktemp("debug_quant")
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 17, size=(100, 8, 8)).astype("uint8"),
        "y_train": (np.arange(100) % 10).astype("uint8"),
        "x_test": rng.integers(0, 17, size=(30, 8, 8)).astype("uint8"),
        "y_test": (np.arange(30) % 10).astype("uint8"),
    }
    np.savez(folder / "small.npz", **arrays)
    separable_cnn(filters=8).save(folder / "model.keras")
    return folder / "model.keras", folder / "small.npz"


def test_writes_the_report_and_every_option_file(model_and_data, tmp_path, capsys):
    model, data = model_and_data
    out = tmp_path / "out"
    argv = ["debug-quant", str(model), "--data", str(data), "--keep-float", "1"]
    argv += ["--keep-float-ops", "2"]
    assert main([*argv, "--no-int16x8", "--debug-samples", "8", "--out", str(out)]) == 0
    report = json.loads((out / "quant_debug.json").read_text())
    names = [option["name"] for option in report["options"]]
    assert "int16x8" not in names
    assert names[:4] == ["float32", "int8", "int8_keep_float", "int8_keep_float_ops"]
    assert report["keep_float"] == 1 and report["debug_samples"] == 8
    assert report["keep_float_ops"] == 2
    errors = [layer["rmse_over_scale"] for layer in report["layers"]]
    assert errors == sorted(errors, reverse=True)
    for option in report["options"]:
        path = out / f"{option['name']}.tflite"
        if option["skipped"]:  # int4 blocks of 32 do not fit this head's 16 inputs
            assert not path.exists() and option["metrics"] is None
        else:
            assert path.stat().st_size == option["metrics"]["bytes"]
    kept = LiteRTEvaluator(out / "int8_keep_float.tflite")
    assert kept.input_dtype == np.int8
    assert "| int8 + keep-float 1 |" in (out / "quant_debug.md").read_text()
    assert (out / "quant_debug.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "int8 + keep-float 1" in printed and "worst layers (rmse/scale)" in printed


def test_too_many_kept_layers_is_one_line_and_exit_2(model_and_data, capsys):
    model, data = model_and_data
    argv = ["debug-quant", str(model), "--data", str(data), "--keep-float", "500"]
    assert main([*argv, "--no-int16x8", "--debug-samples", "4"]) == 2
    err = capsys.readouterr().err
    assert "kerasopt debug-quant: error:" in err and "keep_float=500" in err
    # The default --out, a folder beside MODEL, is not left behind by a failed run.
    assert not model.with_name("model_quant_debug").exists()


def test_negative_keep_float_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["debug-quant", "m.keras", "--data", "digits", "--keep-float", "-1"])
    assert "expected an integer >= 0" in capsys.readouterr().err
