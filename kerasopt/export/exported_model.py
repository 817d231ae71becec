"""`ExportedModel`: one TFLite file an export plan wrote, and its measurement on LiteRT."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kerasopt.export.deployment_metrics import DeploymentMetrics


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
