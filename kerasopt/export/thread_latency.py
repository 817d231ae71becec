"""`measure_latency_by_threads`: LiteRT latency of one `.tflite` file at several thread counts."""

from __future__ import annotations

import os

import numpy as np

from kerasopt.core.validation import check_int, check_positive_int, invalid_value
from kerasopt.export.litert_evaluator import LiteRTEvaluator


def measure_latency_by_threads(
    content: bytes | str | os.PathLike,
    x: np.ndarray,
    threads: tuple[int, ...] = (1, 2, 4),
    runs: int = 50,
    warmup: int = 10,
) -> dict[int, float]:
    """Median microseconds per image (batch 1) on LiteRT, for each thread count.

    Each count gets its own interpreter (`LiteRTEvaluator(num_threads=...)`) timing the
    first sample of `x`. More threads than the machine has cores (`os.cpu_count()`) only
    add contention, and a model this small often gains nothing from a second thread.

    Args:
        content: TFLite bytes or the path of a `.tflite` file.
        x: Raw samples as the dataset stores them (a batch); the first one is timed.
        threads: Thread counts to time. Defaults to `(1, 2, 4)`.
        runs: Timed invocations per count; the median is reported. Defaults to `50`.
        warmup: Untimed invocations first. Defaults to `10`.

    Example:

    >>> from kerasopt.export.thread_latency import measure_latency_by_threads
    >>> measure_latency_by_threads("model_int8.tflite", x_test)  # doctest: +SKIP
    {1: 41.2, 2: 35.9, 4: 37.0}
    """
    owner = "measure_latency_by_threads"
    if isinstance(threads, int) or not threads:
        raise invalid_value(
            owner,
            "threads to be a non-empty tuple of counts",
            f"threads={threads!r}",
            "Pass threads=(1, 2, 4).",
        )
    counts = [check_positive_int(owner, "threads", t, example=1) for t in threads]
    runs = check_positive_int(owner, "runs", runs, example=50)
    warmup = check_int(owner, "warmup", warmup, 0)
    evaluators = {t: LiteRTEvaluator(content, num_threads=t) for t in counts}
    expected = tuple(int(d) for d in evaluators[counts[0]].input_details["shape_signature"][1:])
    sample = np.asarray(x)
    if sample.ndim != len(expected) + 1 or len(sample) == 0 or not _fits(sample.shape, expected):
        raise invalid_value(
            owner,
            f"x to be a non-empty batch of samples of shape {expected} (-1: any size)",
            f"x.shape={sample.shape}",
            "Pass the test split of the dataset the model was trained on, e.g. data.x_test.",
        )
    return {t: e.latency_us(sample[0], warmup=warmup, runs=runs) for t, e in evaluators.items()}


def _fits(shape: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return all(e in (-1, s) for s, e in zip(shape[1:], expected, strict=True))
