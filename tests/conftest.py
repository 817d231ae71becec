"""Shared fixtures: every test is seeded, and TF stays quiet and small."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seeds Python, NumPy and the backend so every test repeats exactly."""
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def digits():
    from kerasopt.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def trained_digits_model(digits):
    """A small CNN trained for a few epochs on digits, shared by export tests."""
    import keras

    from kerasopt.models import build_cnn
    from kerasopt.training import TrainConfig, train

    keras.utils.set_random_seed(0)
    model = build_cnn(
        digits.input_shape, 10, input_max=16, filters=(8, 16), dense_units=32, bn_momentum=0.9
    )
    train(model, digits, TrainConfig(epochs=6, early_stopping_patience=None), verbose=0)
    return model


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
