"""`kerasopt ensemble`: members trained, one combined int8 model written and measured."""

import json

import pytest
from mnist_like_files import make_mnist_like_npz

from kerasopt.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    make_mnist_like_npz(folder / "tiny.npz", n_train=120, n_test=40, shape=(8, 8))
    return folder


def test_ensemble_writes_one_full_integer_model_and_distils_it(files, capsys):
    from ai_edge_litert.interpreter import Interpreter

    from kerasopt.export import find_float_parts

    out = files / "out"
    argv = ["ensemble", "--data", str(files / "tiny.npz"), "--method", "snapshot"]
    argv += ["--members", "2", "--epochs", "1", "--distill", "0.5", "--distill-epochs", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "member 1" in printed and "ensemble vs best member" in printed
    for name in ("ensemble.keras", "ensemble_int8.tflite", "report.json", "report.md"):
        assert (out / name).is_file()
    report = json.loads((out / "report.json").read_text())
    assert [m["role"] for m in report["members"]] == ["member 0", "member 1"]
    assert report["ensemble"]["tflite"]["full_integer"]
    assert report["settings"] == {**report["settings"], "method": "snapshot", "epochs": 1}
    assert report["combiner"] == "average" and len(report["notes"]) == 0
    ensemble = report["ensemble"]
    assert ensemble["params"] == sum(m["params"] for m in report["members"])
    content = (out / "ensemble_int8.tflite").read_bytes()
    interpreter = Interpreter(model_content=content)
    assert len(interpreter.get_input_details()) == len(interpreter.get_output_details()) == 1
    assert find_float_parts(content) == []
    # --distill: the ensemble is the teacher of one half-width member-shaped student.
    assert "Ensemble distilled into one student (width 0.5)" in printed
    assert "The student starts from member_" in printed and "strongest channels" in printed
    teacher, student, labels_only = json.loads((out / "student" / "report.json").read_text())[
        "models"
    ]
    assert teacher["keras_accuracy"] == pytest.approx(ensemble["keras_accuracy"])
    assert teacher["params"] == ensemble["params"]
    assert student["params"] == labels_only["params"] < report["members"][0]["params"]
    assert student["tflite"]["full_integer"]
    assert (out / "student" / "student_int8.tflite").is_file()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--members", "1"], "Received: members=1. Pass e.g. members=5."),
        (["--method", "boost"], "Received: method='boost'."),
        (["--members", "500"], "Received: members=500. Pass members <="),
    ],
    ids=["one_member", "unknown_method", "more_members_than_samples"],
)
def test_bad_values_are_one_line_errors_and_write_nothing(files, capsys, flags, expected):
    out = files / "bad"
    assert main(["ensemble", "--data", str(files / "tiny.npz"), *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
