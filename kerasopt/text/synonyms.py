"""Synonym maps for the EDA ops: built from words, checked, and looked up inside graphs."""

from __future__ import annotations

import numpy as np

from kerasopt.core.validation import invalid_type, invalid_value


def check_synonym_map(owner: str, synonym_map) -> dict[int, list[int]]:
    if not isinstance(synonym_map, dict):
        raise invalid_type(
            owner,
            "synonym_map as a dict {token_id: [synonym ids]}",
            type(synonym_map).__name__,
            "Build one with synonym_map_from_words.",
        )
    clean = {}
    for key, values in synonym_map.items():
        ids = [int(v) for v in values]
        if int(key) < 2 or any(v < 2 for v in ids):
            raise invalid_value(
                owner, "synonym ids >= 2 (0 is padding, 1 is OOV)", f"{key} -> {list(values)}"
            )
        if ids:
            clean[int(key)] = ids
    return clean


class SynonymTable:
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
