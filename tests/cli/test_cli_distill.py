"""`kerasopt distill`: a teacher file in, a measured int8 student out."""

import json

import pytest
from mnist_like_files import make_mnist_like_npz
from small_models import residual_cnn

from kerasopt.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distill")
    make_mnist_like_npz(folder / "tiny.npz", n_train=120, n_test=40, shape=(8, 8))
    residual_cnn(input_max=255.0, filters=8).save(folder / "teacher.keras")
    return folder


def test_distill_writes_a_measured_student(files, capsys):
    out = files / "out"
    argv = ["distill", str(files / "teacher.keras"), "--data", str(files / "tiny.npz")]
    assert main([*argv, "--student", "0.5", "--out", str(out), "--epochs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "student (labels only)" in printed and "student int8 / teacher int8" in printed
    for name in ("student.keras", "student_int8.tflite", "report.json", "report.md"):
        assert (out / name).is_file()
    report = json.loads((out / "report.json").read_text())
    roles = [model["role"] for model in report["models"]]
    assert roles == ["teacher", "student (distilled)", "student (labels only)"]
    teacher, student = report["models"][:2]
    assert student["params"] < teacher["params"]
    assert student["tflite"]["full_integer"] and report["settings"]["epochs"] == 1
    assert report["settings"]["init"] == "teacher"


def test_init_random_starts_the_student_fresh(files):
    out = files / "fresh"
    argv = ["distill", str(files / "teacher.keras"), "--data", str(files / "tiny.npz")]
    argv += ["--student", "0.5", "--init", "random", "--no-baseline", "--epochs", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["init"] == "random"
    assert [model["role"] for model in report["models"]] == ["teacher", "student (distilled)"]


@pytest.mark.parametrize("value", ["1.5", "abc"], ids=["too_wide", "not_a_number"])
def test_bad_student_value_is_a_one_line_error(files, capsys, value):
    argv = ["distill", str(files / "teacher.keras"), "--data", "digits", "--student", value]
    assert main([*argv, "--out", str(files / "bad")]) == 2
    err = capsys.readouterr().err
    assert "--student expects a width multiplier in (0, 1] or a STUDENT.keras file. " in err
    assert f"Received: --student {value}." in err and len(err.splitlines()) == 1
    assert not (files / "bad").exists()
