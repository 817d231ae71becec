"""`report.json` and `report.md` for a run, and the table printed at its end."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

from kerasopt._atomic import write_text_atomic

_PACKAGES = (
    "kerasopt",
    "keras",
    "tensorflow",
    "ai-edge-litert",
    "scikit-learn",
    "numpy",
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


def summary_rows(report: dict) -> list[list[str]]:
    """Rows of the summary table: one for Keras, one per TFLite variant."""
    keras_part = report["keras"]
    rows = [
        [
            "keras",
            f"{keras_part['accuracy']:.4f}",
            "-",
            f"{keras_part['bytes']:,}",
            "-",
            "-",
        ]
    ]
    for variant, result in report["tflite"].items():
        rows.append(
            [
                f"tflite {variant}",
                f"{result['accuracy']:.4f}",
                f"{result['agreement']:.2%}",
                f"{result['bytes']:,}",
                f"{result['gzip_bytes']:,}",
                f"{result['latency_us']:.0f}",
            ]
        )
    return rows


_HEADER = ["model", "test accuracy", "agreement", "bytes", "gzip bytes", "latency µs"]


def format_table(rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    table = [_HEADER, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_report(report: dict) -> str:
    rows = summary_rows(report)
    lines = [
        f"# kerasopt run: {report['scenario']}",
        "",
        f"Dataset `{report['dataset']['name']}`: "
        + ", ".join(f"{k} {v}" for k, v in report["dataset"]["sizes"].items())
        + f". Test split: `{report['dataset']['split']['test']}`.",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "---|" * len(_HEADER),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        "Latency: median per sample, batch 1, one thread, LiteRT interpreter on this machine. "
        "Agreement: share of test samples where the TFLite model's top-1 class equals the "
        "Keras model's.",
        "",
        "Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report["timings"].items()),
        "",
        "![training curves](training_curves.png) ![confusion matrix](confusion_matrix.png)",
        "",
    ]
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Writes `report.json` and `report.md` atomically; returns both paths."""
    out = Path(out_dir)
    json_path = write_text_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    md_path = write_text_atomic(out / "report.md", markdown_report(report))
    return json_path, md_path
