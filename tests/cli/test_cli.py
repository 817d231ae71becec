import json
import subprocess
import sys

import numpy as np
import pytest
from mnist_like_files import make_mnist_like_npz

from kerasopt.cli import build_parser, main


def test_help_is_fast_and_names_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "kerasopt.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for command in ("run", "evaluate", "export"):
        assert command in result.stdout


def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from kerasopt.cli import build_parser; build_parser(); "
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("command", ["run", "evaluate", "export", "compress"])
def test_subcommand_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--data" in capsys.readouterr().out


def test_run_rejects_bad_epochs(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "digits", "--epochs", "0"])
    assert "expected an integer >= 1" in capsys.readouterr().err


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, trained_digits_model):
    path = tmp_path_factory.mktemp("cli") / "model.keras"
    trained_digits_model.save(path)
    return path


def test_export_then_evaluate(saved_model, capsys):
    assert main(["export", str(saved_model), "--quantize", "int8", "--data", "digits"]) == 0
    written = saved_model.with_name("model_int8.tflite")
    assert written.is_file() and "agreement with Keras" in capsys.readouterr().out
    assert main(["evaluate", str(written), "--data", "digits"]) == 0
    assert "accuracy 0." in capsys.readouterr().out
    assert main(["evaluate", str(saved_model), "--data", "digits"]) == 0
    assert "on 360 test samples" in capsys.readouterr().out


def test_export_none_is_float32(saved_model, tmp_path):
    out = tmp_path / "f.tflite"
    assert (
        main(
            [
                "export",
                str(saved_model),
                "--quantize",
                "none",
                "--data",
                "digits",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.is_file()


def test_corrupt_model_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "broken.keras").write_bytes(b"garbage")
    assert main(["evaluate", str(tmp_path / "broken.keras"), "--data", "digits"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasopt evaluate: error:") and "not a valid .keras archive" in err


def test_offline_dataset_is_one_clear_line(monkeypatch, capsys):
    import keras

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    assert main(["run", "mnist", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--data PATH" in err and "'digits'" in err


def test_run_mnist_from_npz_with_nan_names_the_array(tmp_path, capsys):
    arrays = make_mnist_like_npz(tmp_path / "m.npz")
    x_train = arrays["x_train"].astype("float32")
    x_train[0, 0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **{**arrays, "x_train": x_train})
    assert (
        main(["run", "mnist", "--data", str(tmp_path / "nan.npz"), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "x_train contains 1 NaN/Inf" in capsys.readouterr().err


def test_run_mnist_from_generated_npz(tmp_path, capsys):
    make_mnist_like_npz(tmp_path / "mnist.npz", n_train=200, n_test=50)
    out = tmp_path / "mnist_run"
    assert (
        main(["run", "mnist", "--data", str(tmp_path / "mnist.npz"), "--quick", "--out", str(out)])
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert (
        report["dataset"]["input_shape"] == [28, 28] and report["dataset"]["input_dtype"] == "uint8"
    )
    assert report["tflite"]["int8"]["full_integer"] is True
    assert "tflite int8" in capsys.readouterr().out


def test_bench_augment_reports_both_pipelines(capsys):
    args = ["bench", "augment", "--images", "256", "--size", "16", "--batch-size", "64"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "batched tf.data" in out and "per-image loop" in out and "speedup" in out


def test_bench_techniques_writes_table_and_plot(tmp_path, capsys):
    args = ["bench", "techniques", "--only", "label smoothing", "--epochs", "1"]
    assert main([*args, "--seeds", "1", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "techniques.json").read_text())["rows"]
    assert [row["technique"] for row in rows] == ["baseline", "label smoothing"]
    assert all(0 <= row["fgsm_accuracy"] <= row["accuracy"] + 0.05 for row in rows)
    assert (tmp_path / "techniques.png").read_bytes()[:4] == b"\x89PNG"
    assert "label smoothing" in capsys.readouterr().out


def test_bench_techniques_rejects_unknown_names(capsys):
    assert main(["bench", "techniques", "--only", "mixupp"]) == 2
    assert "has no technique ['mixupp']" in capsys.readouterr().err
