"""`FewShotReport`: held-out episode accuracy per method and each adapted model as int8."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from kerasopt.core.atomic import write_report_files
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.export import DeploymentMetrics
from kerasopt.strategies.fewshot_evaluation import MethodScore

#: Version of the `report.json` layout `FewShotReport.to_dict()` writes.
SCHEMA_VERSION = 1
_HEADER = ["start", "steps", "query acc", "± 95% CI", "phone keras acc", "litert int8 acc"]
_HEADER += ["int8 bytes", "latency µs"]


@dataclasses.dataclass(frozen=True)
class PhoneRow:
    """One method adapted on `shots` training images per held-out class, as int8 on LiteRT.

    Attributes:
        method: `"reptile"`, `"scratch"` or `"pretrained"`.
        keras_accuracy: Accuracy of the adapted Keras model on the held-out test images.
        tflite: Its full-integer int8 file measured by `measure_tflite` on those images.
    """

    method: str
    keras_accuracy: float
    tflite: DeploymentMetrics

    def to_dict(self) -> dict:
        """The JSON form, the TFLite measurement under `tflite`."""
        return {**dataclasses.asdict(self), "tflite": self.tflite.to_dict()}


@dataclasses.dataclass(frozen=True)
class FewShotReport:
    """What `fewshot` returns.

    Attributes:
        settings: The arguments of the run.
        dataset: `DatasetSplits.describe()` of the data.
        meta_classes: Class ids meta-trained (and pre-trained) on.
        test_classes: Held-out class ids the episodes and the phone model use.
        scores: Query accuracy over the held-out episodes, per starting point, after
            `adapt_steps` steps.
        long_scores: The same episodes after `long_adapt_steps` steps (empty if skipped).
        phone: Each starting point adapted on the same shots, measured as int8.
        timings: Seconds of meta-training, pre-training, evaluation and export, and
            meta-iterations per second.
        notes: What a reader should know about the comparison.
        model: The meta-learned initialisation as a Keras model (not in `to_dict()`).

    Example:

    >>> report = fewshot(data, ways=5, shots=1)  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """

    settings: dict[str, Any]
    dataset: dict[str, Any]
    meta_classes: list[int]
    test_classes: list[int]
    scores: list[MethodScore]
    phone: list[PhoneRow]
    timings: dict[str, float]
    long_scores: list[MethodScore] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    model: Any = dataclasses.field(default=None, repr=False, compare=False)

    def score(self, method: str, *, long: bool = False) -> MethodScore:
        """The `MethodScore` of `method` (after the long adaptation with `long=True`)."""
        return next(s for s in (self.long_scores if long else self.scores) if s.method == method)

    def gain(self, baseline: str, *, long: bool = False) -> float:
        """Reptile's mean query accuracy minus `baseline`'s (a fraction, not points)."""
        return self.score("reptile", long=long).mean - self.score(baseline, long=long).mean

    def to_dict(self) -> dict:
        """The JSON form written to `report.json`, with `schema_version`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "meta_classes": list(self.meta_classes),
            "test_classes": list(self.test_classes),
            "scores": [s.to_dict() for s in self.scores],
            "gain_over_scratch": self.gain("scratch"),
            "gain_over_pretrained": self.gain("pretrained"),
            "long_scores": [s.to_dict() for s in self.long_scores],
            "long_gain_over_scratch": self.gain("scratch", long=True) if self.long_scores else None,
            "long_gain_over_pretrained": (
                self.gain("pretrained", long=True) if self.long_scores else None
            ),
            "phone": [p.to_dict() for p in self.phone],
            "timings": dict(self.timings),
            "notes": list(self.notes),
        }

    def _cells(self) -> list[list[str]]:
        phone = {p.method: p for p in self.phone}
        rows = []
        steps = self.settings.get("adapt_steps")
        for s in self.scores:
            p = phone.get(s.method)
            measured = (
                [
                    f"{p.keras_accuracy:.4f}",
                    f"{p.tflite.accuracy:.4f}",
                    f"{p.tflite.bytes:,}",
                    f"{p.tflite.latency_us:.0f}",
                ]
                if p
                else ["-"] * 4
            )
            rows.append([s.method, str(steps), f"{s.mean:.4f}", f"{s.ci95:.4f}", *measured])
        long_steps = self.settings.get("long_adapt_steps")
        for s in self.long_scores:
            rows.append([s.method, str(long_steps), f"{s.mean:.4f}", f"{s.ci95:.4f}"])
            rows[-1] += ["-"] * 4
        return rows

    def summary(self) -> str:
        """One line: Reptile's gain over scratch and over the pre-trained fine-tune."""
        s = self.settings
        text = (
            f"{s.get('ways')}-way {s.get('shots')}-shot on held-out classes "
            f"{self.test_classes}, {s.get('adapt_steps')} steps: reptile "
            f"{self.gain('scratch') * 100:+.2f} points vs scratch, "
            f"{self.gain('pretrained') * 100:+.2f} points vs pre-trained fine-tune "
            f"({len(self.score('reptile').accuracies)} episodes)"
        )
        if self.long_scores:
            text += (
                f"; {s.get('long_adapt_steps')} steps: {self.gain('scratch', long=True) * 100:+.2f}"
                f" vs scratch, {self.gain('pretrained', long=True) * 100:+.2f} vs pre-trained"
            )
        return text

    def table(self) -> str:
        """The methods as aligned plain text (what the CLI prints)."""
        return text_table(_HEADER, self._cells())

    def to_markdown(self) -> str:
        """`report.md`: settings, the table, the summary line and the notes."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        timings = ", ".join(f"{k} {v:.1f}" for k, v in self.timings.items())
        notes = [f"- {note}" for note in self.notes]
        return "\n".join(
            [
                f"# kerasopt fewshot ({self.settings.get('method')})",
                "",
                f"Settings: {settings}. Dataset `{self.dataset['name']}`: meta-train classes "
                f"{self.meta_classes}, held-out classes {self.test_classes}.",
                "",
                *markdown_table(_HEADER, self._cells()),
                "",
                f"{self.summary()}.",
                "",
                f"Timings: {timings}.",
                "",
                *(["Notes:", "", *notes, ""] if notes else []),
                "Query accuracy: mean over the held-out episodes, each method adapted from its "
                "own start on the same support set with the same optimizer and number of "
                "steps (the steps column). Phone "
                "columns: the start adapted on the same shots per held-out class, scored on "
                "every held-out test image; every int8 file passed the full-integer check. "
                "Latency is the median per sample, batch 1, one thread on LiteRT.",
                "",
            ]
        )

    def write(self, out_dir: str | os.PathLike) -> None:
        """Writes `report.json` and `report.md` to `out_dir`, each atomically."""
        write_report_files(out_dir, self.to_dict(), self.to_markdown())
