"""kerasopt: train, compress, export and verify Keras 3 models for phones.

Importing kerasopt is cheap: subpackages (and TensorFlow) load on first use.

Example:

>>> import kerasopt
>>> report = kerasopt.run_scenario("digits", quick=True)  # doctest: +SKIP
"""

from kerasopt.core.lazy import lazy_attributes

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

__getattr__, __dir__, __all__ = lazy_attributes(__name__, _LAZY, _SUBPACKAGES)
