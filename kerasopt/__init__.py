"""kerasopt: train, compress, export and verify Keras 3 models for phones.

Importing kerasopt is cheap: subpackages (and TensorFlow) load on first use.

Example:

>>> import kerasopt
>>> report = kerasopt.run_scenario("digits", quick=True)  # doctest: +SKIP
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "load_dataset": "kerasopt.data",
    "make_dataset": "kerasopt.data",
    "build_cnn": "kerasopt.models",
    "load_model_safely": "kerasopt.models",
    "TrainConfig": "kerasopt.training",
    "train": "kerasopt.training",
    "convert_to_tflite": "kerasopt.export",
    "LiteRTEvaluator": "kerasopt.export",
    "check_full_integer": "kerasopt.export",
    "measure_tflite": "kerasopt.export",
    "run_scenario": "kerasopt.pipeline",
    "find_lr": "kerasopt.schedules",
}
_SUBPACKAGES = (
    "adversarial",
    "analysis",
    "augment",
    "callbacks",
    "cli",
    "compress",
    "data",
    "export",
    "models",
    "optimizers",
    "pipeline",
    "regularizers",
    "scenarios",
    "schedules",
    "tabular",
    "text",
    "training",
    "tuning",
)

__all__ = sorted([*_LAZY, *_SUBPACKAGES])


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"kerasopt.{name}")
    raise AttributeError(f"module 'kerasopt' has no attribute {name!r}")


def __dir__():
    return __all__
