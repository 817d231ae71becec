"""Text bundles: raw text into MediaPipe's TextClassifier, the same ids as TextVectorization."""

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.export import LiteRTEvaluator, find_float_parts, read_model_metadata
from kerasopt.export.mediapipe_client import classify_texts
from kerasopt.text.mediapipe_tokenizer import (
    DELIMITER_PATTERN,
    split_like_mediapipe,
    surface_vocabulary,
    tokenizer_agreement,
)
from kerasopt.text.text_bundle import build_text_bundle, bundle_text_classifier, check_text_bundle
from kerasopt.text.tokenizer import split_whitespace, standardize_text

pytest.importorskip("mediapipe", reason="text bundles are checked with mediapipe==1.2.3")

LENGTH = 64
# Texts where a naive split (on punctuation, or on whitespace only) would differ from
# TextVectorization: apostrophes, ratings, tags, edge punctuation, case, line breaks.
TRICKY = [
    "Don't miss it!<br /><br />10/10.",
    "GREAT great Great",
    "<<i>bad</i>>, truly (very) dull...",
    "x\u2028good\x85film",
    "a <b class='x y'>plot</b> twist",
    "<3 loved it -- not boring",
    "",
    "!!!",
    "The plot? EXCELLENT!!! 😀",
    "SPOILERS AHEAD - ÉPOUSTOUFLANT or not",
    "ends with a newline\n",
]


@pytest.fixture(scope="module")
def corpus():
    from kerasopt.text import generate_reviews
    from kerasopt.text.text_splits import carve_text_validation
    from kerasopt.text.tokenized_text import tokenize_text_splits

    texts, labels = generate_reviews(700, seed=0)
    splits = carve_text_validation(
        "tiny", texts[:500], labels[:500], texts[500:], labels[500:], split={}
    )
    return tokenize_text_splits(splits, max_tokens=2000, sequence_length=LENGTH)


@pytest.fixture(scope="module")
def model(corpus):
    from kerasopt.text.text_models import build_text_model

    keras.utils.set_random_seed(0)
    model = build_text_model("bow", corpus.vocab_size, LENGTH, embedding_dim=16, units=16)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(corpus.ids.x_train, corpus.ids.y_train, epochs=2, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def bundle(model, corpus):
    return build_text_bundle(
        model, corpus.vectorizer, corpus.texts.texts_train, corpus.ids.x_train, name="reviews"
    )


def test_mediapipe_scores_raw_text_as_litert_scores_the_ids(bundle, corpus):
    check = check_text_bundle(bundle, corpus.texts.texts_test, corpus.texts.y_test)
    assert check.litert["accuracy"] > 0.7  # the model learned the synthetic sentiment
    assert abs(check.mediapipe["accuracy"] - check.litert["accuracy"]) <= 0.01
    assert check.mediapipe["agreement"] >= 0.99
    assert check.class_names == ("negative", "positive")
    assert check.files_bytes == len(bundle.vocabulary_file) + len("negative\npositive\n")


def test_the_python_tokenizer_is_the_one_mediapipe_runs(bundle):
    # Equal scores on texts built to split differently show that the Python mirror, and
    # Python's `re` on the pattern, tokenize as MediaPipe's C++ and RE2 do.
    litert = LiteRTEvaluator(bundle.content).predict(bundle.encode(TRICKY))
    mediapipe = classify_texts(bundle.content, TRICKY).probabilities
    np.testing.assert_allclose(mediapipe, litert, atol=1e-6)


def test_int32_ids_in_float_probabilities_out_int8_inside(bundle):
    evaluator = LiteRTEvaluator(bundle.content)
    assert evaluator.input_details["dtype"] == np.int32
    assert tuple(evaluator.input_details["shape"]) == (1, LENGTH)
    assert evaluator.output_details["dtype"] == np.float32
    assert bundle.mode == "int8"
    assert find_float_parts(bundle.content, allow_float_io=True) == []


def test_metadata_carries_the_regex_tokenizer_vocabulary_and_labels(bundle):
    metadata = read_model_metadata(bundle.content)
    assert metadata["name"] == "reviews"
    assert sorted(metadata["packed_files"]) == ["labels.txt", "vocab.txt"]
    assert metadata["inputs"][0]["process_units"] == [{"regex_tokenizer": DELIMITER_PATTERN}]
    assert metadata["inputs"][0]["files"][0]["name"] == "vocab.txt"


def test_case_variants_and_surface_forms_share_the_word_id(bundle, corpus):
    great = corpus.vectorizer.get_vocabulary().index("great")
    ids = bundle.surface_ids
    assert ids["great"] == ids["Great"] == ids["GREAT"] == great
    assert ids["<PAD>"] == 0 and ids["<UNKNOWN>"] == 1
    table = surface_vocabulary(
        ["", "[UNK]", "dont", "1010"], ["Don't! don't 10/10", "10/10 Don't don't"]
    )
    assert table["Don't"] == table["don't"] == table["DONT"] == 2
    assert table["10/10"] == 3
    assert "Don't" not in surface_vocabulary(["", "[UNK]", "dont"], ["Don't"], min_count=2)


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_split_tokens_standardize_to_the_vectorizer_tokens(text):
    tokens = [standardize_text(token) for token in split_like_mediapipe(text)]
    assert tokens == split_whitespace(standardize_text(text))


def test_tokenizer_agreement_on_generated_reviews(bundle, corpus):
    texts = corpus.texts.texts_test
    agreement = tokenizer_agreement(bundle, texts, corpus.ids.x_test)
    assert agreement.reviews > 0.9 and agreement.tokens > 0.9
    assert agreement.num_reviews == len(texts) and agreement.num_tokens > len(texts)
    assert tokenizer_agreement(bundle, texts, corpus.vectorizer) == agreement


def test_writes_model_labels_and_vocabulary(model, corpus, tmp_path):
    check = bundle_text_classifier(model, corpus, tmp_path, mode="int8", int8_bytes=10_000)
    assert {p.name for p in tmp_path.iterdir()} == {"model.tflite", "labels.txt", "vocab.txt"}
    assert (tmp_path / "model.tflite").stat().st_size == check.bytes
    assert (tmp_path / "labels.txt").read_text() == "negative\npositive\n"
    assert (tmp_path / "vocab.txt").read_text().startswith("<PAD> 0\n<UNKNOWN> 1\n")
    assert check.int8_bytes == 10_000 and check.mediapipe is not None


def test_ngram_models_are_refused_unless_unigrams_only(corpus):
    from kerasopt.text.text_models import build_text_model
    from kerasopt.text.vectorizer import build_vectorizer

    texts = corpus.texts.texts_train
    vectorizer = build_vectorizer(texts, max_tokens=3000, sequence_length=2 * LENGTH, ngrams=2)
    ids = np.asarray(vectorizer(texts))
    tfidf = build_text_model("tfidf", 3000, 2 * LENGTH, embedding_dim=8, units=8)
    with pytest.raises(InvalidValueError, match=r"ngrams=2.*unigrams only.*'bow', 'cnn'"):
        build_text_bundle(tfidf, vectorizer, texts, ids)
    bundle = build_text_bundle(tfidf, vectorizer, texts, ids, unigrams_only=True, mode="int8")
    assert bundle.unigrams_only and bundle.sequence_length == 2 * LENGTH
    assert not any(" " in line.split(" ")[0] for line in bundle.vocabulary_file.decode().split())
    # Honest: the bundle feeds unigram ids where the model was trained on uni+bigrams.
    test = corpus.texts.texts_test[:50]
    assert tokenizer_agreement(bundle, test, vectorizer).reviews < 0.5


def test_errors_name_the_fix(bundle, model, corpus):
    texts, ids = corpus.texts.texts_train, corpus.ids.x_train
    with pytest.raises(InvalidValueError, match=r"mode must be None, 'int8' or 'dynamic'"):
        build_text_bundle(model, corpus.vectorizer, texts, ids, mode="int4")
    with pytest.raises(InvalidValueError, match=r"3 class names for a model with 2 outputs"):
        build_text_bundle(model, corpus.vectorizer, texts, ids, class_names=["a", "b", "c"])
    images = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(InvalidValueError, match=r"one int32 input .*keras.Input"):
        build_text_bundle(images, corpus.vectorizer, texts, ids)
    with pytest.raises(InvalidValueError, match=r"reference ids must have shape \(2, 64\)"):
        tokenizer_agreement(bundle, ["a", "b"], ids[:3])


def test_a_recurrent_model_is_refused_as_mediapipe_would(corpus):
    # An LSTM converts to a WHILE loop in extra subgraphs; MediaPipe's classifiers refuse
    # such a file ("assumed to have a single subgraph"), so the bundle refuses it first.
    from kerasopt.text.text_models import build_text_model

    vocab = len(corpus.vectorizer.get_vocabulary())
    bilstm = build_text_model("bilstm", vocab, LENGTH, embedding_dim=4, units=4)
    texts, ids = corpus.texts.texts_train, corpus.ids.x_train
    with pytest.raises(InvalidValueError, match=r"one subgraph; this one converts to \d+"):
        build_text_bundle(bilstm, corpus.vectorizer, texts, ids, mode="dynamic")
