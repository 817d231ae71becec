"""`run_scenario` on an image scenario: every artifact, the report, error analysis, FGSM."""

import json

import pytest

from kerasopt.pipeline import RUN_REPORT_KEYS, SCHEMA_VERSION


@pytest.mark.slow
def test_quick_run_writes_every_artifact(digits_run):
    out, _ = digits_run
    expected = {
        "model.keras",
        "model_float32.tflite",
        "model_dynamic.tflite",
        "model_float16.tflite",
        "model_int8.tflite",
        "report.json",
        "report.md",
        "training_curves.png",
        "confusion_matrix.png",
        "reliability_diagram.png",
        "hardest_examples.png",
        "training_log.csv",
        "checkpoints",
        "compressed",
        "phone",
        ".kerasopt.lock",
    }
    assert {p.name for p in out.iterdir()} == expected  # no partial or backup files left


def test_compression_stages_join_the_run_report(digits_run):
    out, report = digits_run
    stages = report.to_dict()["compression"]["stages"]
    assert [s["stage"] for s in stages] == ["dense", "channels -50%"]
    assert stages[0]["keras_accuracy"] == pytest.approx(report.keras.accuracy)
    assert stages[1]["params"] < stages[0]["params"]
    assert (out / "compressed" / "model_int8.tflite").is_file()
    assert "## Compression" in (out / "report.md").read_text()
    assert "**budget " in (out / "report.md").read_text()
    assert "Compression (artifacts in compressed/)" in report.summary_table()
    lines = report.summary_table().splitlines()
    assert any(line.startswith(("budget held", "budget NOT held")) for line in lines)


def test_report_json_shape(digits_run):
    out, report = digits_run
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report.to_dict()))
    assert on_disk["schema_version"] == SCHEMA_VERSION == 2
    assert set(on_disk) == {*RUN_REPORT_KEYS, "compression"}
    assert on_disk["scenario"] == "digits"
    assert on_disk["model"] == {
        "name": "cnn",
        "builder": "build_cnn",
        "input_max": 16.0,
        "filters": [32, 64],
        "dense_units": 128,
        "dropout": 0.3,
        "bn_momentum": 0.9,
    }
    assert on_disk["dataset"]["split"]["test"].startswith("train_test_split(X, y, test_size=0.2")
    assert list(on_disk["tflite"]) == ["float32", "dynamic", "float16", "int8"]
    metric_keys = {"variant", "split", "samples", "accuracy", "agreement", "bytes"}
    metric_keys |= {"gzip_bytes", "latency_us", "full_integer", "file", "notes", "error_analysis"}
    for variant, part in on_disk["tflite"].items():
        assert set(part) == metric_keys
        assert part["variant"] == variant and part["file"] == f"model_{variant}.tflite"
    assert on_disk["tflite"]["int8"]["full_integer"] is True
    assert list(on_disk["sections"]) == ["phone"]
    assert {"load_data", "train", "export", "verify", "total"} <= set(on_disk["timings"])
    assert {"keras", "tensorflow", "ai-edge-litert"} <= set(on_disk["versions"])
    assert on_disk["keras"]["params"] > 0
    # The peak RSS of the process that ran the pipeline: TF alone takes hundreds of MB.
    assert 200 < on_disk["resources"]["peak_rss_mb"] < 24 * 1024
    assert f"Peak resident memory: {on_disk['resources']['peak_rss_mb']:,.0f} MB." in (
        (out / "report.md").read_text()
    )


def test_the_phone_bundle_is_checked_through_mediapipe(digits_run):
    pytest.importorskip("mediapipe", reason="the bundle's metadata needs mediapipe==1.2.3")
    out, report = digits_run
    assert {p.name for p in (out / "phone").iterdir()} == {"model.tflite", "labels.txt"}
    assert (out / "phone" / "labels.txt").read_text().split() == [str(i) for i in range(10)]
    phone = report.sections["phone"].content
    assert phone["bytes"] == (out / "phone" / "model.tflite").stat().st_size
    assert phone["int8_bytes"] == report.tflite["int8"].exported.metrics.bytes
    assert phone["size_ratio"] <= 1.05
    assert phone["mediapipe"]["accuracy"] == pytest.approx(phone["litert"]["accuracy"], abs=0.003)
    assert "## Phone bundle" in (out / "report.md").read_text()
    assert any(line.startswith("phone bundle") for line in report.summary_table().splitlines())


def test_report_has_error_analysis_for_every_model(digits_run):
    out, report = digits_run
    data = report.to_dict()
    test_size = data["dataset"]["sizes"]["test"]
    models = {"keras": data["keras"], **data["tflite"]}
    for name, part in models.items():
        analysis = part["error_analysis"]
        assert analysis["accuracy"] == part["accuracy"], name
        assert sum(analysis["per_class"]["support"]) == test_size
        assert len(analysis["per_class"]["f1"]) == data["dataset"]["num_classes"]
        calibration = analysis["calibration"]
        assert 0.0 <= calibration["ece"] <= calibration["mce"] <= 1.0
        assert sum(b["count"] for b in calibration["bins"]) == test_size
        assert all(pair["count"] > 0 for pair in analysis["most_confused"])
    keras_analysis = data["keras"]["error_analysis"]
    assert len(keras_analysis["confusion_matrix"]) == data["dataset"]["num_classes"]
    assert keras_analysis["plots"]["reliability_diagram"] == "reliability_diagram.png"
    assert keras_analysis["plots"]["hardest_examples"] == "hardest_examples.png"
    for plot in keras_analysis["plots"].values():
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"analysis", "robustness"} <= set(data["timings"])


def test_report_has_the_robustness_curve(digits_run):
    _, report = digits_run
    robustness = report.to_dict()["robustness"]
    assert robustness["attack"] == "fgsm" and robustness["input_range"] == [0.0, 16.0]
    curve = robustness["curve"]
    assert [point["epsilon"] for point in curve] == [0.0, 0.01, 0.02, 0.05, 0.1]
    assert curve[0]["accuracy"] == report.keras.accuracy
    assert curve[-1]["accuracy"] < curve[0]["accuracy"]


def test_report_md_has_error_analysis_and_robustness(digits_run):
    out, report = digits_run
    text = (out / "report.md").read_text()
    ece = report.tflite["int8"].error_analysis["calibration"]["ece"]
    assert "| model | test accuracy | ECE |" in text and f"{ece:.4f}" in text
    assert "| class | precision | recall | F1 | support | F1 float32 |" in text
    assert "## Robustness (FGSM" in text and "reliability_diagram.png" in text


def test_quick_run_learns_and_exports_faithfully(digits_run):
    _, report = digits_run
    assert report.keras.accuracy > 0.8
    assert report.tflite["float32"].metrics.agreement == 1.0
    assert report.tflite["int8"].metrics.agreement >= 0.97
    assert report.tflite["int8"].metrics.bytes <= 0.3 * report.tflite["float32"].metrics.bytes


def test_report_md_and_summary_have_the_table(digits_run):
    out, report = digits_run
    accuracy = f"{report.tflite['int8'].metrics.accuracy:.4f}"
    text = (out / "report.md").read_text()
    assert "| tflite int8 |" in text and accuracy in text
    summary = report.summary_table()
    assert "tflite int8" in summary and accuracy in summary and str(out) in summary


def test_run_holds_validation_out_for_compression_and_refuses_training_on_it():
    import dataclasses

    from kerasopt.core.errors import InvalidValueError
    from kerasopt.pipeline.run_scenario import run_train_config
    from kerasopt.scenarios import get_scenario

    fashion = get_scenario("fashion_mnist")
    final_fit = fashion.train.replace(train_on_validation=True)
    fashion = dataclasses.replace(fashion, train=final_fit)
    assert run_train_config(fashion, "residual").train_on_validation is True
    # Compression measures its budget on validation: the recipe's final fit gives way.
    assert (
        run_train_config(fashion, "residual", compress={"prune": 0.8}).train_on_validation is False
    )
    with pytest.raises(InvalidValueError, match=r"--no-train-on-validation"):
        run_train_config(fashion, "residual", train_on_validation=True, compress={"prune": 0.8})
    # Asked for on a recipe that stops early: early stopping goes, nothing is held out.
    mnist = run_train_config(get_scenario("mnist"), "cnn", train_on_validation=True)
    assert mnist.train_on_validation and mnist.early_stopping_patience is None
