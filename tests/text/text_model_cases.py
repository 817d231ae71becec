"""Tiny token-id data and models for the text model and export tests.

A plain module, not conftest.py (see tests/mnist_like_files.py for why).
"""

import numpy as np

VOCAB_SIZE = 200
SEQUENCE_LENGTH = 32
TINY = {"embedding_dim": 8, "units": 8}


def random_token_ids(n, vocab_size=VOCAB_SIZE, sequence_length=SEQUENCE_LENGTH, seed=0):
    """Rows of ids in [1, vocab_size) of random length >= 3, padded with 0 at the end."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, sequence_length), dtype="int32")
    lengths = rng.integers(3, sequence_length + 1, size=n)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(1, vocab_size, size=length)
    return ids


def sharpen(model, factor=20.0):
    """Scales the output kernel so a random model's classes are not near-ties.

    An untrained model answers ~0.5 for every review; argmax agreement between Keras and
    TFLite then measures noise, not the export.
    """
    kernel = model.get_layer("probabilities").kernel
    kernel.assign(kernel * factor)
    return model
