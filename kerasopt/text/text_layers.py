"""The layers of the text models: TF-IDF, masked average pooling, token+position embedding.

They are written with ops that the TFLite int8 quantizer handles: padding masks and term
counts reach float through a `take` from a constant table instead of a `cast`, because a
`CAST` to float stays float in a full-integer model (measured on TF 2.21).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_int, check_number, check_positive_int


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
        check_int("TokenTfIdf", "vocab_size", vocab_size, 2, example=20000)
        if max_count is not None:
            check_number("TokenTfIdf", "max_count", max_count, 1, fix="Pass None for no cap.")
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
            check_positive_int("TokenAndPositionEmbedding", arg, value)
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
