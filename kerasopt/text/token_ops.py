"""The EDA token ops: swap, deletion, insertion and synonym replacement of token ids.

Each keeps the shape and dtype of `[batch, sequence_length]` int ids, keeps padding (0) at
the end, puts no id out of range and leaves labels alone.
"""

from __future__ import annotations

import keras

from kerasopt.core.validation import check_number, invalid_value
from kerasopt.text.synonyms import SynonymTable, check_synonym_map
from kerasopt.text.token_augmentation import TokenAugmentation, draw_uniform, repack


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
        picked = valid & (draw_uniform(seed, tf.shape(ids), 1) < self.rate)
        keys = draw_uniform(seed, tf.shape(ids), 2)
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

        uniform = draw_uniform(seed, tf.shape(ids), 1)
        keep = valid & (uniform >= self.rate)
        emptied = tf.reduce_any(valid, axis=1) & ~tf.reduce_any(keep, axis=1)
        survivor = tf.one_hot(tf.argmin(tf.where(valid, uniform, 2.0), axis=1), tf.shape(ids)[1])
        keep |= emptied[:, None] & tf.cast(survivor, tf.bool)
        return repack(ids, keep)


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
            raise invalid_value(
                "RandomTokenInsertion",
                "exactly one of vocab_size or synonym_map",
                f"vocab_size={vocab_size!r}, synonym_map given: {synonym_map is not None}",
            )
        if vocab_size is not None:
            check_number(
                "RandomTokenInsertion", "vocab_size", vocab_size, 3,
                fix="Ids 0 (padding) and 1 (OOV) are never inserted; pass the vocabulary size.",
            )  # fmt: skip
        self.vocab_size = None if vocab_size is None else int(vocab_size)
        self.synonym_map = (
            None if synonym_map is None else check_synonym_map("RandomTokenInsertion", synonym_map)
        )
        self._table = None if synonym_map is None else SynonymTable(self.synonym_map)

    def augment(self, ids, valid, seed):
        import tensorflow as tf

        shape = tf.shape(ids)
        length = shape[1]
        insert = valid & (draw_uniform(seed, shape, 1) < self.rate)
        if self._table is None:
            new = 2 + tf.cast(draw_uniform(seed, shape, 2) * (self.vocab_size - 2), tf.int32)
            new = tf.minimum(new, self.vocab_size - 1)
        else:
            tokens = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1, keepdims=True)
            source = tf.cast(draw_uniform(seed, shape, 2) * tf.cast(tokens, tf.float32), tf.int32)
            source = tf.minimum(source, tf.maximum(tokens - 1, 0))
            new, found = self._table.lookup(
                tf.gather(ids, source, batch_dims=1), draw_uniform(seed, shape, 3)
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
        self.synonym_map = check_synonym_map("SynonymReplacement", synonym_map)
        self._table = SynonymTable(self.synonym_map)

    def augment(self, ids, valid, seed):
        import tensorflow as tf

        synonyms, found = self._table.lookup(ids, draw_uniform(seed, tf.shape(ids), 2))
        replace = valid & found & (draw_uniform(seed, tf.shape(ids), 1) < self.rate)
        return tf.where(replace, synonyms, ids)

    def get_config(self) -> dict:
        config = super().get_config()
        config["synonym_map"] = self.synonym_map
        return config
