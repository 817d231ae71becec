"""PNG plots for reports: training curves and a confusion matrix."""

from __future__ import annotations

import os

import numpy as np

from kerasopt.core.atomic import atomic_path


def _figure(width: float, height: float):
    # A bare Figure renders with Agg without switching the global pyplot backend, which
    # would turn off inline plots in the user's notebook.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def plot_training_curves(history: dict[str, list[float]], path: str | os.PathLike) -> None:
    """Loss and accuracy per epoch, train against validation, written as a PNG.

    Example:

    >>> history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    >>> plot_training_curves(history, "curves.png")  # doctest: +SKIP
    """
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig = _figure(5 * max(1, len(metrics)), 3.6)
    axes = np.atleast_1d(fig.subplots(1, max(1, len(metrics))))
    for ax, metric in zip(axes, metrics, strict=False):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def plot_confusion_matrix(
    matrix: np.ndarray,
    path: str | os.PathLike,
    title: str = "Confusion matrix",
    class_names: list[str] | None = None,
) -> None:
    """A labelled heat map of `[true, predicted]` counts, written as a PNG.

    `class_names` label the axes instead of the class indices.
    """
    n = matrix.shape[0]
    fig = _figure(0.5 * n + 2.5, 0.5 * n + 2)
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > threshold else "black"
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    if class_names is not None:
        ax.set_xticklabels(class_names, rotation=45, ha="right")
        ax.set_yticklabels(class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def plot_technique_comparison(rows: list[dict], path: str | os.PathLike) -> None:
    """Test accuracy (with seed spread) and calibration error per technique, as a PNG.

    `rows` are `kerasopt.training.compare_techniques` rows; the first is the baseline,
    drawn as a dashed line across the accuracy panel.

    Example:

    >>> rows = [{"technique": "baseline", "accuracy": 0.95, "accuracy_std": 0.01, "ece": 0.03}]
    >>> plot_technique_comparison(rows, "techniques.png")  # doctest: +SKIP
    """
    names = [row["technique"] for row in rows]
    y = np.arange(len(rows))[::-1]
    fig = _figure(10, 0.35 * len(rows) + 1.6)
    acc_ax, ece_ax = fig.subplots(1, 2, sharey=True)
    accuracy = np.array([row["accuracy"] for row in rows]) * 100
    spread = np.array([row.get("accuracy_std", 0.0) for row in rows]) * 100
    acc_ax.barh(y, accuracy, xerr=spread, color="tab:blue", alpha=0.8)
    acc_ax.axvline(accuracy[0], color="black", linestyle="--", linewidth=1)
    acc_ax.set_xlim(max(0.0, accuracy.min() - spread.max() - 2), 100)
    acc_ax.set_xlabel("test accuracy, % (bar: mean over seeds, line: ± std)")
    acc_ax.set_yticks(y, names)
    ece_ax.barh(y, [row["ece"] for row in rows], color="tab:orange", alpha=0.8)
    ece_ax.set_xlabel("expected calibration error (lower is better)")
    for ax in (acc_ax, ece_ax):
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def plot_pareto_front(lines: dict, path: str | os.PathLike, *, title: str = "") -> None:
    """Int8 accuracy against int8 file size, one marked line per family of models.

    `lines` maps a line's name to its points, objects with `int8_bytes`,
    `int8_accuracy` and `model` (such as `kerasopt.pipeline.ParetoPoint`), each
    labelled with its model. The size axis is logarithmic.

    Example:

    >>> plot_pareto_front({"kerasopt": report.line("kerasopt")}, "pareto.png")  # doctest: +SKIP
    """
    fig = _figure(8, 5)
    ax = fig.subplots()
    for (name, points), marker in zip(lines.items(), "os^Dv", strict=False):
        if not points:
            continue
        points = sorted(points, key=lambda p: p.int8_bytes)
        kb = [p.int8_bytes / 1000 for p in points]
        accuracy = [p.int8_accuracy * 100 for p in points]
        ax.plot(kb, accuracy, marker=marker, label=name)
        for x, y, point in zip(kb, accuracy, points, strict=True):
            ax.annotate(
                point.model, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7
            )
    ax.set_xscale("log")
    ax.set_xlabel("int8 .tflite size, KB (log scale)")
    ax.set_ylabel("int8 test accuracy on LiteRT, %")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
