"""`build_text_model`: five IMDB text classifiers that take TextVectorization token ids.

Every model takes the integer ids `keras.layers.TextVectorization(output_mode="int")`
produces (0 = padding at the end, 1 = out-of-vocabulary, ids < `vocab_size`), so the
app on a phone only needs the tokenizer. The three registered layers here are written
with ops that the TFLite int8 quantizer handles: padding masks and term counts reach
float through a `take` from a constant table instead of a `cast`, because a `CAST` to
float stays float in a full-integer model (measured on TF 2.21).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasopt.core.errors import InvalidTypeError, InvalidValueError

TEXT_MODEL_FAMILIES = ("bow", "tfidf", "cnn", "bilstm", "transformer")

_CONV_KERNEL_SIZE = 5
_ATTENTION_HEADS = 2


@keras.saving.register_keras_serializable(package="kerasopt")
class TokenTfIdf(keras.layers.Layer):
    """Turns a sequence of token ids into its TF-IDF vector, inside the model.

    Output `[b, v]` is `count(v in ids[b]) * idf_weights[v]`, with padding (id 0) never
    counted: the vector `TextVectorization(output_mode="tf_idf")` gives, computed from
    the ids of `TextVectorization(output_mode="int")` (with `ngrams=2` for bag of
    bigrams). Counts come from an integer `segment_sum` and reach float through a
    constant table, so the layer converts to full-integer TFLite; `one_hot` was avoided
    because the int8 `ONE_HOT` kernel mis-reads its off value (measured on TF 2.21).

    The idf weights are a non-trainable weight: a saved `.keras` file keeps them, the
    config does not.

    Args:
        vocab_size: Size of the int vocabulary, padding and OOV included.
        idf_weights: Inverse document frequencies, either `vocab_size` values indexed by
            token id (entry 0, padding, is ignored) or `vocab_size - 1` values in the
            order of an adapted `TextVectorization(output_mode="tf_idf")` (its
            vocabulary has no padding entry). `None` gives ones (plain counts).
            Defaults to `None`.
        max_count: Counts above it are clipped; `None` uses the sequence length (exact
            counts). A small cap (e.g. 32) halves the int8 error on long reviews.
            Defaults to `None`.

    Example:

    >>> layer = TokenTfIdf(vocab_size=6)
    >>> layer(np.array([[2, 3, 2, 0]])).numpy().tolist()
    [[0.0, 0.0, 2.0, 1.0, 0.0, 0.0]]
    """

    def __init__(self, vocab_size, idf_weights=None, max_count=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
            raise InvalidTypeError(f"TokenTfIdf needs an int vocab_size. Received: {vocab_size=}.")
        if vocab_size < 2:
            raise InvalidValueError(f"TokenTfIdf needs vocab_size >= 2. Received: {vocab_size=}.")
        if max_count is not None and max_count < 1:
            raise InvalidValueError(
                f"TokenTfIdf needs max_count >= 1 or None. Received: {max_count=}."
            )
        self.vocab_size = int(vocab_size)
        self.max_count = None if max_count is None else int(max_count)
        self._initial_idf = _idf_by_token_id(idf_weights, self.vocab_size)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise InvalidValueError(
                "TokenTfIdf needs a fixed sequence length (it sizes its count table). "
                f"Received: input_shape={tuple(input_shape)}. Set output_sequence_length on "
                "the TextVectorization layer and keras.Input(shape=(sequence_length,))."
            )
        self._count_cap = self.max_count or int(input_shape[-1])
        self.idf = self.add_weight(
            name="idf",
            shape=(self.vocab_size,),
            initializer=keras.initializers.Constant(self._initial_idf),
            trainable=False,
        )

    def call(self, token_ids):
        ids = ops.cast(token_ids, "int32")
        batch = ops.shape(ids)[0]
        rows = ops.expand_dims(ops.arange(batch, dtype="int32"), 1) * self.vocab_size
        counts = ops.segment_sum(
            ops.reshape(ops.ones_like(ids), (-1,)),
            ops.reshape(ids + rows, (-1,)),
            num_segments=batch * self.vocab_size,
        )
        counts = ops.minimum(ops.reshape(counts, (-1, self.vocab_size)), self._count_cap)
        count_values = ops.arange(self._count_cap + 1, dtype=self.compute_dtype)
        idf = ops.cast(self.idf, self.compute_dtype)
        return ops.take(count_values, counts) * idf

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocab_size)

    def get_config(self):
        config = super().get_config()
        config.update({"vocab_size": self.vocab_size, "max_count": self.max_count})
        return config


def _idf_by_token_id(idf_weights, vocab_size: int) -> np.ndarray:
    if idf_weights is None:
        idf = np.ones(vocab_size, dtype="float32")
    else:
        idf = np.asarray(idf_weights, dtype="float32").reshape(-1)
        if idf.shape[0] == vocab_size - 1:
            idf = np.concatenate([[0.0], idf]).astype("float32")
        elif idf.shape[0] != vocab_size:
            raise InvalidValueError(
                f"TokenTfIdf expected {vocab_size} idf weights (one per token id) or "
                f"{vocab_size - 1} (TextVectorization tf_idf order, no padding entry). "
                f"Received: {idf.shape[0]} weights. Pass the idf weights of a vectorizer "
                "adapted with the same vocabulary."
            )
    idf = idf.copy()
    idf[0] = 0.0  # padding never counts
    return idf


@keras.saving.register_keras_serializable(package="kerasopt")
class MaskedAveragePooling1D(keras.layers.Layer):
    """Averages token vectors over the non-padding positions, read from the token ids.

    Called on `[sequence, token_ids]`; padding (id 0) neither adds to the sum nor to
    the count, so a short review is not diluted by its padding. Keras'
    `GlobalAveragePooling1D` with a mask does the same, but `cast`s the mask to float,
    which leaves a float op in a full-integer TFLite model; this layer looks the mask
    up in a constant table instead. An all-padding row averages to zeros.

    Example:

    >>> vectors = np.ones((1, 4, 2), "float32")
    >>> MaskedAveragePooling1D()([vectors, np.array([[5, 7, 0, 0]])]).numpy().tolist()
    [[1.0, 1.0]]
    """

    def call(self, inputs, mask=None):
        # A Keras mask arriving with `sequence` is ignored: the ids say the same thing.
        sequence, token_ids = inputs
        is_token = ops.minimum(ops.cast(token_ids, "int32"), 1)
        keep = ops.take(ops.convert_to_tensor([0.0, 1.0], dtype=self.compute_dtype), is_token)
        total = ops.sum(sequence * ops.expand_dims(keep, -1), axis=1)
        count = ops.sum(keep, axis=1, keepdims=True)
        return total / ops.maximum(count, 1.0)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        sequence_shape = input_shape[0]
        return (sequence_shape[0], sequence_shape[-1])


@keras.saving.register_keras_serializable(package="kerasopt")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned position embedding, for a transformer encoder.

    Produces a padding mask (id 0) that Keras passes on to `MultiHeadAttention`, so no
    token attends to padding.

    Args:
        vocab_size: Size of the int vocabulary, padding and OOV included.
        sequence_length: Number of positions.
        embedding_dim: Size of each embedding vector.
        mask_zero: Emit a padding mask. Defaults to `True`.

    Example:

    >>> layer = TokenAndPositionEmbedding(vocab_size=100, sequence_length=8, embedding_dim=4)
    >>> layer(np.zeros((2, 8), "int32")).shape
    TensorShape([2, 8, 4])
    """

    def __init__(self, vocab_size, sequence_length, embedding_dim, mask_zero=True, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (
            ("vocab_size", vocab_size),
            ("sequence_length", sequence_length),
            ("embedding_dim", embedding_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidValueError(
                    f"TokenAndPositionEmbedding needs a positive int {arg}. "
                    f"Received: {arg}={value!r}."
                )
        self.vocab_size = int(vocab_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.mask_zero = bool(mask_zero)
        self.token_embedding = keras.layers.Embedding(
            self.vocab_size, self.embedding_dim, name="token_embedding"
        )
        self.position_embedding = keras.layers.Embedding(
            self.sequence_length, self.embedding_dim, name="position_embedding"
        )

    def build(self, input_shape):
        self.token_embedding.build(input_shape)
        self.position_embedding.build((self.sequence_length,))

    def call(self, token_ids):
        positions = self.position_embedding(ops.arange(self.sequence_length, dtype="int32"))
        return self.token_embedding(token_ids) + ops.expand_dims(positions, 0)

    def compute_mask(self, token_ids, mask=None):
        return ops.not_equal(token_ids, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero,
            }
        )
        return config


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
    if not 0.0 <= dropout < 1.0:
        raise InvalidValueError(f"build_text_model needs 0 <= dropout < 1. Received: {dropout=}.")
    if l2 < 0:
        raise InvalidValueError(f"build_text_model needs l2 >= 0. Received: {l2=}.")
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
            f"Unknown text model family {family!r}. Expected one of {list(TEXT_MODEL_FAMILIES)}."
        )
    minimums = {
        "vocab_size": (vocab_size, 3, "0 is padding and 1 is OOV, so real tokens start at 2"),
        "sequence_length": (sequence_length, 1, "use TextVectorization output_sequence_length"),
        "num_classes": (num_classes, 2, "a classifier needs two classes or more"),
        "embedding_dim": (embedding_dim, 1, "pick a positive size"),
        "units": (units, 1, "pick a positive size"),
    }
    for arg, (value, minimum, hint) in minimums.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InvalidValueError(
                f"build_text_model needs an int {arg} >= {minimum} ({hint}). "
                f"Received: {arg}={value!r}."
            )
