"""`TransferReport`: a transferred model beside the same architecture trained from scratch."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from kerasopt.core.atomic import write_report_files
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.strategies.ensemble_report import MemberRow

#: Version of the `report.json` layout `TransferReport.to_dict()` writes.
SCHEMA_VERSION = 1
_HEADER = ["model", "params", "keras acc", "litert int8 acc", "int8 bytes", "epochs"]
_HEADER += ["train s"]


@dataclasses.dataclass(frozen=True)
class TransferRow(MemberRow):
    """One model (`"transfer"` or `"scratch"`) measured as Keras and as full-integer int8.

    Attributes:
        epochs: Training epochs, both phases together.
        seconds: Training time in seconds.
    """

    epochs: int = 0
    seconds: float = 0.0


def row_cells(row: TransferRow) -> list[str]:
    """The table cells of one row, in `_HEADER`'s order (shared with the bench table)."""
    return [
        row.role,
        f"{row.params:,}",
        f"{row.keras_accuracy:.4f}",
        f"{row.tflite.accuracy:.4f}",
        f"{row.tflite.bytes:,}",
        str(row.epochs),
        f"{row.seconds:.1f}",
    ]


@dataclasses.dataclass(frozen=True)
class TransferReport:
    """What `transfer` returns.

    Attributes:
        settings: The arguments of the run.
        dataset: `DatasetSplits.describe()` of the target data the models trained on.
        transfer: The transferred model, measured.
        scratch: The same architecture trained from scratch, measured, or `None`.
        unfrozen: Names of the backbone layers fine-tuned in phase 2.
        notes: What a reader should know about the run.
        model: The transferred Keras model (not part of `to_dict()`).

    Example:

    >>> report = transfer("source.keras", data, cut="pool")  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """

    settings: dict[str, Any]
    dataset: dict[str, Any]
    transfer: TransferRow
    scratch: TransferRow | None = None
    unfrozen: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    model: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def gain(self) -> float | None:
        """Transfer int8 accuracy minus scratch's (a fraction, not points), or `None`."""
        if self.scratch is None:
            return None
        return self.transfer.tflite.accuracy - self.scratch.tflite.accuracy

    def rows(self) -> list[TransferRow]:
        """The transfer row, then the scratch row if there is one."""
        return [self.transfer] + ([self.scratch] if self.scratch is not None else [])

    def to_dict(self) -> dict:
        """The JSON form written to `report.json`, with `schema_version`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "transfer": self.transfer.to_dict(),
            "scratch": None if self.scratch is None else self.scratch.to_dict(),
            "int8_accuracy_gain": self.gain,
            "unfrozen": list(self.unfrozen),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """One line: transfer against scratch in LiteRT int8 accuracy points."""
        t = self.transfer.tflite
        text = f"transfer (cut at {self.settings.get('cut')!r}): LiteRT int8 {t.accuracy:.4f}"
        if self.gain is None:
            return text + "; no scratch baseline"
        return text + (
            f" vs scratch {self.scratch.tflite.accuracy:.4f}: {self.gain * 100:+.2f} points "
            f"at {self.settings.get('per_class') or 'all'} labelled images per class"
        )

    def table(self) -> str:
        """The rows as aligned plain text (what the CLI prints)."""
        return text_table(_HEADER, [row_cells(r) for r in self.rows()])

    def to_markdown(self) -> str:
        """`report.md`: settings, the table, the summary line and the notes."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        notes = [f"- {note}" for note in self.notes]
        return "\n".join(
            [
                "# kerasopt transfer",
                "",
                f"Settings: {settings}. Target `{self.dataset['name']}`: "
                f"{self.dataset['sizes']['train']} labelled training images, test split of "
                f"{self.dataset['sizes']['test']}. Fine-tuned backbone layers: "
                f"{', '.join(self.unfrozen) or 'none'}.",
                "",
                *markdown_table(_HEADER, [row_cells(r) for r in self.rows()]),
                "",
                f"{self.summary()}.",
                "",
                *(["Notes:", "", *notes, ""] if notes else []),
                "Every int8 file passed the full-integer check on LiteRT.",
                "",
            ]
        )

    def write(self, out_dir: str | os.PathLike) -> None:
        """Writes `report.json` and `report.md` to `out_dir`, each atomically."""
        write_report_files(out_dir, self.to_dict(), self.to_markdown())
