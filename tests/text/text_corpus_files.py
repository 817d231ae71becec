"""Helpers for the text tests: Keras' own IMDB processing, run on a local file.

A plain module, not conftest.py (see tests/mnist_like_files.py for why).
"""

import numpy as np


def keras_load_data(monkeypatch, path, **kwargs):
    """`keras.datasets.imdb.load_data` on a local file: the reference for our loader.

    `load_data` only takes a cache name and checks the download's hash, so the test
    points its `get_file` at `path` and lets Keras' own code do everything else.
    """
    from keras.src.datasets import imdb as keras_imdb

    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kw: str(path))
    return keras_imdb.load_data(**kwargs)


def as_lists(x):
    """Object array (1-D or, for equal-length Keras output, 2-D) -> list of int lists."""
    return [[int(w) for w in row] for row in x]


def assert_same_imdb(ours, theirs):
    """Same sequences, labels and label dtype for `(x_train, y_train), (x_test, y_test)`."""
    for (x_a, y_a), (x_b, y_b) in zip(ours, theirs, strict=True):
        assert as_lists(x_a) == as_lists(x_b)
        np.testing.assert_array_equal(y_a, y_b)
        assert np.asarray(y_a).dtype == np.asarray(y_b).dtype
