"""`markdown_report`: `report.md` of any run, images and text alike.

The summary table, the export notes, the timings and plots, the per-class error
analysis, the robustness curve when there is one, then each scenario section and the
compression stages when the run compressed the model.
"""

from __future__ import annotations

from kerasopt.compress.compression_report import stage_table_markdown
from kerasopt.core.tables import markdown_table
from kerasopt.pipeline.summary_table import SUMMARY_HEADER, summary_rows

_PLOT_TITLES = {
    "confusion_matrix": "confusion matrix",
    "reliability_diagram": "reliability diagram",
    "hardest_examples": "hardest examples",
}


def markdown_report(report) -> str:
    """The Markdown text of a `RunReport`.

    Example:

    >>> print(markdown_report(report))  # doctest: +SKIP
    """
    dataset = report.dataset
    test_split = dataset["split"].get("test")
    plots = report.keras.error_analysis.get("plots", {})
    lines = [
        f"# kerasopt run: {report.scenario} ({report.model['name']} model)",
        "",
        f"Dataset `{dataset['name']}`: "
        + ", ".join(f"{k} {v}" for k, v in dataset["sizes"].items())
        + (f". Test split: `{test_split}`." if test_split else ".")
        + (
            " Trained on train + validation (`train_on_validation`): nothing held out."
            if report.train.get("train_on_validation")
            else ""
        ),
        "",
        *markdown_table(SUMMARY_HEADER, summary_rows(report)),
        "",
        "Latency: median per sample, batch 1, one thread, LiteRT interpreter on this machine. "
        "Agreement: share of test samples where the TFLite model's top-1 class equals the "
        "Keras model's. ECE: expected calibration error of the top-1 confidence.",
        "",
        *_export_notes(report),
        "Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items()),
        "",
        f"Peak resident memory: {report.resources['peak_rss_mb']:,.0f} MB.",
        "",
        " ".join(
            ["![training curves](training_curves.png)"]
            + [_image(plots, "confusion_matrix")] * ("confusion_matrix" in plots)
        ),
        "",
        *per_class_section(report),
        *robustness_section(report),
    ]
    for section in report.sections.values():
        lines += list(section.markdown)
    lines += compression_section(report)
    return "\n".join(lines)


def _image(plots: dict, key: str) -> str:
    return f"![{_PLOT_TITLES[key]}]({plots[key]})"


def _export_notes(report) -> list[str]:
    """One line per TFLite file with a note (why a text model is not full-integer int8)."""
    lines = []
    for variant, part in report.tflite.items():
        reason = part.exported.notes.get("reason")
        if reason:
            lines += [f"TFLite {variant} (`{part.exported.file_name}`): {reason}", ""]
    return lines


def per_class_section(report) -> list[str]:
    """Per-class precision, recall and F1 of the Keras model, F1 of each TFLite file."""
    analysis = report.keras.error_analysis
    per_class = analysis["per_class"]
    variants = list(report.tflite)
    header = ["class", "precision", "recall", "F1", "support", *(f"F1 {v}" for v in variants)]
    names = analysis.get("class_names") or [str(i) for i in range(len(per_class["f1"]))]

    def tflite_f1(variant, i=None, average=None):
        lite = report.tflite[variant].error_analysis["per_class"]
        return f"{(lite[average]['f1'] if average else lite['f1'][i]):.4f}"

    rows = []
    for i, name in enumerate(names):
        rows.append(
            [
                name,
                f"{per_class['precision'][i]:.4f}",
                f"{per_class['recall'][i]:.4f}",
                f"{per_class['f1'][i]:.4f}",
                str(per_class["support"][i]),
                *(tflite_f1(v, i=i) for v in variants),
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
                *(tflite_f1(v, average=average) for v in variants),
            ]
        )
    confused = ", ".join(
        f"{pair['true']} → {pair['predicted']} ({pair['count']}x)"
        for pair in analysis["most_confused"]
    )
    calibration = analysis["calibration"]
    plots = analysis.get("plots", {})
    images = [
        _image(plots, key) for key in ("reliability_diagram", "hardest_examples") if key in plots
    ]
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
        *([" ".join(images), ""] if images else []),
    ]


def robustness_section(report) -> list[str]:
    """The robustness curve as a table, epsilon in both fraction and raw units."""
    robustness = report.robustness
    if robustness is None:
        return []
    low, high = robustness.input_range
    rows = [
        [
            f"{point['epsilon']:g}",
            f"{point['epsilon'] * (high - low):.4g}",
            f"{point['accuracy']:.4f}",
        ]
        for point in robustness.curve
    ]
    return [
        f"## Robustness ({robustness.attack.upper()}, {robustness.model} model)",
        "",
        *markdown_table(["epsilon (fraction of range)", "L∞ (raw units)", "accuracy"], rows),
        "",
        f"Test accuracy on adversarial examples with an L∞ budget of epsilon × the input "
        f"range [{low:g}, {high:g}]; epsilon 0 is the clean accuracy.",
        "",
    ]


def compression_section(report) -> list[str]:
    """The compression stages, when the run compressed the model."""
    compression = report.compression
    if compression is None:
        return []
    return [
        "## Compression (artifacts in `compressed/`)",
        "",
        *stage_table_markdown(compression),
        "",
        *([f"**{compression.budget.line()}**", ""] if compression.budget else []),
    ]
