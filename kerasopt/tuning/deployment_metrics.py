"""`measure_int8`: what a trial's model will be on the phone, measured on LiteRT.

The measurement is `kerasopt.export.measure_tflite`, the one every command uses; this
module adds the int8 export of a trial and the names a spec's objectives use
(`tflite_int8_accuracy`, `int8_kb`, `latency_us`), mapped from `DeploymentMetrics` in
`trial_metrics` and nowhere else.
"""

from __future__ import annotations

from kerasopt.export import DeploymentMetrics, convert_to_tflite, measure_tflite

KILOBYTE = 1024
#: Objectives measured on the int8 TFLite export of the trained model, on LiteRT.
DEPLOYMENT_OBJECTIVES = ("tflite_int8_accuracy", "int8_kb", "latency_us")


def measure_int8(
    model,
    data,
    *,
    seed: int = 0,
    num_calibration: int = 200,
    latency_runs: int = 50,
    split: str = "val",
) -> DeploymentMetrics:
    """Exports `model` to full-integer int8 TFLite and measures it on LiteRT.

    Calibrates on the training split; measures on the validation split by default, so a
    search never looks at the test split (`split="test"` scores the winner).

    Args:
        model: The trained Keras model (pruning already stripped).
        data: Its `DatasetSplits`.
        seed: Seed of the calibration sample. Defaults to `0`.
        num_calibration: Calibration samples. Defaults to `200`.
        latency_runs: Single-sample invocations whose median is `latency_us`. Defaults
            to `50`.
        split: `"val"` or `"test"`. Defaults to `"val"`.

    Example:

    >>> from kerasopt.tuning import measure_int8, trial_metrics
    >>> metrics = measure_int8(model, data)  # doctest: +SKIP
    >>> sorted(trial_metrics(metrics))  # doctest: +SKIP
    ['int8_gzip_kb', 'int8_kb', 'latency_us', 'tflite_int8_accuracy']
    """
    content = convert_to_tflite(
        model,
        "int8",
        representative_data=data.x_train,
        num_calibration=num_calibration,
        seed=seed,
        strip_names=True,
    )
    x, y = (data.x_val, data.y_val) if split == "val" else (data.x_test, data.y_test)
    return measure_tflite(content, x, y, variant="int8", split=split, latency_runs=latency_runs)


def trial_metrics(metrics: DeploymentMetrics) -> dict[str, float]:
    """A trial's deployment metrics under the names spec objectives and budgets use.

    Example:

    >>> from kerasopt.export import DeploymentMetrics
    >>> from kerasopt.tuning import trial_metrics
    >>> metrics = DeploymentMetrics("int8", "val", 10, 0.9, None, 2048, 1024, 30.0)
    >>> trial_metrics(metrics)["int8_kb"]
    2.0
    """
    return {
        "tflite_int8_accuracy": metrics.accuracy,
        "int8_kb": metrics.kilobytes,
        "int8_gzip_kb": metrics.gzip_bytes / KILOBYTE,
        "latency_us": metrics.latency_us,
    }
