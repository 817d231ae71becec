"""`kerasopt transfer`: a backbone fine-tuned on chosen classes, vs scratch, as int8."""

import json

import keras
import pytest
from mnist_like_files import make_mnist_like_npz

from kerasopt.cli import main
from kerasopt.models import build_residual_cnn


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transfer")
    make_mnist_like_npz(folder / "tiny.npz", n_train=200, n_test=40, shape=(8, 8))
    keras.utils.set_random_seed(0)
    build_residual_cnn((8, 8), 5, widths=(4, 8)).save(folder / "source.keras")
    return folder


def test_transfer_writes_the_model_int8_file_and_both_rows(files, capsys):
    out = files / "out"
    argv = ["transfer", str(files / "source.keras"), "--data", str(files / "tiny.npz")]
    argv += ["--cut", "stage1_relu", "--classes", "5-9", "--per-class", "4", "--epochs", "1"]
    assert main([*argv, "--fine-tune-epochs", "1", "--unfreeze", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "scratch" in printed and "vs scratch" in printed and "4 labelled images" in printed
    for name in ("transfer.keras", "transfer_int8.tflite", "report.json", "report.md"):
        assert (out / name).is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["classes"] == [5, 6, 7, 8, 9] and report["unfrozen"]
    assert report["dataset"]["sizes"]["train"] == 20 and report["dataset"]["num_classes"] == 5
    for row in ("transfer", "scratch"):
        assert report[row]["tflite"]["full_integer"] and report[row]["epochs"] == 2
    expected = report["transfer"]["tflite"]["accuracy"] - report["scratch"]["tflite"]["accuracy"]
    assert report["int8_accuracy_gain"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--cut", "stage1_rlu"], "Received: cut='stage1_rlu'. Did you mean 'stage1_relu'?"),
        (["--classes", "5,12"], "Received: classes=[5, 12]. Pass ids from 0 to 9"),
        (["--per-class", "300"], "has 18. Pass per_class <= 18."),
        (["--unfreeze", "7"], "Received: unfreeze=7."),
    ],
    ids=["unknown_cut", "unknown_class", "too_few_per_class", "unfreeze_too_deep"],
)
def test_bad_values_are_one_line_errors_and_write_nothing(files, capsys, flags, expected):
    out = files / "bad"
    argv = ["transfer", str(files / "source.keras"), "--data", str(files / "tiny.npz")]
    defaults = {"--cut": "stage1_relu", "--classes": "5-9", "--per-class": "4"}
    defaults |= dict(zip(flags[::2], flags[1::2], strict=True))
    argv += [part for pair in defaults.items() for part in pair]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_bench_transfer_parses_class_ranges_and_refuses_overlap(tmp_path, capsys):
    from kerasopt.cli.main import build_parser

    argv = ["bench", "transfer", "--source-classes", "0-4", "--target-classes", "4,5-7"]
    args = build_parser().parse_args([*argv, "--per-class", "10,50"])
    assert args.source_classes == [0, 1, 2, 3, 4] and args.target_classes == [4, 5, 6, 7]
    assert args.per_class == (10, 50) and args.seeds is None
    out = tmp_path / "bench"
    assert main([*argv, "--data", "digits", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Received: both hold [4]." in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
