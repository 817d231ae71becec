"""EDA token augmentation (Wei & Zou, 2019) on batches of token ids, inside `tf.data`.

The ops work on `[batch, sequence_length]` int ids from
`TextVectorization(output_mode="int")`, padding (0) at the end: swap, deletion,
insertion and synonym replacement. Each keeps the shape and dtype, keeps padding at the
end, puts no id out of range and leaves labels alone.

Randomness is stateless: each batch draws from `tf.random.stateless_uniform` with a
seed mixed from the op's seed and a fingerprint of the batch, so a batch is augmented
the same way whatever `num_parallel_calls` does (Keras' and TF's stateful generators
are not reproducible under a parallel `map`). The same batch gets the same augmentation
every epoch: shuffle before batching so batches, and their augmentations, change.
"""

from __future__ import annotations

import zlib

import keras
import numpy as np

from kerasopt.core.errors import InvalidTypeError, InvalidValueError


def _check_rate(owner: str, rate) -> float:
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float, np.number))
        or not 0 <= rate <= 1
    ):
        raise InvalidValueError(f"{owner} needs a rate in [0, 1]. Received: {rate=}.")
    return float(rate)


def _check_synonym_map(owner: str, synonym_map) -> dict[int, list[int]]:
    if not isinstance(synonym_map, dict):
        raise InvalidTypeError(
            f"{owner} needs synonym_map as a dict {{token_id: [synonym ids]}}. Received: "
            f"{type(synonym_map).__name__}. Build one with synonym_map_from_words."
        )
    clean = {}
    for key, values in synonym_map.items():
        ids = [int(v) for v in values]
        if int(key) < 2 or any(v < 2 for v in ids):
            raise InvalidValueError(
                f"{owner}: synonym ids must be >= 2 (0 is padding, 1 is OOV). Received: "
                f"{key} -> {list(values)}."
            )
        if ids:
            clean[int(key)] = ids
    return clean


class TokenAugmentation:
    """Base of the EDA ops: seeding, shape handling and `(ids, labels)` calls.

    Subclasses implement `augment(ids, valid, seed)` on an int32 `[batch, length]`
    tensor, where `valid` marks the non-padding positions and `seed` is a stateless
    seed for that batch.
    """

    def __init__(self, rate: float = 0.1, seed: int = 0):
        self.rate = _check_rate(type(self).__name__, rate)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise InvalidTypeError(f"{type(self).__name__} needs an int seed. Received: {seed=}.")
        self.seed = int(seed)

    def __call__(self, token_ids, labels=None):
        import tensorflow as tf

        ids = tf.convert_to_tensor(token_ids)
        if ids.shape.rank not in (1, 2):
            raise InvalidValueError(
                f"{type(self).__name__} expects token ids [batch, length] or [length]. "
                f"Received: shape {ids.shape}."
            )
        batch = tf.cast(ids, tf.int32) if ids.shape.rank == 2 else tf.cast(ids, tf.int32)[None]
        if self.rate > 0.0:
            batch = self.augment(batch, tf.not_equal(batch, 0), self._batch_seed(batch))
        out = tf.cast(batch if ids.shape.rank == 2 else batch[0], ids.dtype)
        out = tf.ensure_shape(out, ids.shape)
        return out if labels is None else (out, labels)

    def _batch_seed(self, batch):
        import tensorflow as tf

        salt = zlib.crc32(type(self).__name__.encode())
        op_seed = tf.constant((self.seed * 1_000_003 + salt) % (2**62), tf.int64)
        fingerprint = tf.bitcast(tf.fingerprint(tf.reshape(batch, (1, -1))), tf.int64)
        return tf.stack([op_seed, fingerprint[0]])

    def augment(self, ids, valid, seed):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"rate": self.rate, "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _uniform(seed, shape, salt: int):
    import tensorflow as tf

    return tf.random.stateless_uniform(shape, tf.random.experimental.stateless_fold_in(seed, salt))


def _repack(ids, keep):
    """Moves the kept ids to the front, in order, and pads the rest with 0."""
    import tensorflow as tf

    length = tf.shape(ids)[1]
    positions = tf.range(length)[None, :]
    order = tf.argsort(tf.where(keep, positions, positions + length), axis=1, stable=True)
    packed = tf.gather(tf.where(keep, ids, 0), order, batch_dims=1)
    kept = tf.reduce_sum(tf.cast(keep, tf.int32), axis=1, keepdims=True)
    return tf.where(positions < kept, packed, 0)


class _SynonymTable:
    """Dense `[max_id + 1, max_synonyms]` lookup of a synonym map, for use in graphs."""

    def __init__(self, synonym_map: dict[int, list[int]]):
        size = max(synonym_map, default=1) + 1
        width = max((len(v) for v in synonym_map.values()), default=1)
        table = np.zeros((size, width), dtype="int32")
        counts = np.zeros(size, dtype="int32")
        for key, values in synonym_map.items():
            table[key, : len(values)] = values
            counts[key] = len(values)
        self.table, self.counts = table, counts

    def lookup(self, ids, uniform):
        """(random synonym of each id, whether it has one); `uniform` picks the synonym."""
        import tensorflow as tf

        size = self.counts.shape[0]
        index = tf.minimum(ids, size - 1)
        counts = tf.where(ids < size, tf.gather(tf.constant(self.counts), index), 0)
        pick = tf.minimum(tf.cast(uniform * tf.cast(counts, tf.float32), tf.int32), counts - 1)
        synonyms = tf.gather_nd(tf.constant(self.table), tf.stack([index, tf.maximum(pick, 0)], -1))
        return synonyms, counts > 0


@keras.saving.register_keras_serializable(package="kerasopt")
class RandomTokenSwap(TokenAugmentation):
    """Swaps random pairs of tokens (EDA random swap).

    Each token is picked with probability `rate`; the picked tokens of a row are paired
    at random and each pair trades places (an odd one out stays). The multiset of
    tokens and the padding do not change.

    Args:
        rate: Probability that a token takes part in a swap. Defaults to `0.1`.
        seed: Seed of the op. Defaults to `0`.

    Example:

    >>> swap = RandomTokenSwap(0.2, seed=1)
    >>> train = train.map(swap, num_parallel_calls=tf.data.AUTOTUNE)  # doctest: +SKIP
    """

    def augment(self, ids, valid, seed):
        import tensorflow as tf

        length = tf.shape(ids)[1]
        positions = tf.range(length)[None, :]
        picked = valid & (_uniform(seed, tf.shape(ids), 1) < self.rate)
        keys = _uniform(seed, tf.shape(ids), 2)
        # Picked positions first, in random order; the others after, in place order.
        order = tf.argsort(tf.where(picked, keys, 2.0 + tf.cast(positions, tf.float32)), axis=1)
        count = tf.reduce_sum(tf.cast(picked, tf.int32), axis=1, keepdims=True)
        partner = tf.bitwise.bitwise_xor(positions, 1)
        partner = tf.where((positions < count) & (partner < count), partner, positions)
        source_sorted = tf.gather(order, partner, batch_dims=1)
        source = tf.gather(source_sorted, tf.argsort(order, axis=1), batch_dims=1)
        return tf.gather(ids, source, batch_dims=1)


@keras.saving.register_keras_serializable(package="kerasopt")
class RandomTokenDeletion(TokenAugmentation):
    """Deletes random tokens and re-packs the row (EDA random deletion).

    Each token is deleted with probability `rate`; the rest move forward and padding
    fills the end. A row never loses all its tokens: one random token survives.

    Args:
        rate: Probability that a token is deleted. Defaults to `0.1`.
        seed: Seed of the op. Defaults to `0`.

    Example:

    >>> deletion = RandomTokenDeletion(0.1)
    >>> deletion(np.array([[5, 6, 7, 0]]))  # doctest: +SKIP
    """

    def augment(self, ids, valid, seed):
        import tensorflow as tf

        uniform = _uniform(seed, tf.shape(ids), 1)
        keep = valid & (uniform >= self.rate)
        emptied = tf.reduce_any(valid, axis=1) & ~tf.reduce_any(keep, axis=1)
        survivor = tf.one_hot(tf.argmin(tf.where(valid, uniform, 2.0), axis=1), tf.shape(ids)[1])
        keep |= emptied[:, None] & tf.cast(survivor, tf.bool)
        return _repack(ids, keep)


@keras.saving.register_keras_serializable(package="kerasopt")
class RandomTokenInsertion(TokenAugmentation):
    """Inserts new tokens after random positions (EDA random insertion).

    After each token, with probability `rate`, a new token is inserted: a synonym of a
    random token of the same row when `synonym_map` is given (positions whose pick has
    no synonym insert nothing), otherwise a random id in `[2, vocab_size)`. The row
    keeps its length: tokens pushed past the end are dropped.

    Args:
        rate: Probability of an insertion after each token. Defaults to `0.1`.
        vocab_size: Draw inserted ids from `[2, vocab_size)`. Defaults to `None`.
        synonym_map: `{token_id: [synonym ids]}`; give this or `vocab_size`.
            Defaults to `None`.
        seed: Seed of the op. Defaults to `0`.

    Example:

    >>> insertion = RandomTokenInsertion(0.1, synonym_map={12: [40, 41]})
    >>> train = train.map(insertion)  # doctest: +SKIP
    """

    def __init__(self, rate=0.1, vocab_size=None, synonym_map=None, seed=0):
        super().__init__(rate, seed)
        if (vocab_size is None) == (synonym_map is None):
            raise InvalidValueError(
                "RandomTokenInsertion needs exactly one of vocab_size or synonym_map. "
                f"Received: vocab_size={vocab_size!r}, synonym_map given: "
                f"{synonym_map is not None}."
            )
        if vocab_size is not None and (isinstance(vocab_size, bool) or int(vocab_size) < 3):
            raise InvalidValueError(
                f"RandomTokenInsertion needs vocab_size >= 3 (ids 0 and 1 are never "
                f"inserted). Received: {vocab_size=}."
            )
        self.vocab_size = None if vocab_size is None else int(vocab_size)
        self.synonym_map = (
            None if synonym_map is None else _check_synonym_map("RandomTokenInsertion", synonym_map)
        )
        self._table = None if synonym_map is None else _SynonymTable(self.synonym_map)

    def augment(self, ids, valid, seed):
        import tensorflow as tf

        shape = tf.shape(ids)
        length = shape[1]
        insert = valid & (_uniform(seed, shape, 1) < self.rate)
        if self._table is None:
            new = 2 + tf.cast(_uniform(seed, shape, 2) * (self.vocab_size - 2), tf.int32)
            new = tf.minimum(new, self.vocab_size - 1)
        else:
            tokens = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1, keepdims=True)
            source = tf.cast(_uniform(seed, shape, 2) * tf.cast(tokens, tf.float32), tf.int32)
            source = tf.minimum(source, tf.maximum(tokens - 1, 0))
            new, found = self._table.lookup(
                tf.gather(ids, source, batch_dims=1), _uniform(seed, shape, 3)
            )
            insert &= found
        # Token t moves right by the insertions before it; its insertion lands just after.
        shift = tf.cumsum(tf.cast(insert, tf.int32), axis=1, exclusive=True)
        positions = tf.range(length)[None, :] + shift
        rows = tf.broadcast_to(tf.range(shape[0])[:, None], shape)
        targets = tf.concat([positions, positions + 1], axis=1)
        values = tf.concat([ids, new], axis=1)
        written = tf.concat([valid, insert], axis=1) & (targets < length)
        indices = tf.stack([tf.concat([rows, rows], axis=1), targets], axis=-1)
        return tf.tensor_scatter_nd_update(
            tf.zeros_like(ids), tf.boolean_mask(indices, written), tf.boolean_mask(values, written)
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"vocab_size": self.vocab_size, "synonym_map": self.synonym_map})
        return config


@keras.saving.register_keras_serializable(package="kerasopt")
class SynonymReplacement(TokenAugmentation):
    """Replaces tokens by a random synonym (EDA synonym replacement).

    Each token that has synonyms in `synonym_map` is replaced, with probability `rate`,
    by one of them drawn uniformly. Other tokens and padding never change.

    Args:
        synonym_map: `{token_id: [synonym ids]}`, e.g. from `synonym_map_from_words`.
        rate: Probability that a token with synonyms is replaced. Defaults to `0.1`.
        seed: Seed of the op. Defaults to `0`.

    Example:

    >>> replace = SynonymReplacement({12: [40, 41]}, rate=0.5)
    >>> replace(np.array([[12, 7, 12, 0]]))  # doctest: +SKIP
    """

    def __init__(self, synonym_map, rate=0.1, seed=0):
        super().__init__(rate, seed)
        self.synonym_map = _check_synonym_map("SynonymReplacement", synonym_map)
        self._table = _SynonymTable(self.synonym_map)

    def augment(self, ids, valid, seed):
        import tensorflow as tf

        synonyms, found = self._table.lookup(ids, _uniform(seed, tf.shape(ids), 2))
        replace = valid & found & (_uniform(seed, tf.shape(ids), 1) < self.rate)
        return tf.where(replace, synonyms, ids)

    def get_config(self) -> dict:
        config = super().get_config()
        config["synonym_map"] = self.synonym_map
        return config


@keras.saving.register_keras_serializable(package="kerasopt")
class TextAugmentation:
    """Applies EDA token ops in order; use as `dataset.map(augmentation)`.

    Called on `(ids, labels)` it returns `(augmented ids, labels)`; on ids alone it
    returns augmented ids.

    Args:
        ops: The token ops, applied in order.

    Example:

    >>> augmentation = TextAugmentation(
    ...     [SynonymReplacement(synonyms, 0.1), RandomTokenSwap(0.1), RandomTokenDeletion(0.1)]
    ... )  # doctest: +SKIP
    >>> train = train.map(augmentation, num_parallel_calls=tf.data.AUTOTUNE)  # doctest: +SKIP
    """

    def __init__(self, ops):
        ops = list(ops)
        for op in ops:
            if not isinstance(op, TokenAugmentation):
                raise InvalidTypeError(
                    "TextAugmentation takes token ops (RandomTokenSwap, RandomTokenDeletion, "
                    f"RandomTokenInsertion, SynonymReplacement). Received: {op!r}."
                )
        self.ops = ops

    def __call__(self, token_ids, labels=None):
        for op in self.ops:
            token_ids = op(token_ids)
        return token_ids if labels is None else (token_ids, labels)

    def get_config(self) -> dict:
        return {"ops": [keras.saving.serialize_keras_object(op) for op in self.ops]}

    @classmethod
    def from_config(cls, config: dict):
        return cls([keras.saving.deserialize_keras_object(op) for op in config["ops"]])


def synonym_map_from_words(
    word_synonyms: dict[str, list[str]], vocabulary: list[str]
) -> tuple[dict[int, list[int]], list[str]]:
    """Turns `{word: [synonyms]}` into `{token id: [synonym ids]}` for a vocabulary.

    Words and synonyms missing from `vocabulary` (the `get_vocabulary()` of an int
    `TextVectorization`, where the index is the id), and the padding and OOV entries,
    are skipped and returned.

    Args:
        word_synonyms: Each word mapped to its synonyms.
        vocabulary: The vocabulary, index = token id.

    Returns:
        `(synonym_map, skipped)`: the id map, and the skipped words in first-seen order.

    Example:

    >>> synonym_map_from_words({"good": ["great", "fine"]}, ["", "[UNK]", "good", "great"])
    ({2: [3]}, ['fine'])
    """
    ids = {word: index for index, word in enumerate(vocabulary) if index >= 2}
    synonym_map, skipped = {}, []

    def skip(word):
        if word not in skipped:
            skipped.append(word)

    for word, synonyms in word_synonyms.items():
        if word not in ids:
            skip(word)
            continue
        found = []
        for synonym in synonyms:
            if synonym not in ids:
                skip(synonym)
            elif synonym != word and ids[synonym] not in found:
                found.append(ids[synonym])
        if found:
            synonym_map[ids[word]] = found
    return synonym_map, skipped
