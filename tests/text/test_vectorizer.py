import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasopt.text.review_corpus import generate_reviews
from kerasopt.text.vectorizer import (
    build_vectorizer,
    save_vocabulary,
    strip_html_lower_punctuation,
)


@pytest.fixture(scope="module")
def texts():
    return generate_reviews(150, seed=0)[0]


#: Tokens Keras' own .keras vocabulary file would mangle without our standardization.
AWKWARD = "x\u2028y a\x85b c\x1cd nul\x00 e\xa0f 😀"


@pytest.fixture(scope="module")
def int_vectorizer(texts):
    return build_vectorizer(texts + [AWKWARD] * 40, max_tokens=200, sequence_length=24, ngrams=2)


def test_standardize_strips_html_lowercases_ascii_and_punctuation():
    out = strip_html_lower_punctuation(
        tf.constant(
            ["GREAT film!<br /><br />Not <i>bad</i>, ÉCOLE's 8/10 😀", "a<b", "n\x00ul\x00"]
        )
    )
    assert [s.decode() for s in out.numpy()] == [
        "great film  not  bad  Écoles 810 😀",
        "ab",
        "nul",
    ]


def test_standardize_is_registered_and_round_trips():
    name = keras.saving.get_registered_name(strip_html_lower_punctuation)
    assert name == "kerasopt>strip_html_lower_punctuation"
    config = keras.saving.serialize_keras_object(strip_html_lower_punctuation)
    assert keras.saving.deserialize_keras_object(config) is strip_html_lower_punctuation


def test_vectorizer_round_trips_through_a_keras_file(int_vectorizer, tmp_path):
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), int_vectorizer])
    model.save(tmp_path / "vectorizer.keras")
    loaded = keras.saving.load_model(tmp_path / "vectorizer.keras")
    sample = np.array([["Not good.<br /><br />BORING!"], [AWKWARD]], dtype=object)
    np.testing.assert_array_equal(loaded(sample), model(sample))
    assert {"x y", "a b", "nul", "e\xa0f"} <= set(int_vectorizer.get_vocabulary())
    restored = loaded.layers[-1]
    assert restored.get_config()["standardize"] is strip_html_lower_punctuation
    assert restored.get_vocabulary() == int_vectorizer.get_vocabulary()


def test_int_vectorizer_shape_and_special_ids(int_vectorizer):
    vocabulary = int_vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"] and len(vocabulary) == 200
    assert any(" " in token for token in vocabulary)  # Bigrams were learned.
    out = int_vectorizer(["good zzzunseen", ""]).numpy()
    assert out.shape == (2, 24)
    assert out[0, 1] == 1 and out[0, 3:].sum() == 0 and out[1].sum() == 0


def test_tf_idf_vectorizer_outputs_one_weight_per_token(texts):
    vectorizer = build_vectorizer(texts, max_tokens=100, output_mode="tf_idf")
    assert vectorizer.get_vocabulary()[0] == "[UNK]"
    assert vectorizer(["good good"]).shape == (1, 100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"output_mode": "count"}, r"output_mode in \['int', 'tf_idf'\]. Received: .*'count'"),
        ({"max_tokens": 2}, r"max_tokens=2"),
        ({"sequence_length": 0}, r"sequence_length=0"),
        ({"ngrams": 0}, r"ngrams=0"),
        ({"ngrams": "2"}, r"ngrams='2'"),
    ],
    ids=["mode", "max_tokens", "sequence_length", "ngrams-zero", "ngrams-str"],
)
def test_build_vectorizer_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_vectorizer(["a good film"], **kwargs)


@pytest.mark.parametrize("bad", [[], [b"bytes"], ["ok", 3]], ids=["empty", "bytes", "int"])
def test_build_vectorizer_wants_str_texts(bad):
    with pytest.raises(ValueError, match="non-empty sequence of str"):
        build_vectorizer(bad)


def test_save_vocabulary_writes_the_vocabulary_and_settings(int_vectorizer, tmp_path):
    config = save_vocabulary(int_vectorizer, tmp_path / "export")
    lines = (tmp_path / "export" / "vocab.txt").read_bytes().decode("utf-8").split("\n")
    assert lines[:-1] == int_vectorizer.get_vocabulary() and lines[-1] == ""
    on_disk = json.loads((tmp_path / "export" / "tokenizer.json").read_text(encoding="utf-8"))
    assert on_disk == config
    assert config == {
        "format": "kerasopt.text.tokenizer/1",
        "standardize": "strip_html_lower_punctuation",
        "split": "whitespace",
        "ngrams": 2,
        "output_mode": "int",
        "max_tokens": 200,
        "sequence_length": 24,
        "vocabulary_size": 200,
    }
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == [
        "tokenizer.json",
        "vocab.txt",
    ]


def test_save_vocabulary_stores_idf_weights(texts, tmp_path):
    vectorizer = build_vectorizer(texts, max_tokens=60, ngrams=(1, 3), output_mode="tf_idf")
    config = save_vocabulary(vectorizer, tmp_path)
    assert config["sequence_length"] is None and config["ngrams"] == [1, 3]
    weights = np.array(config["idf_weights"], dtype="float32")
    np.testing.assert_array_equal(weights, vectorizer._lookup_layer.idf_weights.numpy())
    assert len(weights) == len(vectorizer.get_vocabulary()) == 60


def test_save_vocabulary_refuses_other_standardizations(tmp_path):
    layer = keras.layers.TextVectorization(max_tokens=10)
    layer.adapt(["a b c"])
    with pytest.raises(ValueError, match="standardize='lower_and_strip_punctuation'"):
        save_vocabulary(layer, tmp_path)
