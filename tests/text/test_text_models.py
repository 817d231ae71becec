import keras
import numpy as np
import pytest
from text_model_cases import SEQUENCE_LENGTH, TINY, VOCAB_SIZE, random_token_ids

from kerasopt.text.text_models import (
    TEXT_MODEL_FAMILIES,
    MaskedAveragePooling1D,
    TokenAndPositionEmbedding,
    TokenTfIdf,
    build_text_model,
)


def _tiny(family, **kwargs):
    return build_text_model(family, VOCAB_SIZE, SEQUENCE_LENGTH, **{**TINY, **kwargs})


@pytest.mark.parametrize("family", TEXT_MODEL_FAMILIES, ids=TEXT_MODEL_FAMILIES)
def test_every_family_maps_token_ids_to_probabilities(family):
    model = _tiny(family, num_classes=3)
    assert model.name == f"text_{family}"
    assert model.inputs[0].dtype == "int32"
    assert model.inputs[0].shape == (None, SEQUENCE_LENGTH)
    probabilities = model(random_token_ids(4), training=False).numpy()
    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("l2, expected", [(1e-4, True), (0.0, False)], ids=["l2", "no-l2"])
def test_l2_is_set_on_kernels_only(l2, expected):
    model = _tiny("cnn", l2=l2)
    for name in ("conv", "hidden", "probabilities"):
        assert (model.get_layer(name).kernel_regularizer is not None) is expected
    assert model.get_layer("embedding").embeddings_regularizer is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"family": "rnn"}, r"Unknown text model family 'rnn'\. Expected one of: bow, tfidf"),
        (
            {"vocab_size": 2},
            r"build_text_model: expected vocab_size to be an integer >= 3\. "
            r"Received: vocab_size=2\. 0 is",
        ),
        (
            {"vocab_size": 200.0},
            r"expected vocab_size to be an integer\. Received: vocab_size=200\.0",
        ),
        (
            {"sequence_length": 0},
            r"sequence_length to be an integer >= 1\. Received: sequence_length=0",
        ),
        ({"num_classes": 1}, r"num_classes to be an integer >= 2\. Received: num_classes=1"),
        ({"units": 0}, r"units to be an integer >= 1\. Received: units=0"),
        ({"dropout": 1.0}, r"expected dropout in \[0, 1\)\. Received: dropout=1\.0"),
        ({"l2": -1.0}, r"expected l2 >= 0\. Received: l2=-1\.0"),
        ({"idf_weights": np.ones(VOCAB_SIZE)}, r"only used by family='tfidf'.*family='bow'"),
    ],
    ids=["family", "vocab", "vocab-float", "length", "classes", "units", "dropout", "l2", "idf"],
)
def test_bad_arguments_name_the_value(kwargs, match):
    args = {"family": "bow", "vocab_size": VOCAB_SIZE, "sequence_length": SEQUENCE_LENGTH}
    args.update(kwargs)
    family, vocab_size, sequence_length = (
        args.pop("family"),
        args.pop("vocab_size"),
        args.pop("sequence_length"),
    )
    with pytest.raises(ValueError, match=match):
        build_text_model(family, vocab_size, sequence_length, **args)


def test_bow_average_ignores_padding():
    model = _tiny("bow")
    embeddings = model.get_layer("embedding").embeddings.numpy()
    pooled = keras.Model(model.input, model.get_layer("average").output)
    ids = np.zeros((1, SEQUENCE_LENGTH), "int32")
    ids[0, :3] = [5, 9, 9]
    np.testing.assert_allclose(
        pooled(ids).numpy()[0], embeddings[[5, 9, 9]].mean(axis=0), rtol=1e-5, atol=1e-6
    )


def test_masked_average_of_all_padding_is_zero():
    vectors = np.ones((1, 4, 2), "float32")
    pooled = MaskedAveragePooling1D()([vectors, np.zeros((1, 4), "int32")]).numpy()
    np.testing.assert_array_equal(pooled, [[0.0, 0.0]])


def test_token_tfidf_matches_text_vectorization_tf_idf():
    texts = ["a good good film", "a bad film", "good acting bad plot", "film film film"]
    tf_idf = keras.layers.TextVectorization(output_mode="tf_idf", ngrams=2)
    tf_idf.adapt(texts)
    # TextVectorization keeps adapted idf weights private; kerasopt.text.vectorizer reads
    # them the same way.
    idf = tf_idf._lookup_layer.idf_weights.numpy()
    to_ids = keras.layers.TextVectorization(
        output_mode="int",
        ngrams=2,
        vocabulary=tf_idf.get_vocabulary()[1:],
        output_sequence_length=12,
    )
    vocab_size = len(to_ids.get_vocabulary())
    queries = ["good good film", "bad unseen words film", "film"]
    ours = TokenTfIdf(vocab_size, idf)(to_ids(queries)).numpy()
    # tf_idf index i is int id i + 1 (the int vocabulary adds padding at 0).
    np.testing.assert_allclose(ours[:, 1:], tf_idf(queries).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours[:, 0], 0.0)


def test_token_tfidf_clips_counts_at_max_count():
    out = TokenTfIdf(6, max_count=2)(np.array([[2, 2, 2, 3, 0]])).numpy()
    np.testing.assert_array_equal(out, [[0, 0, 2, 1, 0, 0]])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: TokenTfIdf(10, np.ones(7)), r"expected 10 idf weights .* or 9 .*Received: 7"),
        (
            lambda: TokenTfIdf(1),
            r"TokenTfIdf: expected vocab_size to be an integer >= 2\. Received: vocab_size=1",
        ),
        (
            lambda: TokenTfIdf(10, max_count=0),
            r"TokenTfIdf: expected max_count >= 1\. Received: max_count=0\. Pass None",
        ),
        (
            lambda: TokenTfIdf(10)(keras.Input((None,), dtype="int32")),
            r"fixed sequence length.*input_shape=\(None, None\)",
        ),
        (
            lambda: TokenAndPositionEmbedding(10, 0, 4),
            r"TokenAndPositionEmbedding: expected sequence_length to be an integer >= 1\. "
            r"Received: sequence_length=0",
        ),
    ],
    ids=["idf-length", "vocab", "max-count", "variable-length", "positions"],
)
def test_layer_errors_name_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "layer",
    [
        TokenTfIdf(50, max_count=7, name="tfidf"),
        MaskedAveragePooling1D(name="average"),
        TokenAndPositionEmbedding(50, 16, 4, mask_zero=False, name="embedding"),
    ],
    ids=["tfidf", "average", "position-embedding"],
)
def test_layer_config_round_trips(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == f"kerasopt>{type(layer).__name__}"


@pytest.mark.parametrize("family", ["tfidf", "transformer"], ids=["tfidf", "transformer"])
def test_saved_model_reloads_with_safe_mode(family, tmp_path):
    idf = np.linspace(0.5, 3.0, VOCAB_SIZE).astype("float32") if family == "tfidf" else None
    model = _tiny(family, idf_weights=idf) if idf is not None else _tiny(family)
    ids = random_token_ids(8)
    path = tmp_path / f"{family}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))
    if family == "tfidf":
        np.testing.assert_allclose(loaded.get_layer("tfidf").idf.numpy()[1:], idf[1:])
