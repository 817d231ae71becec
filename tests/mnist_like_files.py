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


#: idx type code of each dtype kerasopt's reader knows.
IDX_TYPE_CODES = {"u1": 0x08, "i1": 0x09, ">i2": 0x0B, ">i4": 0x0C, ">f4": 0x0D, ">f8": 0x0E}


def idx_bytes(array, dtype="u1"):
    """The bytes of `array` as an idx file: magic number, big-endian dims, the values."""
    array = np.asarray(array).astype(dtype)
    header = bytes([0, 0, IDX_TYPE_CODES[dtype], array.ndim])
    return header + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()


def write_idx(path, array, dtype="u1", gz=None):
    """Writes `array` as an idx file; gzipped when `path` ends in `.gz` (or `gz=True`)."""
    import gzip
    from pathlib import Path

    path = Path(path)
    content = idx_bytes(array, dtype)
    if gz or (gz is None and path.suffix == ".gz"):
        content = gzip.compress(content)
    path.write_bytes(content)
    return path


def make_idx_folder(folder, n_train=120, n_test=40, shape=(28, 28), gz=True, seed=0):
    """The four files of an MNIST-format dataset, as distributed; returns the arrays."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / (f"{name}.gz" if gz else name), array)
    return arrays
