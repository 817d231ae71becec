"""`per_class_metrics` against scikit-learn, and its errors."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from kerasopt.analysis import per_class_metrics


def _random_case(seed, num_classes, n, skip_predicted=None, skip_true=None):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, num_classes, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, num_classes, n))
    if skip_predicted is not None:  # a class the model never predicts
        y_pred[y_pred == skip_predicted] = (skip_predicted + 1) % num_classes
    if skip_true is not None:  # a class absent from the labels
        y_true[y_true == skip_true] = (skip_true + 1) % num_classes
    return y_true, y_pred


CASES = {
    "binary": (_random_case(0, 2, 50), 2),
    "ten_classes": (_random_case(1, 10, 400), 10),
    "never_predicted": (_random_case(2, 5, 120, skip_predicted=3), 5),
    "absent_class": (_random_case(3, 6, 90, skip_true=0), 6),
    "single_sample": ((np.array([2]), np.array([1])), 4),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_matches_sklearn(case):
    (y_true, y_pred), num_classes = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warning for empty classes
        result = per_class_metrics(y_true, y_pred, num_classes)
    labels = list(range(num_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    np.testing.assert_allclose(result["precision"], precision)
    np.testing.assert_allclose(result["recall"], recall)
    np.testing.assert_allclose(result["f1"], f1)
    assert result["support"] == support.tolist()
    for average in ("macro", "weighted"):
        expected = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        got = result[average]
        np.testing.assert_allclose([got["precision"], got["recall"], got["f1"]], expected[:3])


def test_class_never_predicted_scores_zero_not_nan():
    result = per_class_metrics([0, 1, 2, 2], [0, 1, 1, 1], num_classes=3)
    assert result["precision"][2] == 0.0 and result["recall"][2] == 0.0
    assert result["f1"][2] == 0.0
    assert not np.isnan(result["precision"]).any()
    assert result["support"] == [1, 1, 2]


def test_plain_python_values():
    result = per_class_metrics(np.array([0, 1]), np.array([0, 1]), num_classes=2)
    assert type(result["precision"][0]) is float and type(result["support"][0]) is int
    assert result["macro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


ERRORS = {
    "mismatched_lengths": (
        ([0, 1, 1], [0, 1], 2),
        ValueError,
        r"len\(y_true\)=3 but 2 samples.*same order",
    ),
    "label_out_of_range": (([0, 5], [0, 1], 3), ValueError, r"y_true in \[0, 3\).*\[0, 5\]"),
    "prediction_out_of_range": (([0, 1], [0, -1], 3), ValueError, r"y_pred in \[0, 3\)"),
    "one_hot_labels": (
        (np.eye(3), [0, 1, 2], 3),
        ValueError,
        r"y_true.shape=\(3, 3\). They look one-hot: pass y_true.argmax\(axis=-1\)",
    ),
    "float_scores": (([0.2, 0.9], [0, 1], 2), TypeError, "Pass class indices, not scores"),
    "bad_num_classes": (
        ([0], [0], 0),
        ValueError,
        r"expected num_classes to be an integer >= 1\. Received: num_classes=0",
    ),
    "empty": (([], [], 2), ValueError, "at least one sample"),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_errors(case):
    args, error, match = case
    with pytest.raises(error, match=match):
        per_class_metrics(*args)
