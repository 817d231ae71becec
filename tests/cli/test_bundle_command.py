"""`kerasopt bundle`: a model file in, a MediaPipe-ready folder out."""

import json

import pytest
from mnist_like_files import make_mnist_like_npz
from small_models import residual_cnn

from kerasopt.cli import main

pytest.importorskip("mediapipe", reason="bundles carry metadata built with mediapipe==1.2.3")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    make_mnist_like_npz(folder / "tiny.npz", n_train=120, n_test=40, shape=(8, 8))
    residual_cnn(input_max=255.0, filters=8).save(folder / "model.keras")
    (folder / "names.txt").write_text("".join(f"class {i}\n" for i in range(10)))
    return folder


def test_bundle_writes_a_checked_folder_with_the_given_labels(files, capsys):
    out = files / "phone"
    argv = ["bundle", str(files / "model.keras"), "--data", str(files / "tiny.npz")]
    assert main([*argv, "--labels", str(files / "names.txt"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "MediaPipe ImageClassifier" in printed and "phone bundle" in printed
    assert (out / "labels.txt").read_text() == (files / "names.txt").read_text()
    report = json.loads((out / "bundle.json").read_text())
    assert report["bytes"] == (out / "model.tflite").stat().st_size
    assert report["class_names"] == [f"class {i}" for i in range(10)]
    assert report["mediapipe"]["agreement"] >= 0.95
    assert report["size_ratio"] == pytest.approx(
        report["bytes"] / (report["int8_bytes"] + report["files_bytes"])
    )


@pytest.mark.parametrize(
    "labels, message",
    [("missing.txt", "no such file"), ("three.txt", "3 class names for a model with 10 outputs")],
    ids=["missing_file", "wrong_count"],
)
def test_bad_labels_are_a_one_line_error(files, capsys, labels, message):
    (files / "three.txt").write_text("a\nb\nc\n")
    argv = ["bundle", str(files / "model.keras"), "--data", str(files / "tiny.npz")]
    out = files / f"bad_{labels}"
    assert main([*argv, "--labels", str(files / labels), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1
    assert not (out / "model.tflite").exists()
