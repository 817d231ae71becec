"""`RunReport`: what `run_scenario` measured, typed, and its `report.json` form.

Every `report.json` of `kerasopt run` (images and text alike) has the same top-level
keys, listed in `RUN_REPORT_KEYS`; `schema_version` says which layout a file has
(version 1 is the untyped layout before it; this is version 2).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from importlib import metadata
from pathlib import Path

from kerasopt.compress.compression_report import CompressionReport
from kerasopt.core.atomic import write_text_atomic
from kerasopt.core.tables import text_table
from kerasopt.export.exported_model import ExportedModel
from kerasopt.pipeline.report_markdown import markdown_report
from kerasopt.pipeline.summary_table import SUMMARY_HEADER, summary_rows
from kerasopt.scenarios.report_section import ReportSection

SCHEMA_VERSION = 2
#: Top-level keys of every run's `report.json`; `compression` is added when compressed.
RUN_REPORT_KEYS = (
    "schema_version",
    "scenario",
    "quick",
    "dataset",
    "model",
    "train",
    "keras",
    "tflite",
    "robustness",
    "sections",
    "timings",
    "resources",
    "versions",
)
# mediapipe: the client the phone bundle is checked with.
_PACKAGES = (
    "kerasopt",
    "keras",
    "tensorflow",
    "ai-edge-litert",
    "scikit-learn",
    "numpy",
    "mediapipe",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that decide a run's numbers."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def tensorflow_threads() -> dict[str, int | None]:
    """The CPU count and TensorFlow's thread-pool sizes this process asked for.

    They decide the order of floating-point sums, so the same seed trains a different
    model on one thread than on two: on the compression zoo a cell's mean drop moved by
    up to 1.3 points that way. `None` is TensorFlow's default (one per core).

    Example:

    >>> sorted(tensorflow_threads())
    ['cpu_count', 'inter_op', 'intra_op']
    """
    import tensorflow as tf

    def asked(configured: int, variable: str) -> int | None:
        return configured or int(os.environ.get(variable, 0)) or None

    threading = tf.config.threading
    return {
        "cpu_count": os.cpu_count(),
        "intra_op": asked(threading.get_intra_op_parallelism_threads(), "TF_NUM_INTRAOP_THREADS"),
        "inter_op": asked(threading.get_inter_op_parallelism_threads(), "TF_NUM_INTEROP_THREADS"),
    }


@dataclasses.dataclass(frozen=True)
class KerasResult:
    """The trained Keras model on the test split: `accuracy`, `params`, `bytes` of
    `model.keras`, and its `error_analysis` (`kerasopt.analysis.error_analysis`)."""

    accuracy: float
    params: int
    bytes: int
    error_analysis: dict

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TFLiteResult:
    """One exported TFLite file: its `ExportedModel` and the error analysis of its outputs."""

    exported: ExportedModel
    error_analysis: dict

    @property
    def metrics(self):
        """Its `DeploymentMetrics`."""
        return self.exported.metrics

    def to_dict(self) -> dict:
        """`DeploymentMetrics.to_dict()`, `file`, `notes` and `error_analysis`."""
        return {**self.exported.to_dict(), "error_analysis": self.error_analysis}


@dataclasses.dataclass(frozen=True)
class Robustness:
    """Accuracy of the Keras model under an attack, one point per L∞ budget."""

    attack: str
    input_range: tuple[float, float]
    curve: list[dict]
    model: str = "keras"

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "attack": self.attack,
            "input_range": list(self.input_range),
            "curve": self.curve,
        }


@dataclasses.dataclass(frozen=True)
class RunReport:
    """What one `run_scenario` did and measured.

    Attributes:
        scenario: The scenario's name.
        quick: Whether it was a `--quick` run.
        dataset: `DatasetSplits.describe()` and the scenario's dataset details.
        model: `{"name": <scenario model>, "builder": ..., <builder settings>}`.
        train: The `TrainConfig`, `epochs_run`, `resumed_from_epoch`, `batch_augment`.
        keras: The Keras model's `KerasResult`.
        tflite: Variant -> `TFLiteResult`, in export order.
        robustness: The FGSM curve, or `None` for a scenario without an input range.
        sections: Name -> the scenario's `ReportSection`s.
        timings: Seconds per step and `total`.
        resources: `peak_rss_mb`, the process's peak resident memory during the run.
        versions: `package_versions()`.
        out_dir: The run's folder.
        compression: `compress_model`'s report, when the run compressed the model.

    Example:

    >>> from kerasopt.pipeline import run_scenario
    >>> report = run_scenario("digits", quick=True)  # doctest: +SKIP
    >>> report.tflite["int8"].metrics.accuracy  # doctest: +SKIP
    0.9861
    >>> print(report.summary_table())  # doctest: +SKIP
    """

    scenario: str
    quick: bool
    dataset: dict
    model: dict
    train: dict
    keras: KerasResult
    tflite: dict[str, TFLiteResult]
    robustness: Robustness | None
    sections: dict[str, ReportSection]
    timings: dict[str, float]
    resources: dict[str, float]
    versions: dict[str, str]
    out_dir: Path
    compression: CompressionReport | None = None
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        """The JSON form written to `report.json` (keys: `RUN_REPORT_KEYS`)."""
        result = {
            "schema_version": self.schema_version,
            "scenario": self.scenario,
            "quick": self.quick,
            "dataset": self.dataset,
            "model": self.model,
            "train": self.train,
            "keras": self.keras.to_dict(),
            "tflite": {variant: part.to_dict() for variant, part in self.tflite.items()},
            "robustness": self.robustness.to_dict() if self.robustness else None,
            "sections": {name: section.content for name, section in self.sections.items()},
            "timings": self.timings,
            "resources": self.resources,
            "versions": self.versions,
        }
        if self.compression is not None:
            result["compression"] = self.compression.to_dict()
        return result

    def summary_rows(self) -> list[list[str]]:
        """Rows of the summary table: one for Keras, one per TFLite file."""
        return summary_rows(self)

    def summary_table(self) -> str:
        """What `kerasopt run` prints at the end: the table, then one line per finding."""
        lines = [text_table(SUMMARY_HEADER, self.summary_rows())]
        for variant, part in self.tflite.items():
            if part.exported.notes.get("reason"):
                lines.append(
                    f"\nNot full-integer int8 ({variant}): {part.exported.notes['reason']}"
                )
        lines += [section.summary for section in self.sections.values() if section.summary]
        if self.compression is not None:
            lines += ["\nCompression (artifacts in compressed/):", self.compression.table()]
            if self.compression.budget is not None:
                lines.append(self.compression.budget.line())
        resumed = self.train.get("resumed_from_epoch")
        if resumed:
            lines.append(f"Resumed from epoch {resumed} (state in {self.out_dir / '_backup'}).")
        lines.append(
            f"\nTotal {self.timings['total']:.1f} s. Artifacts and report.md in {self.out_dir}/"
        )
        return "\n".join(lines)

    def write(self, out_dir=None) -> tuple[Path, Path]:
        """Writes `report.json` and `report.md` atomically; returns both paths."""
        out = Path(out_dir) if out_dir is not None else self.out_dir
        data = self.to_dict()
        json_path = write_text_atomic(out / "report.json", json.dumps(data, indent=2) + "\n")
        md_path = write_text_atomic(out / "report.md", markdown_report(self))
        return json_path, md_path
