"""Per-class precision, recall, F1 and support, with macro and weighted averages."""

from __future__ import annotations

import numpy as np

from kerasopt.analysis._checks import check_labels
from kerasopt.analysis.confusion import confusion_matrix
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_positive_int


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    # A class never predicted (or never present) scores 0, as sklearn's
    # `zero_division=0`, instead of a NaN and a RuntimeWarning.
    out = np.zeros(numerator.shape, dtype="float64")
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def per_class_metrics(y_true, y_pred, num_classes: int) -> dict:
    """Precision, recall, F1 and support of every class, and their averages.

    Matches `sklearn.metrics.precision_recall_fscore_support(y_true, y_pred,
    labels=range(num_classes), zero_division=0)`: a class that is never predicted has
    precision 0, a class absent from `y_true` has recall 0, and F1 is 0 where precision
    and recall are both 0; nothing is NaN and nothing warns. The `macro` average is the
    unweighted mean over all `num_classes` classes (absent ones included); `weighted`
    weights each class by its support. Lists are plain Python, ready for JSON.

    Args:
        y_true: Integer labels, shape `(num_samples,)`.
        y_pred: Predicted integer labels, shape `(num_samples,)`.
        num_classes: Number of classes; classes are `0 .. num_classes - 1`.

    Returns:
        `{"precision": [...], "recall": [...], "f1": [...], "support": [...],
        "macro": {"precision", "recall", "f1"}, "weighted": {"precision", "recall",
        "f1"}}`, one list entry per class.

    Example:

    >>> from kerasopt.analysis import per_class_metrics
    >>> metrics = per_class_metrics([0, 0, 1, 2], [0, 1, 1, 0], num_classes=3)
    >>> metrics["precision"], metrics["recall"], metrics["support"]
    ([0.5, 0.5, 0.0], [0.5, 1.0, 0.0], [2, 1, 1])
    """
    caller = "per_class_metrics"
    num_classes = check_positive_int(caller, "num_classes", num_classes)
    y_pred_array = np.asarray(y_pred)
    length = len(y_pred_array) if y_pred_array.ndim else 0
    y_pred_array = check_labels(
        y_pred_array, caller, num_classes=num_classes, length=length, name="y_pred"
    )
    y_true_array = check_labels(y_true, caller, num_classes=num_classes, length=length)
    if length == 0:
        raise InvalidValueError(f"{caller} needs at least one sample. Received: len(y_pred)=0.")

    matrix = confusion_matrix(y_true_array, y_pred_array, num_classes)
    true_positives = np.diag(matrix).astype("float64")
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, support)
    # 2 TP / (2 TP + FP + FN) equals 2 P R / (P + R) where defined, without a 0/0.
    f1 = _safe_divide(2 * true_positives, predicted + support)

    weights = support / support.sum()
    scores = {"precision": precision, "recall": recall, "f1": f1}
    return {
        **{name: values.tolist() for name, values in scores.items()},
        "support": support.astype(int).tolist(),
        "macro": {name: float(values.mean()) for name, values in scores.items()},
        "weighted": {name: float(values @ weights) for name, values in scores.items()},
    }
