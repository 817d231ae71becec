"""`measure_tflite`: the one measurement of a TFLite model on LiteRT, as a phone runs it.

Every command that reports a TFLite file (`run`, `compress`, `tune`, `evaluate`,
`export`) measures it here and reports a `DeploymentMetrics`, so the same number has the
same name everywhere: `accuracy`, `agreement`, `bytes`, `gzip_bytes`, `latency_us`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.export.full_integer_check import check_full_integer
from kerasopt.export.litert_evaluator import LiteRTEvaluator, score_probabilities, tflite_sizes

KILOBYTE = 1024


@dataclasses.dataclass(frozen=True)
class DeploymentMetrics:
    """What one TFLite file is on the phone: accuracy, size and speed, measured on LiteRT.

    Attributes:
        variant: `"float32"`, `"dynamic"`, `"float16"` or `"int8"`.
        split: The split `accuracy` was measured on (`"test"`; a search uses `"val"`).
        samples: Samples in that split.
        accuracy: Top-1 accuracy of the LiteRT interpreter's outputs.
        agreement: Share of samples where the TFLite top-1 class equals the reference
            (Keras) model's, or `None` without a reference.
        bytes: Size of the `.tflite` file.
        gzip_bytes: Its size after gzip -9 (what sparsity and clustering save).
        latency_us: Median microseconds for one sample, batch 1, one thread.
        full_integer: Whether the file passed `check_full_integer` (int8 only).
        probabilities: The LiteRT outputs on the split, kept for error analysis; not
            part of `to_dict()`.

    Example:

    >>> metrics = measure_tflite(content, x_test, y_test, variant="int8")  # doctest: +SKIP
    >>> metrics.to_dict()["bytes"]  # doctest: +SKIP
    115464
    """

    variant: str
    split: str
    samples: int
    accuracy: float
    agreement: float | None
    bytes: int
    gzip_bytes: int
    latency_us: float
    full_integer: bool = False
    probabilities: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def kilobytes(self) -> float:
        """`bytes / 1024`."""
        return self.bytes / KILOBYTE

    def to_dict(self) -> dict:
        """The JSON form: every attribute but `probabilities`."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name != "probabilities"
        }


def measure_tflite(
    model_content: bytes,
    x: np.ndarray,
    y: np.ndarray,
    *,
    variant: str = "float32",
    split: str = "test",
    reference_probabilities: np.ndarray | None = None,
    require_full_integer: bool = False,
    latency_runs: int = 100,
    keep_probabilities: bool = False,
) -> DeploymentMetrics:
    """Runs `model_content` on LiteRT over `(x, y)` and measures it.

    With `require_full_integer=True` the file must pass `check_full_integer` first
    (raises `NotFullIntegerError`, naming the float ops, otherwise).

    Args:
        model_content: The `.tflite` bytes.
        x: Raw samples, as the dataset stores them.
        y: Integer labels.
        variant: The export variant, recorded in the result. Defaults to `"float32"`.
        split: Which split `(x, y)` is, recorded in the result. Defaults to `"test"`.
        reference_probabilities: Keras outputs on `x`, for `agreement`. Defaults to
            `None`.
        require_full_integer: Check that no float op is left. Defaults to `False`.
        latency_runs: Single-sample invocations whose median is `latency_us`; `0` skips
            the latency measurement (reported as `nan`). Defaults to `100`.
        keep_probabilities: Keep the LiteRT outputs in `.probabilities`. Defaults to
            `False`.

    Example:

    >>> from kerasopt.export import convert_to_tflite, measure_tflite
    >>> content = convert_to_tflite(model, "int8", representative_data=x_train)  # doctest: +SKIP
    >>> measure_tflite(content, x_test, y_test, variant="int8").accuracy  # doctest: +SKIP
    0.9917
    """
    if require_full_integer:
        check_full_integer(model_content)
    evaluator = LiteRTEvaluator(model_content, num_threads=1)
    probabilities = evaluator.predict(x)
    scores = score_probabilities(probabilities, y, reference_probabilities)
    latency = evaluator.latency_us(x[0], runs=latency_runs) if latency_runs else float("nan")
    return DeploymentMetrics(
        variant=variant,
        split=split,
        samples=int(len(y)),
        accuracy=scores["accuracy"],
        agreement=scores.get("agreement"),
        **tflite_sizes(model_content),
        latency_us=float(latency),
        full_integer=bool(require_full_integer),
        probabilities=probabilities if keep_probabilities else None,
    )
