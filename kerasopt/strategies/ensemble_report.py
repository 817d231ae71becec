"""`EnsembleReport`: every member and the combined model, as Keras and as int8 on LiteRT."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from kerasopt.core.atomic import write_report_files
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.export import DeploymentMetrics

#: Version of the `report.json` layout `EnsembleReport.to_dict()` writes.
SCHEMA_VERSION = 1
_HEADER = ["model", "weight", "params", "keras acc", "litert int8 acc", "int8 bytes"]
_HEADER += ["latency µs"]


@dataclasses.dataclass(frozen=True)
class MemberRow:
    """One member (or the combined model) measured as Keras and as full-integer int8.

    Attributes:
        role: `"member 0"`, ... or `"ensemble"`.
        params: Parameter count.
        keras_accuracy: Test accuracy of the Keras model.
        tflite: Its int8 file measured by `measure_tflite` on the test split.
        weight: The member's SAMME alpha (AdaBoost), or `None`.
    """

    role: str
    params: int
    keras_accuracy: float
    tflite: DeploymentMetrics
    weight: float | None = None

    def to_dict(self) -> dict:
        """The JSON form, the TFLite measurement under `tflite`."""
        return {**dataclasses.asdict(self), "tflite": self.tflite.to_dict()}


@dataclasses.dataclass(frozen=True)
class EnsembleReport:
    """What `ensemble` returns.

    Attributes:
        settings: The arguments of the run.
        dataset: `DatasetSplits.describe()` of the data.
        members: Each member, measured.
        ensemble: The combined model, measured.
        combiner: The layer that combines the members in the exported model.
        notes: Members dropped, errors floored, combiner choices.
        vote_keras_accuracy: Keras test accuracy of the SAMME weighted vote (AdaBoost),
            or `None`.
        train_seconds: Training time of all members.
        model: The combined Keras model (not part of `to_dict()`).

    Example:

    >>> report = ensemble(data, method="bagging", members=5)  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """

    settings: dict[str, Any]
    dataset: dict[str, Any]
    members: list[MemberRow]
    ensemble: MemberRow
    combiner: str
    notes: list[str] = dataclasses.field(default_factory=list)
    vote_keras_accuracy: float | None = None
    train_seconds: float = 0.0
    model: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def best_member(self) -> MemberRow:
        """The member with the highest LiteRT int8 accuracy."""
        return max(self.members, key=lambda m: m.tflite.accuracy)

    @property
    def gain(self) -> float:
        """Ensemble int8 accuracy minus the best member's (fraction, not points)."""
        return self.ensemble.tflite.accuracy - self.best_member.tflite.accuracy

    @property
    def bytes_ratio(self) -> float:
        """Ensemble int8 bytes / the mean member's int8 bytes."""
        mean = sum(m.tflite.bytes for m in self.members) / len(self.members)
        return self.ensemble.tflite.bytes / mean

    @property
    def latency_ratio(self) -> float:
        """Ensemble LiteRT latency / the mean member's."""
        mean = sum(m.tflite.latency_us for m in self.members) / len(self.members)
        return self.ensemble.tflite.latency_us / mean

    def to_dict(self) -> dict:
        """The JSON form written to `report.json`, with `schema_version`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "combiner": self.combiner,
            "members": [m.to_dict() for m in self.members],
            "ensemble": self.ensemble.to_dict(),
            "best_member": self.best_member.role,
            "int8_accuracy_gain": self.gain,
            "int8_bytes_ratio": self.bytes_ratio,
            "latency_ratio": self.latency_ratio,
            "vote_keras_accuracy": self.vote_keras_accuracy,
            "train_seconds": self.train_seconds,
            "notes": list(self.notes),
        }

    def _cells(self) -> list[list[str]]:
        return [
            [
                m.role,
                "-" if m.weight is None else f"{m.weight:.3f}",
                f"{m.params:,}",
                f"{m.keras_accuracy:.4f}",
                f"{m.tflite.accuracy:.4f}",
                f"{m.tflite.bytes:,}",
                f"{m.tflite.latency_us:.0f}",
            ]
            for m in [*self.members, self.ensemble]
        ]

    def summary(self) -> str:
        """One line: the gain over the best member, bytes and latency ratios."""
        text = (
            f"ensemble vs best member ({self.best_member.role}): "
            f"{self.gain * 100:+.2f} points (LiteRT int8); bytes x{self.bytes_ratio:.2f}, "
            f"latency x{self.latency_ratio:.2f} of one member"
        )
        if self.vote_keras_accuracy is not None:
            text += f"; SAMME vote (Keras) {self.vote_keras_accuracy:.4f}"
        return text

    def table(self) -> str:
        """The members and the ensemble as aligned plain text (what the CLI prints)."""
        return text_table(_HEADER, self._cells())

    def to_markdown(self) -> str:
        """`report.md`: settings, the table, the summary line and the notes."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        notes = [f"- {note}" for note in self.notes]
        return "\n".join(
            [
                f"# kerasopt ensemble ({self.settings.get('method')})",
                "",
                f"Settings: {settings}. Dataset `{self.dataset['name']}`, test split of "
                f"{self.dataset['sizes']['test']}. Combiner: `{self.combiner}`.",
                "",
                *markdown_table(_HEADER, self._cells()),
                "",
                f"{self.summary()}.",
                "",
                *(["Notes:", "", *notes, ""] if notes else []),
                "Every int8 file passed the full-integer check. Latency is the median per "
                "sample, batch 1, one thread on LiteRT.",
                "",
            ]
        )

    def write(self, out_dir: str | os.PathLike) -> None:
        """Writes `report.json` and `report.md` to `out_dir`, each atomically."""
        write_report_files(out_dir, self.to_dict(), self.to_markdown())
