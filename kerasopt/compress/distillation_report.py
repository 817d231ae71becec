"""`DistillationReport`: teacher and students of `distill`, measured as int8 files on LiteRT."""

from __future__ import annotations

import dataclasses
from typing import Any

from kerasopt.core.tables import markdown_table, text_table
from kerasopt.export import DeploymentMetrics

#: Version of the `report.json` layout `DistillationReport.to_dict()` writes.
SCHEMA_VERSION = 1
_HEADER = ["model", "params", "keras acc", "litert int8 acc", "int8 bytes", "x teacher"]
_HEADER += ["latency µs", "train s"]


@dataclasses.dataclass(frozen=True)
class MeasuredModel:
    """One model of a distillation run, measured as Keras and as full-integer int8 LiteRT.

    Attributes:
        role: `"teacher"`, `"student (distilled)"` or `"student (labels only)"`.
        name: The Keras model's name.
        params: Its parameter count.
        keras_accuracy: Test accuracy of the Keras model.
        tflite: Its int8 TFLite file measured by `measure_tflite` on the test split.
        train_seconds: Seconds of training, or `None` for the teacher.
    """

    role: str
    name: str
    params: int
    keras_accuracy: float
    tflite: DeploymentMetrics
    train_seconds: float | None = None

    def to_dict(self) -> dict:
        """The JSON form, the TFLite measurement under `tflite`."""
        return {**dataclasses.asdict(self), "tflite": self.tflite.to_dict()}


@dataclasses.dataclass(frozen=True)
class DistillationReport:
    """What `distill` returns: teacher, distilled student and label-only student.

    Attributes:
        settings: The arguments of the run.
        dataset: `DatasetSplits.describe()` of the data.
        teacher: The teacher, measured.
        student: The student trained with the teacher.
        baseline: The same student trained on labels only, or `None`.
        model: The distilled student (`student.keras`; not part of `to_dict()`).

    Example:

    >>> report = distill(teacher, data, student=0.25)  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """

    settings: dict[str, Any]
    dataset: dict[str, Any]
    teacher: MeasuredModel
    student: MeasuredModel
    baseline: MeasuredModel | None
    model: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def bytes_ratio(self) -> float:
        """Student int8 bytes / teacher int8 bytes."""
        return self.student.tflite.bytes / self.teacher.tflite.bytes

    @property
    def gain(self) -> float | None:
        """LiteRT int8 accuracy of the distilled student minus the label-only student's."""
        if self.baseline is None:
            return None
        return self.student.tflite.accuracy - self.baseline.tflite.accuracy

    def rows(self) -> list[MeasuredModel]:
        return [m for m in (self.teacher, self.student, self.baseline) if m is not None]

    def to_dict(self) -> dict:
        """The JSON form written to `report.json`, with `schema_version`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "models": [m.to_dict() for m in self.rows()],
            "int8_bytes_ratio": self.bytes_ratio,
            "int8_accuracy_gain": self.gain,
        }

    def _cells(self) -> list[list[str]]:
        teacher_bytes = self.teacher.tflite.bytes
        return [
            [
                m.role,
                f"{m.params:,}",
                f"{m.keras_accuracy:.4f}",
                f"{m.tflite.accuracy:.4f}",
                f"{m.tflite.bytes:,}",
                f"{m.tflite.bytes / teacher_bytes:.3f}",
                f"{m.tflite.latency_us:.0f}",
                "-" if m.train_seconds is None else f"{m.train_seconds:.1f}",
            ]
            for m in self.rows()
        ]

    def summary(self) -> str:
        """One line: the size ratio and what the teacher bought."""
        text = f"student int8 / teacher int8 bytes = {self.bytes_ratio:.3f}"
        if self.gain is not None:
            text += f"; distillation vs labels only: {self.gain * 100:+.2f} points (LiteRT int8)"
        return text

    def table(self) -> str:
        """The models as aligned plain text (what `kerasopt distill` prints)."""
        return text_table(_HEADER, self._cells())

    def to_markdown(self) -> str:
        """`report.md`: settings, the table and the summary line."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return "\n".join(
            [
                "# kerasopt distill",
                "",
                f"Settings: {settings}. Dataset `{self.dataset['name']}`, test split of "
                f"{self.dataset['sizes']['test']}.",
                "",
                *markdown_table(_HEADER, self._cells()),
                "",
                f"{self.summary()}.",
                "",
                "Every int8 file passed the full-integer check. Accuracy is on the test "
                "split; latency is the median per sample, batch 1, one thread on LiteRT.",
                "",
            ]
        )
