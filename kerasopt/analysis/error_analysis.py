"""`error_analysis`: every error-analysis number and plot of one model in one call."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kerasopt.analysis._checks import check_class_names, check_labels, check_probabilities
from kerasopt.analysis.calibration import calibration, plot_reliability_diagram
from kerasopt.analysis.confusion import confusion_matrix, most_confused_pairs
from kerasopt.analysis.hardest_examples import (
    check_images,
    hardest_examples,
    plot_hardest_examples,
)
from kerasopt.analysis.per_class_metrics import per_class_metrics
from kerasopt.analysis.plots import plot_confusion_matrix
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_positive_int


def error_analysis(
    probabilities,
    y_true,
    *,
    num_classes: int,
    images=None,
    out_dir: str | os.PathLike | None = None,
    prefix: str = "",
    class_names=None,
    title: str | None = None,
    bins: int = 10,
    top: int = 16,
) -> dict:
    """Accuracy, confusion, per-class metrics, calibration and hardest examples.

    Takes probabilities, not a model, so the same call analyses a Keras model
    (`model.predict(x)`) and any TFLite file run on LiteRT
    (`LiteRTEvaluator(path).predict(x)`), and their results compare directly. Every
    value is plain Python, ready for `json.dumps`. With `out_dir`, it also writes
    `{prefix}confusion_matrix.png`, `{prefix}reliability_diagram.png` and, when
    `images` are given, `{prefix}hardest_examples.png`, each atomically.

    Args:
        probabilities: Class probabilities, shape `(num_samples, num_classes)`.
        y_true: Integer labels, shape `(num_samples,)`.
        num_classes: Number of classes; must match `probabilities.shape[1]`.
        images: The samples behind the probabilities, for the hardest-examples grid.
            Defaults to `None`.
        out_dir: Folder for the PNGs, or `None` to write nothing. Defaults to `None`.
        prefix: Prefix of the PNG file names (`"int8_"`). Defaults to `""`.
        class_names: Names of the classes, used in the plots and returned. Defaults to
            `None`.
        title: What the plots are titled after (`"digits: int8 TFLite"`). Defaults to
            `None`.
        bins: Confidence bins for calibration. Defaults to `10`.
        top: How many hardest examples to keep and show. Defaults to `16`.

    Returns:
        `{"num_samples", "accuracy", "confusion_matrix", "per_class", "most_confused",
        "calibration", "hardest_examples"}` (`most_confused`: the 5 largest off-diagonal
        cells), plus `"class_names"` when given and
        `"plots"` (file names in `out_dir`) when `out_dir` is given. `per_class` is
        `per_class_metrics`, `calibration` is `calibration`, `hardest_examples` is
        `hardest_examples` and `most_confused` is `most_confused_pairs`.

    Example:

    ```python
    from kerasopt.analysis import error_analysis
    from kerasopt.data import load_dataset
    from kerasopt.export import LiteRTEvaluator

    data = load_dataset("digits")
    evaluator = LiteRTEvaluator("saved_models/digits/model_int8.tflite")
    probabilities = evaluator.predict(data.x_test)
    result = error_analysis(
        probabilities,
        data.y_test,
        num_classes=10,
        images=data.x_test,
        out_dir="analysis",
        prefix="int8_",
    )
    print(result["calibration"]["ece"], result["per_class"]["f1"])
    ```
    """
    caller = "error_analysis"
    num_classes = check_positive_int(caller, "num_classes", num_classes)
    p = check_probabilities(probabilities, caller)
    if p.shape[1] != num_classes:
        raise InvalidValueError(
            f"{caller} got num_classes={num_classes} but probabilities for {p.shape[1]} "
            f"classes (probabilities.shape={p.shape}). Pass num_classes={p.shape[1]} or the "
            "probabilities of the right model."
        )
    y = check_labels(y_true, caller, num_classes=num_classes, length=len(p))
    names = check_class_names(class_names, caller, num_classes)
    top = check_positive_int(caller, "top", top)
    if images is not None:
        images = check_images(images, len(p), caller)

    predicted = p.argmax(axis=1)
    matrix = confusion_matrix(y, predicted, num_classes)
    result = {
        "num_samples": len(p),
        "accuracy": float(np.mean(predicted == y)),
        "confusion_matrix": matrix.tolist(),
        "per_class": per_class_metrics(y, predicted, num_classes),
        "most_confused": most_confused_pairs(matrix, top=5),
        "calibration": calibration(p, y, bins=bins),
        "hardest_examples": hardest_examples(p, y, top=top),
    }
    if names is not None:
        result["class_names"] = names
    if out_dir is None:
        return result

    out = Path(out_dir)
    label = f"{title}: " if title else ""
    plots = {
        "confusion_matrix": f"{prefix}confusion_matrix.png",
        "reliability_diagram": f"{prefix}reliability_diagram.png",
    }
    plot_confusion_matrix(
        matrix,
        out / plots["confusion_matrix"],
        title=title or "Confusion matrix",
        class_names=names,
    )
    plot_reliability_diagram(
        result["calibration"], out / plots["reliability_diagram"], title=f"{label}reliability"
    )
    if images is not None:
        plots["hardest_examples"] = f"{prefix}hardest_examples.png"
        plot_hardest_examples(
            images,
            p,
            y,
            out / plots["hardest_examples"],
            top=top,
            class_names=names,
            title=f"{label}hardest examples (true → predicted (p))",
        )
    result["plots"] = plots
    return result
