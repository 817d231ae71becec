import json

import pytest

from kerasopt.scenarios import SCENARIOS, get_scenario, run_scenario


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits_quick")
    compress = {"channels": 0.5, "epochs": 1}
    return out, run_scenario("digits", out_dir=out, quick=True, verbose=0, compress=compress)


def test_quick_run_writes_every_artifact(quick_run):
    out, _ = quick_run
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
    }
    assert {p.name for p in out.iterdir()} == expected  # no partial or backup files left


def test_compression_stages_join_the_run_report(quick_run):
    out, report = quick_run
    stages = report["compression"]["stages"]
    assert [s["stage"] for s in stages] == ["dense", "channels -50%"]
    assert stages[0]["keras_accuracy"] == pytest.approx(report["keras"]["accuracy"])
    assert stages[1]["params"] < stages[0]["params"]
    assert (out / "compressed" / "model_int8.tflite").is_file()
    assert "## Compression" in (out / "report.md").read_text()


def test_report_json_shape(quick_run):
    out, report = quick_run
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["scenario"] == "digits"
    assert on_disk["dataset"]["split"]["test"].startswith("train_test_split(X, y, test_size=0.2")
    assert set(on_disk["tflite"]) == {"float32", "dynamic", "float16", "int8"}
    for variant in on_disk["tflite"].values():
        assert {"accuracy", "agreement", "bytes", "gzip_bytes", "latency_us"} <= set(variant)
    assert on_disk["tflite"]["int8"]["full_integer"] is True
    assert {"load_data", "train", "export", "verify", "total"} <= set(on_disk["timings"])
    assert {"keras", "tensorflow", "ai-edge-litert"} <= set(on_disk["versions"])
    assert on_disk["keras"]["params"] > 0


def test_report_has_error_analysis_for_every_model(quick_run):
    out, report = quick_run
    test_size = report["dataset"]["sizes"]["test"]
    models = {"keras": report["keras"], **report["tflite"]}
    for name, part in models.items():
        analysis = part["error_analysis"]
        assert analysis["accuracy"] == part["accuracy"], name
        assert sum(analysis["per_class"]["support"]) == test_size
        assert len(analysis["per_class"]["f1"]) == report["dataset"]["num_classes"]
        calibration = analysis["calibration"]
        assert 0.0 <= calibration["ece"] <= calibration["mce"] <= 1.0
        assert sum(b["count"] for b in calibration["bins"]) == test_size
        assert all(pair["count"] > 0 for pair in analysis["most_confused"])
    keras_analysis = report["keras"]["error_analysis"]
    assert keras_analysis["confusion_matrix"] == report["confusion_matrix"]
    assert keras_analysis["plots"]["reliability_diagram"] == "reliability_diagram.png"
    assert keras_analysis["plots"]["hardest_examples"] == "hardest_examples.png"
    for plot in keras_analysis["plots"].values():
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"analysis", "robustness"} <= set(report["timings"])


def test_report_has_the_robustness_curve(quick_run):
    _, report = quick_run
    robustness = report["robustness"]
    assert robustness["attack"] == "fgsm" and robustness["input_range"] == [0.0, 16.0]
    curve = robustness["curve"]
    assert [point["epsilon"] for point in curve] == [0.0, 0.01, 0.02, 0.05, 0.1]
    assert curve[0]["accuracy"] == report["keras"]["accuracy"]
    assert curve[-1]["accuracy"] < curve[0]["accuracy"]


def test_report_md_has_error_analysis_and_robustness(quick_run):
    out, report = quick_run
    text = (out / "report.md").read_text()
    ece = report["tflite"]["int8"]["error_analysis"]["calibration"]["ece"]
    assert "| model | test accuracy | ECE |" in text and f"{ece:.4f}" in text
    assert "| class | precision | recall | F1 | support | F1 float32 |" in text
    assert "## Robustness (FGSM" in text and "reliability_diagram.png" in text


def test_quick_run_learns_and_exports_faithfully(quick_run):
    _, report = quick_run
    assert report["keras"]["accuracy"] > 0.8
    assert report["tflite"]["float32"]["agreement"] == 1.0
    assert report["tflite"]["int8"]["agreement"] >= 0.97
    assert report["tflite"]["int8"]["bytes"] <= 0.3 * report["tflite"]["float32"]["bytes"]


def test_report_md_has_the_table(quick_run):
    out, report = quick_run
    text = (out / "report.md").read_text()
    assert "| tflite int8 |" in text and f"{report['tflite']['int8']['accuracy']:.4f}" in text


def test_quick_overrides_only_in_quick_mode():
    scenario = get_scenario("digits")
    assert scenario.train_config(quick=True).epochs < scenario.train_config().epochs
    assert scenario.train_config(epochs=3, seed=5).epochs == 3
    assert set(SCENARIOS) == {"digits", "mnist", "fashion_mnist", "cifar10"}


def test_unknown_scenario():
    with pytest.raises(
        ValueError, match=r"Unknown scenario 'imagenet'. Expected one of \['cifar10'"
    ):
        get_scenario("imagenet")
