"""Calibration: expected and maximum calibration error, and the reliability diagram."""

from __future__ import annotations

import os

import numpy as np

from kerasopt.analysis._checks import check_labels, check_probabilities
from kerasopt.analysis.plots import _figure
from kerasopt.core.atomic import atomic_path
from kerasopt.core.errors import InvalidTypeError
from kerasopt.core.validation import check_positive_int


def calibration(probabilities, y_true, bins: int = 10) -> dict:
    """How far the model's confidence is from its accuracy (ECE, MCE, per-bin table).

    The confidence of a sample is its top-1 probability. Samples are put in `bins`
    equal-width bins over [0, 1], bin `i` holding confidences in
    `(i / bins, (i + 1) / bins]` (the first bin also holds 0). Per bin, `confidence` is
    the mean confidence and `accuracy` the share of top-1 predictions that are right.
    The expected calibration error (Guo et al., 2017) is
    `ECE = sum_b count_b / n * |accuracy_b - confidence_b|`, and the maximum
    calibration error `MCE` is the largest gap over the non-empty bins. Both are 0 for a
    perfectly calibrated model and at most 1. Empty bins stay in the table with
    `count` 0 and `confidence` / `accuracy` `None`.

    Args:
        probabilities: Class probabilities, shape `(num_samples, num_classes)`, from
            Keras (`model.predict`) or LiteRT (`LiteRTEvaluator.predict`).
        y_true: Integer labels, shape `(num_samples,)`.
        bins: Number of equal-width confidence bins. Defaults to `10`.

    Returns:
        `{"ece", "mce", "accuracy", "mean_confidence", "num_samples", "bins": [{"lower",
        "upper", "confidence", "accuracy", "count"}, ...]}`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.analysis import calibration
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> round(calibration(p, [0, 1, 1], bins=5)["ece"], 4)
    0.2
    """
    caller = "calibration"
    bins = check_positive_int(caller, "bins", bins)
    p = check_probabilities(probabilities, caller)
    y = check_labels(y_true, caller, num_classes=p.shape[1], length=len(p))

    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype("float64")
    edges = np.linspace(0.0, 1.0, bins + 1)
    # side="left" makes each bin closed on the right: (lower, upper].
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    confidence_sum = np.bincount(index, weights=confidence, minlength=bins)
    correct_sum = np.bincount(index, weights=correct, minlength=bins)

    table, ece, mce = [], 0.0, 0.0
    for i in range(bins):
        row = {"lower": float(edges[i]), "upper": float(edges[i + 1])}
        row["confidence"] = row["accuracy"] = None
        if counts[i]:
            row["confidence"] = float(confidence_sum[i] / counts[i])
            row["accuracy"] = float(correct_sum[i] / counts[i])
            gap = abs(row["accuracy"] - row["confidence"])
            ece += counts[i] / len(p) * gap
            mce = max(mce, gap)
        row["count"] = int(counts[i])
        table.append(row)
    return {
        "ece": float(ece),
        "mce": float(mce),
        "accuracy": float(correct.mean()),
        "mean_confidence": float(confidence.mean()),
        "num_samples": len(p),
        "bins": table,
    }


def plot_reliability_diagram(
    calibration_result: dict, path: str | os.PathLike, title: str = "Reliability diagram"
) -> None:
    """Accuracy against confidence per bin, with the gap to the diagonal, as a PNG.

    Bars at the diagonal mean a calibrated model; bars below it an overconfident one.
    A lower panel shows how many samples fall in each bin, since a gap in a nearly
    empty bin says little.

    Args:
        calibration_result: The dict returned by `calibration`.
        path: Where to write the PNG (atomically).
        title: Figure title; the ECE and MCE are appended. Defaults to
            `"Reliability diagram"`.

    Example:

    >>> from kerasopt.analysis import calibration, plot_reliability_diagram
    >>> result = calibration(model.predict(x_test), y_test)  # doctest: +SKIP
    >>> plot_reliability_diagram(result, "reliability_diagram.png")  # doctest: +SKIP
    """
    if not isinstance(calibration_result, dict) or not {"bins", "ece", "mce"} <= set(
        calibration_result
    ):
        received = (
            sorted(calibration_result)
            if isinstance(calibration_result, dict)
            else type(calibration_result).__name__
        )
        raise InvalidTypeError(
            "plot_reliability_diagram expects the dict returned by calibration(probabilities, "
            f"y_true), with keys 'bins', 'ece' and 'mce'. Received: {received}."
        )
    table = calibration_result["bins"]
    lower = np.array([row["lower"] for row in table])
    width = np.array([row["upper"] - row["lower"] for row in table])
    counts = np.array([row["count"] for row in table])
    filled = counts > 0
    accuracy = np.array([row["accuracy"] if row["count"] else 0.0 for row in table])
    confidence = np.array([row["confidence"] if row["count"] else 0.0 for row in table])

    fig = _figure(4.8, 5.4)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.bar(
        lower[filled],
        accuracy[filled],
        width=width[filled],
        align="edge",
        color="tab:blue",
        edgecolor="black",
        label="accuracy",
    )
    gap_bottom = np.minimum(accuracy, confidence)[filled]
    top.bar(
        lower[filled],
        np.abs(accuracy - confidence)[filled],
        bottom=gap_bottom,
        width=width[filled],
        align="edge",
        color="tab:red",
        alpha=0.35,
        edgecolor="tab:red",
        hatch="//",
        label="gap",
    )
    top.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="upper left", fontsize=8)
    top.set_title(
        f"{title}\nECE {calibration_result['ece']:.4f}, MCE {calibration_result['mce']:.4f}",
        fontsize=10,
    )
    bottom.bar(lower, counts, width=width, align="edge", color="gray", edgecolor="black")
    bottom.set_xlabel("confidence (top-1 probability)")
    bottom.set_ylabel("samples")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
