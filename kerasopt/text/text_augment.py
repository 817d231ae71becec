"""`TextAugmentation`: EDA token ops (Wei & Zou, 2019) chained on batches of token ids.

The ops themselves (swap, deletion, insertion, synonym replacement) live in
`token_ops.py` on the `TokenAugmentation` base, which explains their stateless,
batch-seeded randomness; this module chains them and re-exports them.
"""

from __future__ import annotations

import keras

from kerasopt.core.validation import invalid_type
from kerasopt.text.synonyms import synonym_map_from_words
from kerasopt.text.token_augmentation import TokenAugmentation
from kerasopt.text.token_ops import (
    RandomTokenDeletion,
    RandomTokenInsertion,
    RandomTokenSwap,
    SynonymReplacement,
)

__all__ = [
    "RandomTokenDeletion",
    "RandomTokenInsertion",
    "RandomTokenSwap",
    "SynonymReplacement",
    "TextAugmentation",
    "TokenAugmentation",
    "synonym_map_from_words",
]


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
                raise invalid_type(
                    "TextAugmentation",
                    "token ops (RandomTokenSwap, RandomTokenDeletion, RandomTokenInsertion, "
                    "SynonymReplacement)",
                    repr(op),
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
