"""Confusion matrix and the class pairs a model mixes up most."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts, `[true, predicted]`, over `num_classes` classes.

    Example:

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), dtype="int64")
    np.add.at(matrix, (np.asarray(y_true, "int64"), np.asarray(y_pred, "int64")), 1)
    return matrix


def most_confused_pairs(matrix: np.ndarray, top: int = 5) -> list[dict]:
    """The `top` off-diagonal cells, largest first: `{"true", "predicted", "count"}`.

    Example:

    >>> most_confused_pairs(np.array([[5, 2], [0, 7]]))
    [{'true': 0, 'predicted': 1, 'count': 2}]
    """
    off = np.array(matrix, copy=True)
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1]
    pairs = []
    for flat in order[:top]:
        true, predicted = np.unravel_index(flat, off.shape)
        if off[true, predicted] == 0:
            break
        pairs.append(
            {"true": int(true), "predicted": int(predicted), "count": int(off[true, predicted])}
        )
    return pairs
