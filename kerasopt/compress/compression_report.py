"""`CompressionReport`: what `compress_model` measured, stage by stage, and its tables.

Every stage's TFLite file is measured by `kerasopt.export.measure_tflite`, so its numbers
carry the key vocabulary of every kerasopt `report.json` (`accuracy`, `agreement`,
`bytes`, `gzip_bytes`, `latency_us`, ...) under the stage's `tflite` key.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from kerasopt.compress.accuracy_budget import BudgetVerdict, StageFineTuning
from kerasopt.compress.pruning_sensitivity import SensitivityReport
from kerasopt.core.atomic import atomic_path
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.export.deployment_metrics import DeploymentMetrics

#: Version of the `report.json` layout `CompressionReport.to_dict()` writes.
SCHEMA_VERSION = 3

_HEADER = [
    "stage",
    "val acc",
    "keras acc",
    "litert int8 acc",
    "sparsity",
    "unique w/kernel",
    "params",
    "bytes",
    "gzip bytes",
    "latency µs",
    "fine-tuning",
]


@dataclasses.dataclass(frozen=True)
class CompressionStage:
    """One compression stage: its Keras model's numbers and its int8 TFLite file's.

    Attributes:
        name: `"dense"`, `"channels -50%"`, `"prune 80% (native)"`, `"cluster 8"`,
            `"QAT"`, `"PQAT"` or `"CQAT"`.
        keras_accuracy: Test accuracy of the stage's Keras model.
        kernel_sparsity: Share of exact zeros over all Conv/Dense kernels.
        max_unique_weights_per_kernel: Most distinct values in one kernel (clustering
            brings it down to the number of clusters).
        params: Parameters of the stage's model.
        tflite: The full-integer int8 TFLite file, measured on LiteRT.
        val_accuracy: Validation accuracy of the stage's Keras model (what the accuracy
            budget is judged on), or `None`.
        fine_tuning: Epochs and seconds the stage's fine-tuning spent, or `None`.

    Example:

    >>> report.stages[-1].tflite.gzip_bytes  # doctest: +SKIP
    72214
    """

    name: str
    keras_accuracy: float
    kernel_sparsity: float
    max_unique_weights_per_kernel: int
    params: int
    tflite: DeploymentMetrics
    val_accuracy: float | None = None
    fine_tuning: StageFineTuning | None = None

    def to_dict(self) -> dict:
        """The JSON form: the stage's numbers, the TFLite measurement under `tflite`."""
        return {
            "stage": self.name,
            "val_accuracy": self.val_accuracy,
            "keras_accuracy": self.keras_accuracy,
            "kernel_sparsity": self.kernel_sparsity,
            "max_unique_weights_per_kernel": self.max_unique_weights_per_kernel,
            "params": self.params,
            "tflite": self.tflite.to_dict(),
            "fine_tuning": None if self.fine_tuning is None else self.fine_tuning.to_dict(),
        }


@dataclasses.dataclass(frozen=True)
class CompressionReport:
    """What `compress_model` returns.

    Attributes:
        settings: The arguments of the run (`prune`, `structure`, `backend`, ...).
        dataset: `DatasetSplits.describe()` of the data.
        float32_baseline: The dense model's float32 TFLite file, the size baseline.
        stages: One `CompressionStage` per stage, `dense` first.
        sparsity: Per-layer sparsity table of the last stage (`sparsity_table`).
        left_dense: Layer name -> why the m:n structure left it dense.
        timings: Seconds per stage and `total`.
        budget: Whether the accuracy budget held (`BudgetVerdict`), or `None` when the
            run had none.
        allocation: Layer -> sparsity chosen by `allocate_sparsity`, or `None`.
        sensitivity: The `SensitivityReport` the allocation followed, or `None`.
        channel_allocation: Layer -> fraction of filters/units removed, chosen by
            `allocate_channels`, or `None` (one uniform fraction, or no channel stage).
        channel_sensitivity: The `SensitivityReport` it followed, or `None`.
        model: The last stage's Keras model (not part of `to_dict()`).

    Example:

    >>> report = compress_model(model, data, prune=0.8)  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    >>> report.to_dict()["stages"][-1]["tflite"]["accuracy"]  # doctest: +SKIP
    0.975
    """

    settings: dict[str, Any]
    dataset: dict[str, Any]
    float32_baseline: DeploymentMetrics
    stages: tuple[CompressionStage, ...]
    sparsity: list[dict]
    left_dense: dict[str, str]
    timings: dict[str, float]
    budget: BudgetVerdict | None = None
    allocation: dict[str, float] | None = None
    sensitivity: SensitivityReport | None = None
    channel_allocation: dict[str, float] | None = None
    channel_sensitivity: SensitivityReport | None = None
    model: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def last(self) -> CompressionStage:
        """The last stage: the one `model.keras` and `model_int8.tflite` hold."""
        return self.stages[-1]

    @property
    def gzip_vs_dense_float32(self) -> float:
        """gzip size of the last stage's int8 file over the dense float32 file's."""
        return self.last.tflite.gzip_bytes / self.float32_baseline.gzip_bytes

    def to_dict(self) -> dict:
        """The JSON form written to `report.json`, with `schema_version`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "float32_baseline": self.float32_baseline.to_dict(),
            "stages": [stage.to_dict() for stage in self.stages],
            "gzip_vs_dense_float32": self.gzip_vs_dense_float32,
            "sparsity": self.sparsity,
            "left_dense": dict(self.left_dense),
            "timings": dict(self.timings),
            "budget": None if self.budget is None else self.budget.to_dict(),
            "allocation": None if self.allocation is None else dict(self.allocation),
            "sensitivity": None if self.sensitivity is None else self.sensitivity.to_dict(),
            "channel_allocation": (
                None if self.channel_allocation is None else dict(self.channel_allocation)
            ),
            "channel_sensitivity": (
                None if self.channel_sensitivity is None else self.channel_sensitivity.to_dict()
            ),
        }

    def table(self) -> str:
        """The stage table as aligned plain text (what `kerasopt compress` prints)."""
        return format_stages(self)

    def markdown(self) -> str:
        """`report.md`: see `markdown_report`."""
        return markdown_report(self)


def stage_rows(report: CompressionReport) -> list[list[str]]:
    """One row per stage of a `CompressionReport`, the float32 baseline first."""
    base = report.float32_baseline
    rows = [
        [
            "dense float32 (baseline)",
            "-",
            "-",
            f"{base.accuracy:.4f}",
            "-",
            "-",
            "-",
            f"{base.bytes:,}",
            f"{base.gzip_bytes:,}",
            f"{base.latency_us:.0f}",
            "-",
        ]
    ]
    for stage in report.stages:
        lite = stage.tflite
        rows.append(
            [
                f"{stage.name} int8",
                "-" if stage.val_accuracy is None else f"{stage.val_accuracy:.4f}",
                f"{stage.keras_accuracy:.4f}",
                f"{lite.accuracy:.4f}",
                f"{stage.kernel_sparsity:.1%}",
                f"{stage.max_unique_weights_per_kernel:,}",
                f"{stage.params:,}",
                f"{lite.bytes:,}",
                f"{lite.gzip_bytes:,}",
                f"{lite.latency_us:.0f}",
                _fine_tuning_cell(stage.fine_tuning),
            ]
        )
    return rows


def _fine_tuning_cell(record: StageFineTuning | None) -> str:
    if record is None:
        return "-"
    kept = ""
    if record.best_epoch is not None and record.best_epoch != record.epochs:
        kept = f" (kept {record.best_epoch})"
    rate = ""
    if record.learning_rate is not None:
        tried = f" of {len(record.rate_trials)}" if record.rate_trials else ""
        rate = f" at {record.learning_rate:g}{tried}"
    return f"{record.epochs}/{record.max_epochs} ep{kept}{rate}, {record.seconds:.0f} s"


def stage_table_markdown(report: CompressionReport) -> list[str]:
    """The stage table as Markdown lines."""
    return markdown_table(_HEADER, stage_rows(report))


def format_stages(report: CompressionReport) -> str:
    """The stage table as aligned plain text, for the command line.

    Example:

    >>> print(format_stages(report))  # doctest: +SKIP
    """
    return text_table(_HEADER, stage_rows(report))


def markdown_report(report: CompressionReport) -> str:
    """`report.md`: settings, the stage table, the gzip ratio and the per-layer sparsity."""
    settings = ", ".join(f"{k}={v}" for k, v in report.settings.items())
    left_dense = ", ".join(f"{k} ({v})" for k, v in report.left_dense.items())
    lines = [
        "# kerasopt compress",
        "",
        f"Settings: {settings}. Dataset `{report.dataset['name']}`, test split of "
        f"{report.dataset['sizes']['test']}.",
        "",
        *stage_table_markdown(report),
        "",
        "Every int8 file passed the full-integer check. `val acc` is the Keras model on the "
        "validation split (the accuracy budget is judged on it); the other accuracies are "
        "on the test split; latency is the median per sample, batch 1, one thread on "
        "LiteRT; sparsity is the share of exact zeros over all Conv/Dense kernels; "
        "fine-tuning is epochs run / epoch budget and wall time.",
        "",
        f"gzip(last stage int8) / gzip(dense float32) = {report.gzip_vs_dense_float32:.3f}",
        "",
        *([f"**{report.budget.line()}**", ""] if report.budget else []),
        *([f"Left dense: {left_dense}.", ""] if left_dense else []),
        *(_channel_allocation_lines(report) if report.channel_allocation else []),
        *(_allocation_lines(report) if report.allocation else []),
        "## Per-layer sparsity (last stage)",
        "",
        *markdown_table(
            ["layer", "class", "kernel", "sparsity"],
            [
                [
                    str(row["layer"]),
                    str(row.get("class", "")),
                    str(row.get("kernel_shape", "")),
                    f"{row['sparsity']:.1%}",
                ]
                for row in report.sparsity
            ],
        ),
        "",
        "![accuracy against size and latency](compression.png)",
        "",
    ]
    return "\n".join(lines)


def _allocation_lines(report: CompressionReport) -> list[str]:
    sensitivity = report.sensitivity
    return [
        "## Sparsity allocated by sensitivity",
        "",
        "Each layer pruned alone, one-shot, on the validation split (accuracy drop in "
        "points), and the sparsity `allocate_sparsity` gave it:",
        "",
        *sensitivity.to_markdown().splitlines(),
        "",
        *markdown_table(
            ["layer", "allocated sparsity"],
            [[name, f"{value:.1%}"] for name, value in report.allocation.items()],
        ),
        "",
    ]


def _channel_allocation_lines(report: CompressionReport) -> list[str]:
    return [
        "## Channels allocated by sensitivity",
        "",
        "Each layer's (or residual group's) filters/units removed alone, one-shot, "
        "BatchNormalization re-estimated, on the validation split (accuracy drop in "
        "points), and the fraction `allocate_channels` gave it (as few parameters as the "
        f"uniform {report.settings['channels']:.0%} would leave):",
        "",
        *report.channel_sensitivity.to_markdown().splitlines(),
        "",
        *markdown_table(
            ["layer", "filters/units removed"],
            [[name, f"{value:.1%}"] for name, value in report.channel_allocation.items()],
        ),
        "",
    ]


def plot_compression(report: CompressionReport, path: str | os.PathLike) -> None:
    """LiteRT accuracy against gzip size and against latency, one point per stage."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    size_ax, latency_ax = fig.subplots(1, 2, sharey=True)
    points = [("dense float32", report.float32_baseline)]
    points += [(f"{stage.name} int8", stage.tflite) for stage in report.stages]
    for label, lite in points:
        size_ax.scatter(lite.gzip_bytes / 1024, lite.accuracy * 100, s=40)
        size_ax.annotate(label, (lite.gzip_bytes / 1024, lite.accuracy * 100), fontsize=8)
        latency_ax.scatter(lite.latency_us, lite.accuracy * 100, s=40)
        latency_ax.annotate(label, (lite.latency_us, lite.accuracy * 100), fontsize=8)
    size_ax.set_xlabel("gzip size, KiB")
    latency_ax.set_xlabel("LiteRT latency, µs (batch 1, 1 thread)")
    size_ax.set_ylabel("test accuracy, %")
    for ax in (size_ax, latency_ax):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
