"""`error_analysis` bundles everything and reads Keras and LiteRT probabilities alike."""

import json

import numpy as np
import pytest

from kerasopt.analysis import error_analysis

KEYS = {
    "num_samples",
    "accuracy",
    "confusion_matrix",
    "per_class",
    "most_confused",
    "calibration",
    "hardest_examples",
}


def _toy(seed=0, n=60, num_classes=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, num_classes))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, num_classes, n)
    images = rng.uniform(0, 255, size=(n, 6, 6))
    return probabilities, labels, images


def test_bundle_without_files(tmp_path):
    probabilities, labels, _ = _toy()
    result = error_analysis(probabilities, labels, num_classes=4, top=5)
    assert set(result) == KEYS
    assert result["accuracy"] == pytest.approx(np.mean(probabilities.argmax(1) == labels))
    assert np.sum(result["confusion_matrix"]) == 60 == sum(result["per_class"]["support"])
    assert len(result["hardest_examples"]) == 5
    assert 0.0 <= result["calibration"]["ece"] <= result["calibration"]["mce"] <= 1.0
    assert json.loads(json.dumps(result)) == result  # plain Python all the way down


def test_writes_the_three_plots_with_prefix(tmp_path):
    probabilities, labels, images = _toy()
    result = error_analysis(
        probabilities,
        labels,
        num_classes=4,
        images=images,
        out_dir=tmp_path,
        prefix="int8_",
        class_names=["a", "b", "c", "d"],
        title="toy",
    )
    assert result["plots"] == {
        "confusion_matrix": "int8_confusion_matrix.png",
        "reliability_diagram": "int8_reliability_diagram.png",
        "hardest_examples": "int8_hardest_examples.png",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(result["plots"].values())
    assert result["class_names"] == ["a", "b", "c", "d"]


def test_same_analysis_from_keras_and_litert(trained_digits_model, digits):
    from kerasopt.export import LiteRTEvaluator, convert_to_tflite

    keras_p = trained_digits_model.predict(digits.x_test, verbose=0)
    content = convert_to_tflite(trained_digits_model, "int8", representative_data=digits.x_train)
    evaluator = LiteRTEvaluator(content)
    litert_p = evaluator.predict(digits.x_test)
    from_keras = error_analysis(keras_p, digits.y_test, num_classes=10)
    from_litert = error_analysis(litert_p, digits.y_test, num_classes=10)
    assert set(from_keras) == set(from_litert) == KEYS
    assert from_litert["accuracy"] == evaluator.evaluate(digits.x_test, digits.y_test)["accuracy"]
    assert from_litert["per_class"]["support"] == from_keras["per_class"]["support"]
    assert abs(from_litert["accuracy"] - from_keras["accuracy"]) <= 0.03
    assert abs(from_litert["calibration"]["ece"] - from_keras["calibration"]["ece"]) <= 0.05


def test_num_classes_must_match():
    probabilities, labels, _ = _toy()
    with pytest.raises(ValueError, match=r"num_classes=10 but probabilities for 4 classes"):
        error_analysis(probabilities, labels, num_classes=10)


def test_images_checked_before_any_file(tmp_path):
    probabilities, labels, _ = _toy()
    with pytest.raises(ValueError, match=r"error_analysis: expected one image per row"):
        error_analysis(
            probabilities, labels, num_classes=4, images=np.zeros((3, 6, 6)), out_dir=tmp_path
        )
    assert not list(tmp_path.iterdir())
