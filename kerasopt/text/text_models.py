"""`build_text_model`: five IMDB text classifiers that take TextVectorization token ids.

Every model takes the integer ids `keras.layers.TextVectorization(output_mode="int")`
produces (0 = padding at the end, 1 = out-of-vocabulary, ids < `vocab_size`), so the
app on a phone only needs the tokenizer. The layers the models use, written for the
TFLite int8 quantizer, are in `text_layers.py`.
"""

from __future__ import annotations

import keras

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.suggestions import unknown_name_message
from kerasopt.core.validation import check_int, check_number
from kerasopt.text.text_layers import (
    MaskedAveragePooling1D,
    TokenAndPositionEmbedding,
    TokenTfIdf,
)

__all__ = [
    "TEXT_MODEL_FAMILIES",
    "MaskedAveragePooling1D",
    "TokenAndPositionEmbedding",
    "TokenTfIdf",
    "build_text_model",
]

TEXT_MODEL_FAMILIES = ("bow", "tfidf", "cnn", "bilstm", "transformer")

_CONV_KERNEL_SIZE = 5
_ATTENTION_HEADS = 2


def build_text_model(
    family: str,
    vocab_size: int,
    sequence_length: int,
    *,
    num_classes: int = 2,
    embedding_dim: int = 64,
    units: int = 64,
    dropout: float = 0.5,
    l2: float = 1e-4,
    idf_weights=None,
    name: str | None = None,
):
    """Builds a text classifier of one family on TextVectorization token ids.

    Families (each ends in the same head: Dropout -> Dense(units, ReLU) -> Dropout ->
    Dense(num_classes, softmax)):

    - `"bow"`: Embedding -> average over non-padding tokens.
    - `"tfidf"`: `TokenTfIdf` (bag of uni+bigrams when the vectorizer uses `ngrams=2`).
    - `"cnn"`: Embedding -> Conv1D(units, 5, ReLU) -> GlobalMaxPooling1D.
    - `"bilstm"`: Embedding (padding masked) -> Bidirectional(LSTM(units)).
    - `"transformer"`: `TokenAndPositionEmbedding` -> one encoder block
      (MultiHeadAttention and a ReLU feed-forward of `units`, each with a residual and
      LayerNormalization) -> average over non-padding tokens.

    L2 weight decay is set on every kernel (not on embeddings).

    Args:
        family: One of `TEXT_MODEL_FAMILIES`.
        vocab_size: Size of the int vocabulary, padding (0) and OOV (1) included.
        sequence_length: Length of each id sequence (`output_sequence_length`).
        num_classes: Number of output classes. Defaults to `2`.
        embedding_dim: Size of token embeddings. Defaults to `64`.
        units: Width of the hidden dense layer, conv filters, LSTM units and
            transformer feed-forward. Defaults to `64`.
        dropout: Rate of the two head dropouts. Defaults to `0.5`.
        l2: L2 factor on kernels; 0 disables. Defaults to `1e-4`.
        idf_weights: IDF weights for `"tfidf"` (see `TokenTfIdf`); `None` gives
            plain counts. Defaults to `None`.
        name: Model name; `None` gives `"text_<family>"`. Defaults to `None`.

    Example:

    >>> model = build_text_model("bow", vocab_size=20000, sequence_length=256)
    >>> model.output_shape
    (None, 2)
    """
    _check_arguments(family, vocab_size, sequence_length, num_classes, embedding_dim, units)
    check_number("build_text_model", "dropout", dropout, 0, 1, closed="left", example=0.5)
    check_number("build_text_model", "l2", l2, 0, example=1e-4)
    if idf_weights is not None and family != "tfidf":
        raise InvalidValueError(
            f"idf_weights is only used by family='tfidf'. Received: {family=} with "
            "idf_weights. Drop idf_weights or build the 'tfidf' family."
        )

    layers = keras.layers
    regularizer = keras.regularizers.L2(l2) if l2 else None
    token_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    if family == "bow":
        x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(token_ids)
        x = MaskedAveragePooling1D(name="average")([x, token_ids])
    elif family == "tfidf":
        x = TokenTfIdf(vocab_size, idf_weights, name="tfidf")(token_ids)
    elif family == "cnn":
        x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(token_ids)
        x = layers.Conv1D(
            units,
            min(_CONV_KERNEL_SIZE, sequence_length),
            activation="relu",
            kernel_regularizer=regularizer,
            name="conv",
        )(x)
        x = layers.GlobalMaxPooling1D(name="max_pool")(x)
    elif family == "bilstm":
        x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(token_ids)
        lstm = layers.LSTM(units, kernel_regularizer=regularizer, name="lstm")
        x = layers.Bidirectional(lstm, name="bilstm")(x)
    else:
        x = _transformer_encoder(token_ids, vocab_size, embedding_dim, units, regularizer)

    x = layers.Dropout(dropout, name="dropout_in")(x)
    x = layers.Dense(units, activation="relu", kernel_regularizer=regularizer, name="hidden")(x)
    x = layers.Dropout(dropout, name="dropout_out")(x)
    outputs = layers.Dense(
        num_classes, activation="softmax", kernel_regularizer=regularizer, name="probabilities"
    )(x)
    return keras.Model(token_ids, outputs, name=name or f"text_{family}")


def _transformer_encoder(token_ids, vocab_size, embedding_dim, units, regularizer):
    layers = keras.layers
    sequence_length = token_ids.shape[1]
    x = TokenAndPositionEmbedding(vocab_size, sequence_length, embedding_dim, name="embedding")(
        token_ids
    )
    attended = layers.MultiHeadAttention(
        _ATTENTION_HEADS,
        max(1, embedding_dim // _ATTENTION_HEADS),
        kernel_regularizer=regularizer,
        name="attention",
    )(x, x)
    x = layers.LayerNormalization(name="attention_norm")(
        layers.Add(name="attention_add")([x, attended])
    )
    fed = layers.Dense(units, activation="relu", kernel_regularizer=regularizer, name="ffn_in")(x)
    fed = layers.Dense(embedding_dim, kernel_regularizer=regularizer, name="ffn_out")(fed)
    x = layers.LayerNormalization(name="ffn_norm")(layers.Add(name="ffn_add")([x, fed]))
    return MaskedAveragePooling1D(name="average")([x, token_ids])


def _check_arguments(family, vocab_size, sequence_length, num_classes, embedding_dim, units):
    if family not in TEXT_MODEL_FAMILIES:
        raise InvalidValueError(
            unknown_name_message("text model family", family, TEXT_MODEL_FAMILIES)
        )
    minimums = {
        "vocab_size": (vocab_size, 3, "0 is padding and 1 is OOV, so real tokens start at 2"),
        "sequence_length": (sequence_length, 1, "use TextVectorization output_sequence_length"),
        "num_classes": (num_classes, 2, "a classifier needs two classes or more"),
        "embedding_dim": (embedding_dim, 1, "pick a positive size"),
        "units": (units, 1, "pick a positive size"),
    }
    for arg, (value, minimum, hint) in minimums.items():
        check_int("build_text_model", arg, value, minimum, fix=f"{hint[0].upper()}{hint[1:]}.")
