"""The compression report: a table per stage, Markdown, and accuracy-vs-size/latency plots."""

from __future__ import annotations

import os

from kerasopt.core.atomic import atomic_path
from kerasopt.core.tables import markdown_table, text_table

_HEADER = [
    "stage",
    "keras acc",
    "litert int8 acc",
    "sparsity",
    "unique w/kernel",
    "params",
    "bytes",
    "gzip bytes",
    "latency µs",
]


def stage_rows(report: dict) -> list[list[str]]:
    """One row per stage of a `compress_model` report, the float32 baseline first."""
    base = report["float32_baseline"]
    rows = [
        [
            "dense float32 (baseline)",
            "-",
            f"{base['accuracy']:.4f}",
            "-",
            "-",
            "-",
            f"{base['bytes']:,}",
            f"{base['gzip_bytes']:,}",
            f"{base['latency_us']:.0f}",
        ]
    ]
    for stage in report["stages"]:
        rows.append(
            [
                f"{stage['stage']} int8",
                f"{stage['keras_accuracy']:.4f}",
                f"{stage['litert_accuracy']:.4f}",
                f"{stage['kernel_sparsity']:.1%}",
                f"{stage['max_unique_weights_per_kernel']:,}",
                f"{stage['params']:,}",
                f"{stage['bytes']:,}",
                f"{stage['gzip_bytes']:,}",
                f"{stage['latency_us']:.0f}",
            ]
        )
    return rows


def stage_table_markdown(report: dict) -> list[str]:
    """The stage table as Markdown lines."""
    return markdown_table(_HEADER, stage_rows(report))


def format_stages(report: dict) -> str:
    """The stage table as aligned plain text, for the command line.

    Example:

    >>> print(format_stages(report))  # doctest: +SKIP
    """
    return text_table(_HEADER, stage_rows(report))


def markdown_report(report: dict) -> str:
    """`report.md`: settings, the stage table, the gzip ratio and the per-layer sparsity."""
    settings = ", ".join(f"{k}={v}" for k, v in report["settings"].items())
    lines = [
        "# kerasopt compress",
        "",
        f"Settings: {settings}. Dataset `{report['dataset']['name']}`, test split of "
        f"{report['dataset']['sizes']['test']}.",
        "",
        *stage_table_markdown(report),
        "",
        "Every int8 file passed the full-integer check. Accuracy is on the test split; "
        "latency is the median per sample, batch 1, one thread on LiteRT; sparsity is the "
        "share of exact zeros over all Conv/Dense kernels.",
        "",
        f"gzip(last stage int8) / gzip(dense float32) = {report['gzip_vs_dense_float32']:.3f}",
        "",
        *(
            [f"Left dense: {', '.join(f'{k} ({v})' for k, v in report['left_dense'].items())}.", ""]
            if report.get("left_dense")
            else []
        ),
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
                for row in report["sparsity"]
            ],
        ),
        "",
        "![accuracy against size and latency](compression.png)",
        "",
    ]
    return "\n".join(lines)


def plot_compression(report: dict, path: str | os.PathLike) -> None:
    """LiteRT accuracy against gzip size and against latency, one point per stage."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    size_ax, latency_ax = fig.subplots(1, 2, sharey=True)
    base = report["float32_baseline"]
    points = [("dense float32", base["accuracy"], base["gzip_bytes"], base["latency_us"])]
    for stage in report["stages"]:
        points.append(
            (
                f"{stage['stage']} int8",
                stage["litert_accuracy"],
                stage["gzip_bytes"],
                stage["latency_us"],
            )
        )
    for label, accuracy, gzip_bytes, latency in points:
        size_ax.scatter(gzip_bytes / 1024, accuracy * 100, s=40)
        size_ax.annotate(label, (gzip_bytes / 1024, accuracy * 100), fontsize=8)
        latency_ax.scatter(latency, accuracy * 100, s=40)
        latency_ax.annotate(label, (latency, accuracy * 100), fontsize=8)
    size_ax.set_xlabel("gzip size, KiB")
    latency_ax.set_xlabel("LiteRT latency, µs (batch 1, 1 thread)")
    size_ax.set_ylabel("test accuracy, %")
    for ax in (size_ax, latency_ax):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
