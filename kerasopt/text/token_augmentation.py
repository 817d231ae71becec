"""`TokenAugmentation`: the base of the EDA token ops (Wei & Zou, 2019), inside `tf.data`.

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

from kerasopt.core.validation import check_fraction, check_int, invalid_value


class TokenAugmentation:
    """Base of the EDA ops: seeding, shape handling and `(ids, labels)` calls.

    Subclasses implement `augment(ids, valid, seed)` on an int32 `[batch, length]`
    tensor, where `valid` marks the non-padding positions and `seed` is a stateless
    seed for that batch.
    """

    def __init__(self, rate: float = 0.1, seed: int = 0):
        owner = type(self).__name__
        self.rate = check_fraction(owner, "rate", rate, example=0.1)
        self.seed = check_int(owner, "seed", seed, example=0)

    def __call__(self, token_ids, labels=None):
        import tensorflow as tf

        ids = tf.convert_to_tensor(token_ids)
        if ids.shape.rank not in (1, 2):
            raise invalid_value(
                type(self).__name__, "token ids [batch, length] or [length]", f"shape {ids.shape}"
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


def draw_uniform(seed, shape, salt: int):
    import tensorflow as tf

    return tf.random.stateless_uniform(shape, tf.random.experimental.stateless_fold_in(seed, salt))


def repack(ids, keep):
    """Moves the kept ids to the front, in order, and pads the rest with 0."""
    import tensorflow as tf

    length = tf.shape(ids)[1]
    positions = tf.range(length)[None, :]
    order = tf.argsort(tf.where(keep, positions, positions + length), axis=1, stable=True)
    packed = tf.gather(tf.where(keep, ids, 0), order, batch_dims=1)
    kept = tf.reduce_sum(tf.cast(keep, tf.int32), axis=1, keepdims=True)
    return tf.where(positions < kept, packed, 0)
