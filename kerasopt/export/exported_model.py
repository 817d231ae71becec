"""`ExportedModel`: one TFLite file an export plan wrote, and its measurement on LiteRT."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kerasopt.core.atomic import write_bytes_atomic
from kerasopt.export.deployment_metrics import DeploymentMetrics, measure_tflite
from kerasopt.export.tensor_names import deployable_bytes


@dataclasses.dataclass(frozen=True)
class ExportedModel:
    """A `.tflite` file written by an export plan, measured once by `measure_tflite`.

    Attributes:
        variant: `"float32"`, `"dynamic"`, `"float16"` or `"int8"`.
        file_name: The file's name inside the run's folder (`"model_int8.tflite"`).
        metrics: Its `DeploymentMetrics` on the test split, LiteRT outputs kept in
            `metrics.probabilities` for the error analysis.
        notes: What a reader needs besides the numbers: a text model's `reason` for not
            being full-integer int8 and the `blocking_layers`. Empty for most files.
        convert_seconds: Seconds spent converting (and writing) the file.
        measure_seconds: Seconds spent in `measure_tflite`.

    Example:

    >>> from kerasopt.export import TFLiteExportPlan
    >>> exported = TFLiteExportPlan().export(model, data, "out", seed=0)  # doctest: +SKIP
    >>> [(e.variant, e.metrics.bytes) for e in exported]  # doctest: +SKIP
    [('float32', 452312), ('dynamic', 119368), ('float16', 228136), ('int8', 121560)]
    """

    variant: str
    file_name: str
    metrics: DeploymentMetrics
    notes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    convert_seconds: float = 0.0
    measure_seconds: float = 0.0

    def to_dict(self) -> dict:
        """The JSON form: the metrics' fields, then `file` and `notes`."""
        return {**self.metrics.to_dict(), "file": self.file_name, "notes": dict(self.notes)}


def write_and_measure(
    content: bytes,
    variant: str,
    out_dir: str | os.PathLike,
    splits,
    *,
    started: float,
    reference_probabilities: np.ndarray | None = None,
    notes: Mapping[str, Any] | None = None,
    latency_runs: int = 100,
    strip_names: bool = True,
) -> ExportedModel:
    """Writes `model_<variant>.tflite` atomically and measures it once on the test split.

    What every export plan does with each file it converts: the int8 file must pass the
    full-integer check (on the converter's file, so that an error names the layers),
    the debug names of intermediate tensors are then dropped (`strip_tensor_names`),
    and the LiteRT outputs of the file written are kept for the error analysis.

    Args:
        content: The `.tflite` bytes.
        variant: `"float32"`, `"dynamic"`, `"float16"` or `"int8"`.
        out_dir: The run's folder.
        splits: A `DatasetSplits`; `x_test`/`y_test` are measured.
        started: `time.perf_counter()` when the conversion began, so `convert_seconds`
            covers converting and writing.
        reference_probabilities: Keras outputs on `x_test`, for `agreement`. Defaults to
            `None`.
        notes: The file's `notes`. Defaults to `None` (empty).
        latency_runs: Passed to `measure_tflite`. Defaults to `100`.
        strip_names: Write the file without intermediate tensor names. Defaults to
            `True`.

    Example:

    >>> tick = time.perf_counter()
    >>> content = convert_to_tflite(model, "int8", representative_data=x)  # doctest: +SKIP
    >>> write_and_measure(content, "int8", "out", data, started=tick)  # doctest: +SKIP
    """
    file_name = f"model_{variant}.tflite"
    content = deployable_bytes(content, variant, strip_names=strip_names)
    write_bytes_atomic(Path(out_dir) / file_name, content)
    tock = time.perf_counter()
    metrics = measure_tflite(
        content,
        splits.x_test,
        splits.y_test,
        variant=variant,
        reference_probabilities=reference_probabilities,
        require_full_integer=variant == "int8",
        latency_runs=latency_runs,
        keep_probabilities=True,
    )
    return ExportedModel(
        variant,
        file_name,
        metrics,
        dict(notes or {}),
        convert_seconds=tock - started,
        measure_seconds=time.perf_counter() - tock,
    )
