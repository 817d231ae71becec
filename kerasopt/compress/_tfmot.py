"""The one door to TF-MOT and `tf_keras`: imported lazily, leaving `tf.keras` alone.

`import tensorflow_model_optimization` runs `os.environ["TF_USE_LEGACY_KERAS"] = "1"`
(`tensorflow_model_optimization/python/core/keras/compat.py`). That has two effects on
the user's process: every child process inherits the variable, and `tf.keras`, which
TensorFlow resolves lazily on first use, turns into Keras 2 (`tf_keras`) if nothing had
touched it yet. `tfmot()` prevents both: it resolves `tf.keras` (and its top-level
aliases `tf.losses`, `tf.metrics`, `tf.optimizers`, `tf.initializers`) under the
user's own setting first, then imports TF-MOT, then puts the variable back exactly as it
was (unset stays unset).

`tf.compat.v1.keras` and `tf.compat.v2.keras` are left for TF-MOT to resolve: its
pruning and clustering registries look up the `tf_keras` RNN cells through them, and
pinning them to Keras 3 would make LSTM and GRU layers unprunable.

No other kerasopt module imports `tensorflow_model_optimization` or `tf_keras`.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from types import ModuleType

LEGACY_KERAS_VARIABLE = "TF_USE_LEGACY_KERAS"
_TF_KERAS_ALIASES = ("keras", "losses", "metrics", "optimizers", "initializers")
_IMPORT_LOCK = threading.Lock()


def tfmot() -> ModuleType:
    """Imports and returns `tensorflow_model_optimization` without side effects.

    Returns:
        The `tensorflow_model_optimization` module.

    Example:

    >>> from kerasopt.compress._tfmot import tfmot
    >>> prune = tfmot().sparsity.keras.prune_low_magnitude
    """
    return _import_isolated("tensorflow_model_optimization")


def tf_keras() -> ModuleType:
    """Imports and returns the `tf_keras` package (Keras 2), the model type TF-MOT takes.

    Returns:
        The `tf_keras` module.

    Example:

    >>> from kerasopt.compress._tfmot import tf_keras
    >>> tf_keras().__version__.startswith("2.")
    True
    """
    return _import_isolated("tf_keras")


def _import_isolated(name: str) -> ModuleType:
    """Imports `name` with `tf.keras` pinned first and the legacy-Keras variable restored."""
    with _IMPORT_LOCK:
        module = sys.modules.get(name)
        if module is not None:
            return module
        _pin_tf_keras()
        before = os.environ.get(LEGACY_KERAS_VARIABLE)
        try:
            module = importlib.import_module(name)
        finally:
            _restore_variable(before)
        return module


def _pin_tf_keras() -> None:
    """Resolves `tf.keras` and its aliases now, under the user's own setting."""
    import tensorflow as tf

    for alias in _TF_KERAS_ALIASES:
        loader = getattr(tf, alias, None)
        if loader is not None:
            # `dir()` makes TensorFlow's KerasLazyLoader choose Keras 3 or tf_keras
            # from the variable as it is now; it never re-decides afterwards.
            dir(loader)


def _restore_variable(before: str | None) -> None:
    if before is None:
        os.environ.pop(LEGACY_KERAS_VARIABLE, None)
    else:
        os.environ[LEGACY_KERAS_VARIABLE] = before
