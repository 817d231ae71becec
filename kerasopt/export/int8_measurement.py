"""`measure_int8`: a Keras classifier beside its full-integer int8 TFLite file on LiteRT.

Compression stages, distilled students and the Pareto bench all ask the same question of
a model: what does it score in Keras, and what does its int8 file score, weigh and cost
on the phone's interpreter. This answers it once.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.export.deployment_metrics import DeploymentMetrics, measure_tflite
from kerasopt.export.tensor_names import deployable_bytes
from kerasopt.export.tflite_converter import convert_to_tflite


@dataclasses.dataclass(frozen=True)
class Int8Measurement:
    """A model's Keras outputs on the test split and its int8 file, measured.

    Attributes:
        probabilities: The Keras model's outputs on `x_test`.
        keras_accuracy: Their accuracy against `y_test`.
        content: The full-integer int8 `.tflite` bytes.
        tflite: Those bytes measured on LiteRT (`agreement` against `probabilities`).
    """

    probabilities: np.ndarray
    keras_accuracy: float
    content: bytes
    tflite: DeploymentMetrics


def measure_int8(
    model,
    x_train,
    x_test,
    y_test,
    *,
    seed: int = 0,
    batch_size: int = 256,
    latency_runs: int = 100,
    content: bytes | None = None,
    strip_names: bool = True,
) -> Int8Measurement:
    """Converts `model` to full-integer int8 (calibrated on `x_train`) and measures both.

    With `content`, that int8 file is measured instead of a fresh conversion (a
    quantization-aware model exported by its own converter).

    Args:
        model: A Keras 3 classifier.
        x_train: Calibration samples for the int8 ranges.
        x_test: Samples to score on.
        y_test: Their integer labels.
        seed: Seed of the calibration draw. Defaults to `0`.
        batch_size: Batch size of the Keras predictions. Defaults to `256`.
        latency_runs: Single-sample LiteRT runs timed. Defaults to `100`.
        content: The model's own int8 `.tflite` bytes, or `None` to convert. Defaults
            to `None`.
        strip_names: Measure (and return) the file without intermediate tensor names,
            as kerasopt writes its files (`deployable_bytes`: the full-integer check
            runs on the named file first). Defaults to `True`.

    Raises:
        NotFullIntegerError: A float op is left in the int8 file.

    Example:

    >>> from kerasopt.export import measure_int8
    >>> result = measure_int8(model, data.x_train, data.x_test, data.y_test)  # doctest: +SKIP
    >>> result.keras_accuracy, result.tflite.accuracy, result.tflite.bytes  # doctest: +SKIP
    """
    probabilities = model.predict(x_test, batch_size=batch_size, verbose=0)
    if content is None:
        content = convert_to_tflite(model, "int8", representative_data=x_train, seed=seed)
    content = deployable_bytes(content, "int8", strip_names=strip_names)
    tflite = measure_tflite(
        content,
        x_test,
        y_test,
        variant="int8",
        reference_probabilities=probabilities,
        require_full_integer=True,
        latency_runs=latency_runs,
    )
    keras_accuracy = float(np.mean(np.argmax(probabilities, -1) == np.asarray(y_test)))
    return Int8Measurement(probabilities, keras_accuracy, content, tflite)
