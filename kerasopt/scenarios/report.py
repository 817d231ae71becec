"""`report.json` and `report.md` for a run, and the table printed at its end."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

from kerasopt.core.atomic import write_text_atomic
from kerasopt.core.tables import markdown_table, text_table

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


def _ece(part: dict) -> str:
    """The ECE cell of a model's row; "-" for a report written before error analysis."""
    analysis = part.get("error_analysis")
    return f"{analysis['calibration']['ece']:.4f}" if analysis else "-"


def summary_rows(report: dict) -> list[list[str]]:
    """Rows of the summary table: one for Keras, one per TFLite variant."""
    keras_part = report["keras"]
    rows = [
        [
            "keras",
            f"{keras_part['accuracy']:.4f}",
            _ece(keras_part),
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
                _ece(result),
                f"{result['agreement']:.2%}",
                f"{result['bytes']:,}",
                f"{result['gzip_bytes']:,}",
                f"{result['latency_us']:.0f}",
            ]
        )
    return rows


_HEADER = ["model", "test accuracy", "ECE", "agreement", "bytes", "gzip bytes", "latency µs"]


def format_table(rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    return text_table(_HEADER, rows)


def per_class_section(report: dict) -> list[str]:
    """Per-class precision, recall and F1 of the Keras model, F1 of each TFLite file."""
    analysis = report["keras"].get("error_analysis")
    if not analysis:
        return []
    per_class = analysis["per_class"]
    variants = [v for v, r in report["tflite"].items() if "error_analysis" in r]
    header = ["class", "precision", "recall", "F1", "support", *(f"F1 {v}" for v in variants)]
    names = analysis.get("class_names") or [str(i) for i in range(len(per_class["f1"]))]
    rows = []
    for i, name in enumerate(names):
        rows.append(
            [
                name,
                f"{per_class['precision'][i]:.4f}",
                f"{per_class['recall'][i]:.4f}",
                f"{per_class['f1'][i]:.4f}",
                str(per_class["support"][i]),
                *(
                    f"{report['tflite'][v]['error_analysis']['per_class']['f1'][i]:.4f}"
                    for v in variants
                ),
            ]
        )
    for average in ("macro", "weighted"):
        values = per_class[average]
        rows.append(
            [
                f"*{average} avg*",
                f"{values['precision']:.4f}",
                f"{values['recall']:.4f}",
                f"{values['f1']:.4f}",
                str(sum(per_class["support"])),
                *(
                    f"{report['tflite'][v]['error_analysis']['per_class'][average]['f1']:.4f}"
                    for v in variants
                ),
            ]
        )
    confused = ", ".join(
        f"{pair['true']} → {pair['predicted']} ({pair['count']}x)"
        for pair in analysis["most_confused"]
    )
    calibration = analysis["calibration"]
    return [
        "## Error analysis (Keras model, test split)",
        "",
        *markdown_table(header, rows),
        "",
        f"Most confused (true → predicted): {confused or 'none'}.",
        "",
        f"Calibration: ECE {calibration['ece']:.4f}, MCE {calibration['mce']:.4f}, mean "
        f"confidence {calibration['mean_confidence']:.4f} against accuracy "
        f"{calibration['accuracy']:.4f} ({len(calibration['bins'])} equal-width bins of "
        "top-1 confidence; ECE weights each bin's |accuracy - confidence| by its share of "
        "samples).",
        "",
        "![reliability diagram](reliability_diagram.png) ![hardest examples](hardest_examples.png)",
        "",
    ]


def robustness_section(report: dict) -> list[str]:
    """The FGSM robustness curve as a table, epsilon in both fraction and raw units."""
    robustness = report.get("robustness")
    if not robustness:
        return []
    low, high = robustness["input_range"]
    rows = [
        [
            f"{point['epsilon']:g}",
            f"{point['epsilon'] * (high - low):.4g}",
            f"{point['accuracy']:.4f}",
        ]
        for point in robustness["curve"]
    ]
    return [
        f"## Robustness ({robustness['attack'].upper()}, {robustness['model']} model)",
        "",
        *markdown_table(["epsilon (fraction of range)", "L∞ (raw units)", "accuracy"], rows),
        "",
        f"Test accuracy on adversarial examples with an L∞ budget of epsilon × the input "
        f"range [{low:g}, {high:g}]; epsilon 0 is the clean accuracy.",
        "",
    ]


def compression_section(report: dict) -> list[str]:
    """The compression stages, when the run compressed the model (`--prune`/`--channels`)."""
    if "compression" not in report:
        return []
    from kerasopt.compress.compression_report import stage_table_markdown

    return [
        "## Compression (artifacts in `compressed/`)",
        "",
        *stage_table_markdown(report["compression"]),
        "",
    ]


def markdown_report(report: dict) -> str:
    rows = summary_rows(report)
    lines = [
        f"# kerasopt run: {report['scenario']}",
        "",
        f"Dataset `{report['dataset']['name']}`: "
        + ", ".join(f"{k} {v}" for k, v in report["dataset"]["sizes"].items())
        + f". Test split: `{report['dataset']['split']['test']}`.",
        "",
        *markdown_table(_HEADER, rows),
        "",
        "Latency: median per sample, batch 1, one thread, LiteRT interpreter on this machine. "
        "Agreement: share of test samples where the TFLite model's top-1 class equals the "
        "Keras model's. ECE: expected calibration error of the top-1 confidence.",
        "",
        "Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report["timings"].items()),
        "",
        "![training curves](training_curves.png) ![confusion matrix](confusion_matrix.png)",
        "",
        *per_class_section(report),
        *robustness_section(report),
        *compression_section(report),
    ]
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Writes `report.json` and `report.md` atomically; returns both paths."""
    out = Path(out_dir)
    json_path = write_text_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    md_path = write_text_atomic(out / "report.md", markdown_report(report))
    return json_path, md_path
