"""Small files in the exact format of Keras' mnist.npz, for the loader and CLI tests.

A plain module, not conftest.py: several folders have a conftest.py of their own, and
`from conftest import ...` would pick whichever pytest imported first.
"""

import numpy as np


def make_mnist_like_npz(path, n_train=120, n_test=40, shape=(28, 28), seed=0):
    """Writes a small `.npz` in the exact format of Keras' mnist.npz (uint8 pixels)."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, size=(n_train, *shape), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, *shape), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    np.savez(path, **arrays)
    return arrays
