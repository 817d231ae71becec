"""The summary table of a run: one row for the Keras model, one per TFLite file."""

from __future__ import annotations

SUMMARY_HEADER = ["model", "test accuracy", "ECE", "agreement", "bytes", "gzip bytes", "latency µs"]


def summary_rows(report) -> list[list[str]]:
    """Rows of `SUMMARY_HEADER` for a `RunReport`.

    Example:

    >>> from kerasopt.core.tables import text_table
    >>> print(text_table(SUMMARY_HEADER, summary_rows(report)))  # doctest: +SKIP
    """
    keras_part = report.keras
    rows = [
        [
            "keras",
            f"{keras_part.accuracy:.4f}",
            _ece(keras_part.error_analysis),
            "-",
            f"{keras_part.bytes:,}",
            "-",
            "-",
        ]
    ]
    for variant, part in report.tflite.items():
        metrics = part.metrics
        agreement = "-" if metrics.agreement is None else f"{metrics.agreement:.2%}"
        rows.append(
            [
                f"tflite {variant}",
                f"{metrics.accuracy:.4f}",
                _ece(part.error_analysis),
                agreement,
                f"{metrics.bytes:,}",
                f"{metrics.gzip_bytes:,}",
                f"{metrics.latency_us:.0f}",
            ]
        )
    return rows


def _ece(analysis: dict | None) -> str:
    """The ECE cell; "-" without an error analysis."""
    return f"{analysis['calibration']['ece']:.4f}" if analysis else "-"
