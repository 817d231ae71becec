"""`measure_int8`: what a trial's model will be on the phone, measured on LiteRT."""

from __future__ import annotations

import numpy as np

KILOBYTE = 1024


def measure_int8(
    model, data, *, seed: int = 0, num_calibration: int = 200, latency_runs: int = 50
) -> dict[str, float]:
    """Exports `model` to full-integer int8 TFLite and measures it on LiteRT.

    Accuracy is on the validation split, so a search never looks at the test split.

    Returns:
        `tflite_int8_accuracy`, `int8_kb`, `int8_gzip_kb` and `latency_us` (median of
        `latency_runs` single-sample invocations on one thread).

    Example:

    >>> from kerasopt.tuning import measure_int8
    >>> metrics = measure_int8(model, data)  # doctest: +SKIP
    >>> sorted(metrics)  # doctest: +SKIP
    ['int8_gzip_kb', 'int8_kb', 'latency_us', 'tflite_int8_accuracy']
    """
    from kerasopt.export import LiteRTEvaluator, convert_to_tflite

    content = convert_to_tflite(
        model,
        "int8",
        representative_data=data.x_train,
        num_calibration=num_calibration,
        seed=seed,
    )
    evaluator = LiteRTEvaluator(content, num_threads=1)
    probabilities = evaluator.predict(data.x_val)
    sizes = evaluator.sizes()
    return {
        "tflite_int8_accuracy": float(np.mean(probabilities.argmax(-1) == data.y_val)),
        "int8_kb": sizes["bytes"] / KILOBYTE,
        "int8_gzip_kb": sizes["gzip_bytes"] / KILOBYTE,
        "latency_us": float(evaluator.latency_us(data.x_val[0], runs=latency_runs)),
    }


def budget_overshoot(metrics: dict, budget) -> dict[str, float]:
    """Relative overshoot of each budgeted quantity; empty when within budget.

    Example:

    >>> from kerasopt.tuning.search_spec import Budget
    >>> budget_overshoot({"int8_kb": 150.0, "latency_us": 9.0}, Budget(max_int8_kb=100))
    {'int8_kb': 0.5}
    """
    limits = {"int8_kb": budget.max_int8_kb, "latency_us": budget.max_latency_us}
    return {
        key: metrics[key] / limit - 1.0
        for key, limit in limits.items()
        if limit is not None and metrics[key] > limit
    }


#: Opens the reason of every trial failed for being over a deployment budget.
OVER_BUDGET = "over the deployment budget"


def describe_overshoot(metrics: dict, overshoot: dict, budget) -> str:
    """One line naming each quantity over budget, with its value and the limit."""
    limits = {"int8_kb": budget.max_int8_kb, "latency_us": budget.max_latency_us}
    units = {"int8_kb": "KB", "latency_us": "µs"}
    parts = [
        f"{key}={metrics[key]:.1f} {units[key]} > max {limits[key]:g} {units[key]}"
        for key in overshoot
    ]
    return f"{OVER_BUDGET}: " + "; ".join(parts)
