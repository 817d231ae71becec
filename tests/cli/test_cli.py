import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mnist_like_files import make_mnist_like_npz

import kerasopt
from kerasopt.cli import (
    bench_command,
    build_parser,
    compress_command,
    main,
    model_commands,
    run_command,
    tune_command,
)

REPO = Path(__file__).resolve().parents[2]


def test_help_is_fast_and_names_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "kerasopt.cli", "--help"],
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


@pytest.mark.parametrize("command", ["run", "evaluate", "export", "compress", "tune"])
def test_subcommand_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--data" in capsys.readouterr().out


def test_bench_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--help"])
    assert exit_info.value.code == 0
    assert "--out" in capsys.readouterr().out


def test_every_command_help_prints_its_text_as_written():
    """argparse prints a description verbatim: an escaped '%%' would show as '%%'."""
    parser = build_parser()
    commands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert "bench" in commands.choices
    for name, command in commands.choices.items():
        text = command.format_help()
        assert "%%" not in text, f"kerasopt {name} --help prints '%%'"


def test_run_help_lists_the_registered_scenarios(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "digits, fashion_mnist, imdb, mnist" in out


@pytest.mark.parametrize(
    "argv, handler",
    [
        (["run", "digits"], run_command.run_command),
        (["evaluate", "m.tflite", "--data", "digits"], model_commands.evaluate_command),
        (["export", "m.keras", "--data", "digits"], model_commands.export_command),
        (
            ["compress", "m.keras", "--data", "digits", "--out", "o"],
            compress_command.compress_command,
        ),
        (["tune", "tuning/digits.toml"], tune_command.tune_command),
        (["bench", "augment"], bench_command.bench_command),
    ],
    ids=["run", "evaluate", "export", "compress", "tune", "bench"],
)
def test_each_command_dispatches_to_its_handler(argv, handler):
    assert build_parser().parse_args(argv).handler is handler


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"kerasopt {kerasopt.__version__}"


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


@pytest.mark.slow
def test_run_mnist_from_generated_npz(tmp_path, capsys):
    import keras

    make_mnist_like_npz(tmp_path / "mnist.npz", n_train=200, n_test=50)
    out = tmp_path / "mnist_run"
    assert (
        main(
            ["run", "mnist", "--data", str(tmp_path / "mnist.npz"), "--quick", "--out", str(out)]
            + ["--precision", "mixed_bfloat16", "--batch-norm", "keras", "--train-on-validation"]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    # Fitted on train + validation: no validation metrics (CSVLogger writes NA).
    assert report["train"]["train_on_validation"] is True
    assert report["train"]["mirror_average"] is False  # digits are not mirror-symmetric
    rows = (out / "training_log.csv").read_text().splitlines()
    header, first = rows[0].split(","), rows[1].split(",")
    assert first[header.index("val_loss")] == "NA"
    assert "Trained on train + validation" in (out / "report.md").read_text()
    # trained in bfloat16, saved and exported from the float32 model
    assert report["train"]["precision"] == report["train"]["precision_used"] == "mixed_bfloat16"
    # Keras' own BatchNormalization ops, as asked: no layer switched to the fused kernel.
    assert (report["train"]["batch_norm"], report["train"]["batch_norm_fused"]) == ("keras", 0)
    assert report["keras"]["accuracy"] == pytest.approx(report["tflite"]["float32"]["accuracy"])
    saved = keras.saving.load_model(out / "model.keras")
    assert {layer.compute_dtype for layer in saved.layers} == {"float32"}
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


@pytest.mark.slow
def test_bench_techniques_writes_table_and_plot(tmp_path, capsys):
    args = ["bench", "techniques", "--only", "label smoothing", "--epochs", "1"]
    assert main([*args, "--seeds", "1", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "techniques.json").read_text())["rows"]
    assert [row["technique"] for row in rows] == ["baseline", "label smoothing"]
    assert all(0 <= row["fgsm_accuracy"] <= row["accuracy"] + 0.05 for row in rows)
    assert (tmp_path / "techniques.png").read_bytes()[:4] == b"\x89PNG"
    assert "label smoothing" in capsys.readouterr().out


def test_bench_pareto_channels_take_fractions_and_refuse_one_line(capsys):
    from kerasopt.cli.bench_command import fraction_list

    assert fraction_list("0.25, 0.5,") == (0.25, 0.5)
    with pytest.raises(SystemExit) as exited:
        main(["bench", "pareto", "--channels", "0.5,1.5"])
    assert exited.value.code == 2
    assert "--channels: expected a fraction between 0 and 1, got 1.5" in capsys.readouterr().err


def test_bench_pareto_forwards_the_filter_lines_and_none_skips_one(monkeypatch, tmp_path):
    import kerasopt.pipeline
    from kerasopt.cli.bench_command import filter_pairs, int_list
    from kerasopt.pipeline import ParetoReport
    from kerasopt.pipeline.pareto_bench import PLAIN_PATH_FILTERS

    assert filter_pairs("8x16, 16x32") == ((8, 16), (16, 32)) and filter_pairs("none") == ()
    assert int_list("4,8") == (4, 8) and int_list("none") == ()
    calls = []

    def fake_bench(scenario, **kwargs):
        calls.append(kwargs)
        return ParetoReport(scenario, "idx:x", 10, ())

    monkeypatch.setattr(kerasopt.pipeline, "run_pareto_bench", fake_bench)
    out = ["--out", str(tmp_path)]
    assert main(["bench", "pareto", "--recipe-filters", "4x8,8x16", *out]) == 0
    skip_both = ["--plain-filters", "none", "--recipe-widths", "none", "--recipe-filters", "none"]
    assert main(["bench", "pareto", *skip_both, *out]) == 0
    first, second = calls
    assert first["recipe_filters"] == ((4, 8), (8, 16)) and first["recipe_widths"] == (4, 8)
    assert first["plain_filters"] == PLAIN_PATH_FILTERS
    assert second["recipe_filters"] == () == second["plain_filters"] == second["recipe_widths"]


def test_bench_techniques_rejects_unknown_names(capsys):
    assert main(["bench", "techniques", "--only", "mixupp"]) == 2
    assert "has no technique ['mixupp']" in capsys.readouterr().err


def test_unknown_scenario_is_one_line_listing_the_choices(capsys):
    assert main(["run", "digit"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("kerasopt run: error: Unknown scenario")
    assert "digits, fashion_mnist, imdb, mnist" in err and "Did you mean 'digits'?" in err


@pytest.mark.parametrize("flag", ["--traceback", None], ids=["before", "after"])
def test_traceback_flag_shows_the_traceback_of_a_user_error(flag, capsys):
    argv = ["--traceback", "run", "digit"] if flag else ["run", "digit", "--traceback"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "InvalidValueError" in err
    assert err.splitlines()[-1].startswith("kerasopt run: error: Unknown scenario 'digit'")


def test_other_errors_propagate_with_their_traceback(monkeypatch):
    def bug(args):
        raise ValueError("a bug, or Keras' own error")

    monkeypatch.setattr(model_commands, "evaluate_command", bug)
    with pytest.raises(ValueError, match="a bug, or Keras' own error"):
        main(["evaluate", "m.tflite", "--data", "digits"])


def test_compression_flags_are_refused_for_a_scenario_that_cannot_be_compressed(capsys):
    assert main(["run", "imdb", "--prune", "0.5"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "Scenario 'imdb' cannot be compressed. Received: compress={'prune': 0.5" in err


def test_structure_needs_prune(capsys):
    assert main(["run", "digits", "--structure", "2:4"]) == 2
    assert "--structure 2:4 needs magnitude pruning" in capsys.readouterr().err


_HOLD = """
import sys, time
from kerasopt.core.locking import output_lock
with output_lock(sys.argv[1], "kerasopt run digits --out X"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "digits"],
        ["compress", "model.keras", "--data", "digits", "--prune", "0.5"],
        ["tune", str(REPO / "tuning" / "digits.toml")],
    ],
    ids=["run", "compress", "tune"],
)
def test_second_command_on_a_held_out_folder_exits_at_once(argv, tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        assert main([*argv, "--out", str(out)]) == 2
        assert time.perf_counter() - started < 3.0
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(f"kerasopt {argv[0]}: error:")
    assert f"in use by process {holder.pid}" in err and "kerasopt run digits --out X" in err
    assert not (out / "model.keras").exists() and not (out / "report.json").exists()


def test_compress_forwards_stop_early_and_leaves_the_rate_to_the_backend(monkeypatch, tmp_path):
    import keras

    import kerasopt.compress

    calls = []

    class Refused(Exception):
        pass

    def fake_compress(model, data, **kwargs):
        calls.append(kwargs)
        raise Refused

    monkeypatch.setattr(kerasopt.compress, "compress_model", fake_compress)
    path = tmp_path / "m.keras"
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.save(path)
    base = ["compress", str(path), "--data", "digits", "--prune", "0.8"]
    for extra in ([], ["--stop-early", "--learning-rate", "0.003"]):
        with pytest.raises(Refused):
            main([*base, *extra, "--out", str(tmp_path / "o")])
    assert calls[0]["stop_early"] is False and calls[0]["learning_rate"] is None
    assert calls[1]["stop_early"] is True and calls[1]["learning_rate"] == 0.003
