"""Text bundles: raw text into MediaPipe's TextClassifier, the same ids as TextVectorization."""

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.export import (
    LiteRTEvaluator,
    find_float_parts,
    inspect_tflite,
    read_model_metadata,
)
from kerasopt.export.mediapipe_client import classify_texts
from kerasopt.text.bigram_lookup import BigramLookup, append_bigram_ids, bigram_table
from kerasopt.text.mediapipe_tokenizer import (
    DELIMITER_PATTERN,
    split_like_mediapipe,
    surface_vocabulary,
    tokenizer_agreement,
)
from kerasopt.text.text_bundle import build_text_bundle, text_bundle_limit
from kerasopt.text.text_bundle_check import bundle_text_classifier, check_text_bundle
from kerasopt.text.tokenizer import split_whitespace, standardize_text

pytest.importorskip("mediapipe", reason="text bundles are checked with mediapipe==1.2.3")

LENGTH = 64
NGRAM_LENGTH = 2 * LENGTH  # unigrams then bigrams, as the imdb scenario's tfidf model
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


@pytest.fixture(scope="module")
def bigram_vectorizer(corpus):
    from kerasopt.text.vectorizer import build_vectorizer

    texts = corpus.texts.texts_train
    return build_vectorizer(texts, max_tokens=3000, sequence_length=NGRAM_LENGTH, ngrams=2)


@pytest.fixture(scope="module")
def tfidf_bundle(corpus, bigram_vectorizer):
    """A uni+bigram TF-IDF model and its bundle, `mode` left to `export_text_model`."""
    from kerasopt.text.text_models import build_text_model
    from kerasopt.text.tokenized_text import idf_from_ids

    texts = corpus.texts.texts_train
    ids = np.asarray(bigram_vectorizer(texts))
    size = bigram_vectorizer.vocabulary_size()
    keras.utils.set_random_seed(0)
    idf = idf_from_ids(ids, size)
    model = build_text_model("tfidf", size, NGRAM_LENGTH, embedding_dim=8, units=8, idf_weights=idf)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(ids, corpus.ids.y_train, epochs=3, batch_size=32, verbose=0)
    return build_text_bundle(model, bigram_vectorizer, texts, ids, name="reviews tfidf")


@pytest.fixture(scope="module")
def bigram_graph(bigram_vectorizer):
    """The `.tflite` of `BigramLookup` alone, on the vectorizer's bigram table."""
    import tensorflow as tf

    from kerasopt.export.tflite_converter import savedmodel_converter

    bigrams, _ = bigram_table(bigram_vectorizer.get_vocabulary())
    lookup = BigramLookup(
        bigram_vectorizer.vocabulary_size(), [(*pair, i) for pair, i in bigrams.items()]
    )
    ids = keras.Input((NGRAM_LENGTH,), dtype="int32")
    spec = tf.TensorSpec((None, NGRAM_LENGTH), tf.int32)
    with savedmodel_converter(keras.Model(ids, lookup(ids)), spec) as converter:
        return converter.convert()


def _vectorizer_unigram_ids(vectorizer, texts, length):
    """The unigram ids of TextVectorization's own tokens, padded: a perfect tokenizer."""
    words = {str(w): i for i, w in enumerate(vectorizer.get_vocabulary()) if " " not in str(w)}
    rows = np.zeros((len(texts), length), "int32")
    for row, text in zip(rows, texts, strict=True):
        ids = [words.get(t, 1) for t in split_whitespace(standardize_text(text))][:length]
        row[: len(ids)] = ids
    return rows


def test_the_graph_appends_the_bigram_ids_textvectorization_gives(
    corpus, bigram_vectorizer, bigram_graph
):
    test = list(corpus.texts.texts_test)
    # Joined reviews pass the length: cut inside their bigrams (2), or unigrams only (4).
    joined = [" ".join(test[i : i + width]) for width in (2, 4) for i in range(0, 40, width)]
    texts = [*test, *joined, "one", ""]
    bigrams, lost = bigram_table(bigram_vectorizer.get_vocabulary())
    assert lost == 0 and len(bigrams) > 500  # no vocabulary bigram has an OOV word here
    ops = {use.op for use in inspect_tflite(bigram_graph).ops}
    assert {"GATHER", "EQUAL", "FLOOR_MOD", "SELECT_V2"} <= ops
    assert find_float_parts(bigram_graph) == []  # int32 builtins (the converter refuses Flex)
    expected = np.asarray(bigram_vectorizer(texts))
    full = expected[:, -1] != 0
    assert full.sum() >= 20 and (expected[full] == 1).mean() < 0.5  # truncated, not [UNK]
    unigrams = _vectorizer_unigram_ids(bigram_vectorizer, texts, NGRAM_LENGTH)
    graph = LiteRTEvaluator(bigram_graph).predict(unigrams)
    np.testing.assert_array_equal(graph, expected)  # exact, given TextVectorization's unigrams
    np.testing.assert_array_equal(append_bigram_ids(unigrams, bigrams), expected)


def test_the_ngram_bundle_feeds_the_model_textvectorization_ids(
    tfidf_bundle, corpus, bigram_vectorizer, bigram_graph
):
    texts = corpus.texts.texts_test
    expected = np.asarray(bigram_vectorizer(texts))
    # MediaPipe's unigram ids (surface forms it lacks read <UNKNOWN>) through the graph.
    graph = LiteRTEvaluator(bigram_graph).predict(tfidf_bundle.encode(texts))
    rows = np.mean(np.all(graph == expected, axis=1))
    assert rows > 0.9
    np.testing.assert_array_equal(tfidf_bundle.model_ids(texts), graph)
    agreement = tokenizer_agreement(tfidf_bundle.model_tokenizer, texts, bigram_vectorizer)
    assert agreement.reviews == pytest.approx(rows) and agreement.tokens > 0.95
    assert tokenizer_agreement(tfidf_bundle, texts, expected).reviews < 0.5  # unigrams only


def test_mediapipe_scores_the_ngram_bundle_as_litert(tfidf_bundle, corpus):
    check = check_text_bundle(tfidf_bundle, corpus.texts.texts_test, corpus.texts.y_test)
    assert check.litert["accuracy"] > 0.7
    assert abs(check.mediapipe["accuracy"] - check.litert["accuracy"]) <= 0.01
    evaluator = LiteRTEvaluator(tfidf_bundle.content)
    assert evaluator.input_details["dtype"] == np.int32
    assert tuple(evaluator.input_details["shape"]) == (1, NGRAM_LENGTH)
    assert tfidf_bundle.mode == "int8" and tfidf_bundle.sequence_length == NGRAM_LENGTH
    assert find_float_parts(tfidf_bundle.content, allow_float_io=True) == []
    assert inspect_tflite(tfidf_bundle.content).flex_ops == ()
    # vocab.txt lists unigram surface forms only: the graph finds the bigrams.
    lines = tfidf_bundle.vocabulary_file.decode().splitlines()
    assert not any(" " in line.rsplit(" ", 1)[0] for line in lines)


def test_bigram_lookup_round_trips_through_config_and_keras_file(tmp_path):
    layer = BigramLookup(6, [(2, 3, 4), (3, 2, 5)], name="bigram_lookup")
    config = layer.get_config()
    assert BigramLookup.from_config(config).get_config() == config
    assert keras.saving.serialize_keras_object(layer)["registered_name"] == "kerasopt>BigramLookup"
    ids = keras.Input((5,), dtype="int32")
    model = keras.Model(ids, layer(ids))
    model.save(tmp_path / "lookup.keras")
    loaded = keras.saving.load_model(tmp_path / "lookup.keras", safe_mode=True)
    rows = np.array([[2, 3, 2, 0, 0], [3, 3, 0, 0, 0], [0, 0, 0, 0, 0]], "int32")
    expected = [[2, 3, 2, 4, 5], [3, 3, 1, 0, 0], [0, 0, 0, 0, 0]]
    assert loaded.predict(rows, verbose=0).tolist() == expected
    assert append_bigram_ids(rows, {(2, 3): 4, (3, 2): 5}).tolist() == expected


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: BigramLookup(50_000), r"vocab_size.*46340.*Keep max_tokens <= 46340"),
        (lambda: BigramLookup(6, [(2, 9, 4)]), r"ids in \[2, 6\).*Received: ids from 2 to 9"),
        (lambda: BigramLookup(6, [(2, 3, 1)]), r"ids in \[2, 6\).*Received: ids from 1 to 3"),
    ],
    ids=["vocab-too-large", "id-out-of-range", "oov-id"],
)
def test_bigram_lookup_errors_name_the_value(make, match):
    with pytest.raises(InvalidValueError, match=match):
        make()


def test_only_unigram_and_bigram_ids_are_bundled(corpus):
    from kerasopt.text.text_models import build_text_model
    from kerasopt.text.vectorizer import build_vectorizer

    texts = corpus.texts.texts_train[:100]
    vectorizer = build_vectorizer(texts, max_tokens=500, sequence_length=LENGTH, ngrams=3)
    model = build_text_model("tfidf", 500, LENGTH, embedding_dim=4, units=4)
    ids = np.asarray(vectorizer(texts))
    with pytest.raises(InvalidValueError, match=r"widths \(1, 2, 3\).*ngrams=2"):
        build_text_bundle(model, vectorizer, texts, ids)
    assert text_bundle_limit(["", "[UNK]", "a", "b", "a b"]) is None
    assert "widths (1, 2, 3)" in text_bundle_limit(["", "[UNK]", "a", "a a a"])
    huge = ["", "[UNK]", *(f"w{i}" for i in range(46_339)), "w2 w3"]
    assert "max_tokens <= 46340" in text_bundle_limit(huge)


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
