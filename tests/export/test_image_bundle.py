"""Image bundles: camera bytes in, int8 inside, labels packed, loaded by MediaPipe Tasks."""

import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.export import (
    LiteRTEvaluator,
    build_image_bundle,
    bundle_image_classifier,
    find_float_parts,
    read_model_metadata,
    strip_tensor_names,
)

pytest.importorskip("mediapipe", reason="bundles carry metadata built with mediapipe==1.2.3")

NAMES = [f"digit {i}" for i in range(10)]


@pytest.fixture(scope="module")
def bundle(trained_digits_model, digits):
    return build_image_bundle(
        trained_digits_model, digits.x_train, class_names=NAMES, name="digits", seed=0
    )


def test_the_bundle_takes_camera_bytes_and_is_int8_inside(bundle):
    evaluator = LiteRTEvaluator(bundle.content)
    assert evaluator.input_details["dtype"] == np.uint8
    assert tuple(evaluator.input_details["shape"]) == (1, 8, 8, 3)
    # Calibration is pinned to 0-255: every byte a camera gives is represented exactly.
    assert evaluator.input_details["quantization"] == (1.0, 0)
    assert evaluator.output_details["dtype"] == np.float32
    assert find_float_parts(bundle.content, allow_float_io=True) == []


def test_the_bundle_scores_like_the_plain_int8_file(bundle, digits, tflite_models):
    plain = LiteRTEvaluator(tflite_models["int8"]).evaluate(digits.x_test, digits.y_test)
    pixels = bundle.camera_pixels(digits.x_test)
    bundled = LiteRTEvaluator(bundle.content).evaluate(pixels, digits.y_test)
    assert abs(bundled["accuracy"] - plain["accuracy"]) <= 0.01
    # A fixed cost over the file `kerasopt run` writes (names stripped in both): the
    # CameraInput ops and their tensors, the metadata, the zip (about 3 KB; 2.5 % of the
    # 115 KB digits model of `kerasopt run digits`).
    labels = len("".join(f"{n}\n" for n in NAMES))
    written = strip_tensor_names(tflite_models["int8"])
    assert 0 < len(bundle.content) - len(written) - labels <= 4096


def test_metadata_names_the_classes(bundle):
    metadata = read_model_metadata(bundle.content)
    assert metadata["name"] == "digits" and metadata["packed_files"] == ["labels.txt"]
    assert "gray" in metadata["inputs"][0]["description"]
    assert metadata["inputs"][0]["range"] == [0.0, 255.0]


def test_mediapipe_image_classifier_agrees_with_litert(trained_digits_model, digits, tmp_path):
    check = bundle_image_classifier(
        trained_digits_model, digits, tmp_path, class_names=NAMES, int8_bytes=10_000
    )
    assert (tmp_path / "labels.txt").read_text() == "".join(f"{n}\n" for n in NAMES)
    assert (tmp_path / "model.tflite").stat().st_size == check.bytes
    assert check.mediapipe_skipped is None
    assert abs(check.mediapipe["accuracy"] - check.litert["accuracy"]) <= 0.003
    assert check.mediapipe["agreement"] >= 0.99 and check.litert["accuracy"] > 0.8
    assert check.class_names == tuple(NAMES) and check.mediapipe["class_names_shown"]
    assert "MediaPipe" in check.summary() and check.size_ratio > 1


def test_a_color_model_is_bundled_without_gray_conversion(rng):
    import keras

    from kerasopt.export.mediapipe_client import classify_images

    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    x = rng.uniform(0, 1, size=(40, 6, 6, 3)).astype("float32")
    bundle = build_image_bundle(model, x, class_names=["r", "g", "b"])
    metadata = read_model_metadata(bundle.content)
    assert "gray" not in metadata["inputs"][0]["description"]
    result = classify_images(bundle.content, bundle.camera_pixels(x[:8]))
    litert = LiteRTEvaluator(bundle.content).predict(bundle.camera_pixels(x[:8]))
    assert result.category_names == ("r", "g", "b")
    np.testing.assert_allclose(result.probabilities, litert, atol=0.02)


def test_wrong_class_names_and_non_image_models_are_refused(trained_digits_model, digits):
    with pytest.raises(InvalidValueError, match="3 class names for a model with 10 outputs"):
        build_image_bundle(trained_digits_model, digits.x_train, class_names=["a", "b", "c"])
    import keras

    features = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(InvalidValueError, match=r"Received: input shape \(64,\)"):
        build_image_bundle(features, digits.x_train.reshape(-1, 64))


def test_mediapipe_refuses_the_plain_int8_file_and_the_check_says_so(tflite_models, digits):
    # The first report: ImageClassifier refuses `(1, 8, 8)` int8 input. The check
    # records MediaPipe's own words instead of failing the run.
    from kerasopt.export import check_bundle

    x = digits.x_test[:5]
    check = check_bundle(
        tflite_models["int8"],
        kind="image",
        tensor_inputs=x,
        client_inputs=np.repeat(x[..., None], 3, axis=-1).astype("uint8"),
        y=digits.y_test[:5],
        class_names=NAMES,
        files_bytes=0,
    )
    assert check.mediapipe is None
    assert check.mediapipe_skipped.startswith("MediaPipe refused the bundle: ")
    assert "MediaPipe not run: MediaPipe refused" in check.summary()


def test_the_bundle_converts_without_a_savedmodel_and_matches_that_route(
    trained_digits_model, digits, bundle, monkeypatch
):
    import importlib

    import keras

    converter = importlib.import_module("kerasopt.export.tflite_converter")
    # The SavedModel route, forced: the frozen route must compute the same outputs.
    monkeypatch.setattr(converter, "frozen_graph_converter", lambda model, spec: None)
    reference = build_image_bundle(
        trained_digits_model, digits.x_train, class_names=NAMES, name="digits", seed=0
    )
    monkeypatch.undo()

    def refuse(*args, **kwargs):
        raise AssertionError("the bundle wrote a SavedModel")

    monkeypatch.setattr(keras.export.ExportArchive, "write_out", refuse)
    frozen = build_image_bundle(
        trained_digits_model, digits.x_train, class_names=NAMES, name="digits", seed=0
    )
    frames = bundle.camera_pixels(digits.x_test[:64])
    ours, theirs = LiteRTEvaluator(frozen.content), LiteRTEvaluator(reference.content)
    assert ours.input_details["quantization"] == theirs.input_details["quantization"]
    np.testing.assert_array_equal(ours.predict(frames), theirs.predict(frames))
    assert ours._interpreter().get_signature_list() == (theirs._interpreter().get_signature_list())
