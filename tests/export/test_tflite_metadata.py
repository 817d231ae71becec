"""TFLite metadata: built with mediapipe's schema, attached, read back, files packed."""

import sys

import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError, MissingDependencyError
from kerasopt.export import (
    AssociatedFile,
    LiteRTEvaluator,
    ModelDescription,
    TensorDescription,
    attach_metadata,
    read_associated_file,
    read_model_metadata,
)

pytest.importorskip("mediapipe", reason="the metadata schema ships with mediapipe==1.2.3")

LABELS = AssociatedFile("labels.txt", b"cat\ndog\n", "The class names.")


def _description(files=(LABELS,), pattern=None, name="pets"):
    return ModelDescription(
        name=name,
        description="Cats and dogs.",
        inputs=(
            TensorDescription(
                "ids" if pattern else "image",
                "The input.",
                "feature" if pattern else "image",
                value_range=(0, 255),
                files=files if pattern else (),
                delimiter_pattern=pattern,
            ),
        ),
        outputs=(TensorDescription("probability", "Scores.", files=() if pattern else files),),
        version="3",
        author="tests",
        license="MIT",
    )


@pytest.fixture(scope="module")
def float_model():
    import keras

    from kerasopt.export import convert_to_tflite

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, activation="softmax")], name="pets"
    )
    return convert_to_tflite(model)


def test_metadata_reads_back_with_its_labels_packed(float_model):
    bundle = attach_metadata(float_model, _description())
    metadata = read_model_metadata(bundle)
    assert (metadata["name"], metadata["version"], metadata["author"]) == ("pets", "3", "tests")
    assert metadata["license"] == "MIT" and metadata["min_parser_version"] == "1.0.0"
    assert metadata["inputs"][0]["range"] == [0.0, 255.0]
    assert metadata["outputs"][0]["files"][0]["name"] == "labels.txt"
    assert metadata["packed_files"] == ["labels.txt"]
    assert read_associated_file(bundle, "labels.txt") == b"cat\ndog\n"
    with pytest.raises(InvalidValueError, match=r"packs no file 'vocab.txt'; it packs \['labels"):
        read_associated_file(bundle, "vocab.txt")


def test_the_interpreter_runs_the_bundle_as_it_ran_the_model(float_model):
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    bundle = attach_metadata(float_model, _description())
    before = LiteRTEvaluator(float_model).predict(x)
    np.testing.assert_array_equal(LiteRTEvaluator(bundle).predict(x), before)
    assert read_model_metadata(float_model) is None


def test_attaching_again_replaces_metadata_and_files(float_model):
    other = AssociatedFile("names.txt", b"a\nb\n", "Other names.")
    twice = attach_metadata(attach_metadata(float_model, _description()), _description((other,)))
    metadata = read_model_metadata(twice)
    assert metadata["packed_files"] == ["names.txt"]
    assert metadata["outputs"][0]["files"][0]["name"] == "names.txt"
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(twice, 0)
    names = [model.Metadata(i).Name() for i in range(model.MetadataLength())]
    assert names.count(b"TFLITE_METADATA") == 1


def test_a_regex_tokenizer_needs_parser_1_2_1(float_model):
    vocab = AssociatedFile("vocab.txt", b"<PAD> 0\n<START> 1\n<UNKNOWN> 2\n", "Ids.", "vocabulary")
    description = _description((vocab,), pattern=r"[^\w\']+")
    assert description.min_parser_version() == "1.2.1"
    metadata = read_model_metadata(attach_metadata(float_model, description))
    assert metadata["inputs"][0]["process_units"] == [{"regex_tokenizer": r"[^\w\']+"}]
    assert metadata["inputs"][0]["files"][0]["name"] == "vocab.txt"
    assert metadata["min_parser_version"] == "1.2.1"


def test_duplicate_file_names_and_unknown_kinds_are_refused(float_model):
    with pytest.raises(InvalidValueError, match="kind must be one of"):
        AssociatedFile("x.txt", b"", "x", kind="weights")
    clash = _description()
    clash = ModelDescription("pets", "", inputs=clash.outputs, outputs=clash.outputs, version="1")
    with pytest.raises(InvalidValueError, match="file names must be unique"):
        attach_metadata(float_model, clash)


def test_without_mediapipe_the_error_names_the_install(float_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe.tasks.metadata.metadata_schema_py_generated", None)
    with pytest.raises(MissingDependencyError, match=r"pip install mediapipe==1\.2\.3"):
        attach_metadata(float_model, _description())
    assert read_model_metadata(float_model) is None
