"""Shared fixtures: every test is seeded, and TF stays quiet and small."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# pytest-xdist runs one worker per core. Left alone, every worker's TensorFlow opens an
# intra-op pool as wide as the machine, and the workers' pools fight over the same cores:
# one share of the cores each made tests/compress 1.25x faster on 2 cores (198 s -> 158 s),
# tests/training 1.06x and the notebooks 1.00x (293 s both ways), each pair run back to
# back. Notebook kernels and subprocesses inherit it.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, (_CORES or 1) // _WORKERS)))


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
    # No augmentation: at 6 epochs it costs accuracy (0.94 without, 0.64-0.69 with), and
    # the export and attack tests want a model that has learned the task.
    config = TrainConfig(epochs=6, early_stopping_patience=None, augment=None)
    train(model, digits, config, verbose=0)
    return model


@pytest.fixture
def rng():
    """A seeded NumPy generator. (Subfolders keep no conftest.py: tests import this one.)"""
    return np.random.default_rng(0)


def pytest_collection_modifyitems(items):
    """Notebooks run every technique end to end: they belong to the full suite only.

    `python -m pytest -m "not slow"` (the fast lane) skips them and every test marked
    `@pytest.mark.slow`.
    """
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.slow)
