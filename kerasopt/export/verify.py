"""`verify_tflite`: one call that measures a TFLite model the way a report shows it."""

from __future__ import annotations

import numpy as np

from kerasopt.export.full_integer_check import check_full_integer
from kerasopt.export.litert_evaluator import LiteRTEvaluator, score_probabilities


def verify_tflite(
    model_content: bytes,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    reference_probabilities: np.ndarray | None = None,
    require_full_integer: bool = False,
    latency_runs: int = 100,
    keep_probabilities: bool = False,
) -> dict:
    """Accuracy, agreement, sizes and latency of a TFLite model on LiteRT.

    With `require_full_integer=True` the model must pass `check_full_integer`
    (raises `NotFullIntegerError` otherwise), and the result says so. With
    `keep_probabilities=True` the LiteRT probabilities on `x_test` are returned under
    `"probabilities"`, so a caller that analyses them does not run the model again.

    Example:

    >>> result = verify_tflite(tflite_bytes, data.x_test, data.y_test)  # doctest: +SKIP
    >>> sorted(result)  # doctest: +SKIP
    ['accuracy', 'agreement', 'bytes', 'gzip_bytes', 'latency_us']
    """
    if require_full_integer:
        check_full_integer(model_content)
    evaluator = LiteRTEvaluator(model_content, num_threads=1)
    probabilities = evaluator.predict(x_test)
    result = score_probabilities(probabilities, y_test, reference_probabilities)
    result.update(evaluator.sizes())
    result["latency_us"] = evaluator.latency_us(x_test[0], runs=latency_runs)
    if require_full_integer:
        result["full_integer"] = True
    if keep_probabilities:
        result["probabilities"] = probabilities
    return result
