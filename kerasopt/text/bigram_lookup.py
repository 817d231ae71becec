"""`BigramLookup`: TextVectorization's uni+bigram ids, computed in the graph from unigram ids.

MediaPipe's regex tokenizer feeds a text model unigram ids only, while a model trained on
`TextVectorization(ngrams=2)` reads every unigram id of a text, then every bigram id,
truncated to `output_sequence_length` and padded with 0 (measured on Keras 3.15: `"a b zz
c"` -> ids of `a, b, zz, c, "a b", "b zz", "zz c"`, an out-of-vocabulary bigram giving
`[UNK]` = 1). `BigramLookup` rebuilds that sequence inside the model from the unigram ids,
with TFLite builtin int32 ops only: a bigram is the key `first_id * vocab_size +
second_id`, found in a constant hash table (keys bucketed by `key mod num_buckets`, each
bucket searched in full), so a phone bundle can feed the model what it was trained on.

A bigram whose words are not both in the unigram vocabulary cannot be found: MediaPipe
gives such a word `<UNKNOWN>` (1), so the bigram's key is lost. A word ranks at least as
high as any bigram holding it, so only a tie at the vocabulary's end can leave one out;
`bigram_table` drops those and counts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import ops

from kerasopt.core.validation import check_int, invalid_value

#: The largest vocabulary whose bigram keys fit int32 (`vocab_size**2 < 2**31`).
MAX_VOCAB_SIZE = math.isqrt(2**31)


def bigram_table(vocabulary: Sequence[str]) -> tuple[dict[tuple[int, int], int], int]:
    """`{(first_id, second_id): bigram_id}` of a uni+bigram vocabulary, and the bigrams lost.

    Args:
        vocabulary: `TextVectorization(ngrams=2).get_vocabulary()`.

    Returns:
        The table, and how many vocabulary bigrams it lacks because a word of theirs is
        not a unigram of the vocabulary.

    Example:

    >>> bigram_table(["", "[UNK]", "good", "film", "good film", "bad film"])
    ({(2, 3): 4}, 1)
    """
    vocabulary = [str(token) for token in vocabulary]
    words = {w: i for i, w in enumerate(vocabulary) if i >= 2 and w and " " not in w}
    table, lost = {}, 0
    for i, token in enumerate(vocabulary):
        parts = token.split(" ")
        if i < 2 or len(parts) != 2:
            continue
        if parts[0] in words and parts[1] in words:
            table[(words[parts[0]], words[parts[1]])] = i
        else:
            lost += 1
    return table, lost


def append_bigram_ids(unigram_ids, bigrams: Mapping[tuple[int, int], int]) -> np.ndarray:
    """NumPy mirror of `BigramLookup`: the unigram ids of each row, then its bigram ids.

    Args:
        unigram_ids: `[n, length]` ids, padding (0) at the end.
        bigrams: `bigram_table`'s table.

    Example:

    >>> append_bigram_ids([[2, 3, 5, 0, 0, 0]], {(2, 3): 4})
    array([[2, 3, 5, 4, 1, 0]], dtype=int32)
    """
    rows = np.asarray(unigram_ids, dtype="int32")
    out = np.zeros_like(rows)
    length = rows.shape[-1]
    for row, ids in zip(out, rows, strict=True):
        words = [int(i) for i in ids if i != 0]
        pairs = [bigrams.get(pair, 1) for pair in zip(words, words[1:], strict=False)]
        sequence = (words + pairs)[:length]
        row[: len(sequence)] = sequence
    return out


@keras.saving.register_keras_serializable(package="kerasopt")
class BigramLookup(keras.layers.Layer):
    """Turns unigram ids into the uni+bigram ids `TextVectorization(ngrams=2)` gives.

    Input `[b, length]` int ids, a text's `n` unigram ids then padding (0); output
    `[b, length]`: those `n` ids, then the ids of the `n - 1` adjacent pairs (`1`, the
    OOV id, for a pair not in the table), truncated to `length` and padded with 0: the
    row `TextVectorization(ngrams=2, output_sequence_length=length)` gives when the
    unigram ids are its own. A pair's key `first * vocab_size + second` is looked up in
    a bucketed hash table held as int32 constants (gathers and compares, no float op),
    so the layer converts to TFLite builtins and sits before a full-integer model.

    Args:
        vocab_size: Size of the int vocabulary, padding and OOV included (at most
            `MAX_VOCAB_SIZE`, so keys fit int32).
        bigrams: `(first_id, second_id, bigram_id)` triples (`bigram_table(...)` items).
            Defaults to `()`.

    Example:

    >>> layer = BigramLookup(6, [(2, 3, 4)])
    >>> layer(np.array([[2, 3, 5, 0, 0, 0]])).numpy().tolist()
    [[2, 3, 5, 4, 1, 0]]
    """

    def __init__(self, vocab_size, bigrams=(), **kwargs):
        super().__init__(**kwargs)
        owner = "BigramLookup"
        fix = f"Keep max_tokens <= {MAX_VOCAB_SIZE} so that bigram keys fit int32."
        self.vocab_size = check_int(owner, "vocab_size", vocab_size, 2, MAX_VOCAB_SIZE, fix=fix)
        triples = np.asarray([list(t) for t in bigrams], dtype="int64").reshape(-1, 3)
        # Ids 0 (padding) and 1 (OOV) are never a word's or a bigram's: 0 marks a miss.
        if len(triples) and (triples.min() < 2 or triples.max() >= self.vocab_size):
            raise invalid_value(
                owner,
                f"bigram triples of ids in [2, {self.vocab_size})",
                f"ids from {triples.min()} to {triples.max()}",
                "Build them with bigram_table(vectorizer.get_vocabulary()).",
            )
        self.bigrams = [tuple(int(v) for v in t) for t in triples]
        self._table = _hash_table(triples, self.vocab_size)

    def call(self, token_ids):
        ids = ops.cast(token_ids, "int32")
        length = ids.shape[-1]
        if length is None or length < 2:
            return ids  # no room for a bigram
        starts, keys, values, depth = self._table
        key = ids[:, :-1] * self.vocab_size + ids[:, 1:]
        bucket = ops.mod(key, ops.convert_to_tensor(len(starts), "int32"))
        slots = ops.expand_dims(ops.take(starts, bucket), -1) + ops.arange(depth, dtype="int32")
        hit = ops.equal(ops.take(keys, slots), ops.expand_dims(key, -1))
        found = ops.sum(ops.where(hit, ops.take(values, slots), 0), axis=-1)
        pair_ids = ops.where(found > 0, found, 1)
        # Position p holds the bigram p - n after the n unigrams, up to 2n - 1.
        count = ops.sum(ops.minimum(ids, 1), axis=1, keepdims=True)
        offset = ops.expand_dims(ops.arange(length, dtype="int32"), 0) - count
        inside = ops.logical_and(offset >= 0, offset < count - 1)
        # A gather from the flat pair ids (take_along_axis would add int64 index ops).
        rows = ops.expand_dims(ops.arange(ops.shape(ids)[0], dtype="int32"), 1) * (length - 1)
        flat = ops.reshape(pair_ids, (-1,))
        shifted = ops.take(flat, rows + ops.clip(offset, 0, length - 2))
        return ids + ops.where(inside, shifted, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"vocab_size": self.vocab_size, "bigrams": [list(t) for t in self.bigrams]})
        return config


def _hash_table(triples: np.ndarray, vocab_size: int):
    """Keys sorted by bucket, each bucket's first slot, and the deepest bucket's size."""
    keys = triples[:, 0] * vocab_size + triples[:, 1]
    # About 4 keys a bucket: the start table costs 1 byte a bigram, a search ~11 compares
    # (measured on a 4407-bigram vocabulary; one key a bucket still needed 7).
    num_buckets = _prime_at_least(len(keys) // 4)
    buckets = keys % num_buckets
    order = np.argsort(buckets, kind="stable")
    counts = np.bincount(buckets, minlength=num_buckets)
    depth = max(int(counts.max()) if len(keys) else 1, 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # `depth` sentinel slots after the last bucket: no key is -1, no id is 0.
    sorted_keys = np.concatenate([keys[order], np.full(depth, -1)])
    sorted_ids = np.concatenate([triples[order, 2], np.zeros(depth, "int64")])
    as_int32 = [a.astype("int32") for a in (starts, sorted_keys, sorted_ids)]
    return (*as_int32, depth)


def _prime_at_least(n: int) -> int:
    # A prime modulus spreads keys `first * V + second` whatever V's factors are.
    n = max(n, 2)
    while any(n % d == 0 for d in range(2, int(n**0.5) + 1)):
        n += 1
    return n
