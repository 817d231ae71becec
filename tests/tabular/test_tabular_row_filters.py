"""drop_outliers and drop_missing_rows drop exactly the dirty rows."""

import logging

import numpy as np
import pandas as pd
import pytest
from tabular_data import inject, load_table

from kerasopt.tabular import drop_missing_rows, drop_outliers

CASES = [
    ("wine", "iqr", {"factor": 3.0}),
    ("wine", "zscore", {"threshold": 4.0}),
    ("breast_cancer", "iqr", {"factor": 3.0}),
    ("breast_cancer", "zscore", {"threshold": 4.0}),
]


@pytest.mark.parametrize("dataset, method, kwargs", CASES, ids=[f"{d}-{m}" for d, m, _ in CASES])
def test_injected_outliers_are_dropped_and_nothing_else(dataset, method, kwargs):
    X, y = load_table(dataset)
    dirty, _, rows, _ = inject(X, nan_fraction=0.0, n_outliers=5)
    injected = np.zeros(len(X), bool)
    injected[rows] = True
    _, _, keep_clean = drop_outliers(X, method=method, **kwargs)
    X_kept, y_kept, keep = drop_outliers(dirty, y, method=method, **kwargs)
    assert not keep[injected].any()
    # No collateral damage: a row kept on the clean table is kept unless injected.
    assert keep[keep_clean & ~injected].all()
    if method == "iqr":
        # Quartiles barely move, so every other row keeps its clean-table verdict. The
        # z-score's std is inflated by the outliers, which can spare a few natural
        # extremes (the masking effect documented in drop_outliers).
        np.testing.assert_array_equal(keep, keep_clean & ~injected)
    assert keep.mean() > 0.85
    pd.testing.assert_frame_equal(X_kept, dirty[keep])
    np.testing.assert_array_equal(y_kept, y[keep])


def test_iqr_by_hand_and_nan_is_not_an_outlier():
    # 0..20 plus 40 and -20: Q1 = 4.5, Q3 = 15.5, IQR = 11, fences at -12 and 32.
    X = np.array([*range(21), 40, -20, np.nan], dtype=float).reshape(-1, 1)
    _, _, keep = drop_outliers(X, method="iqr")
    np.testing.assert_array_equal(np.flatnonzero(~keep), [21, 22])
    _, _, keep = drop_outliers(X, method="iqr", factor=3.0)  # fences at -28.5 and 48.5
    assert keep.all()


def test_columns_arrays_and_series(caplog):
    X, y = load_table("breast_cancer")
    X = X.copy()
    X.iloc[3, 0] = 1e6  # "mean radius"
    X.iloc[7, 1] = 1e6  # "mean texture", not checked below
    with caplog.at_level(logging.INFO, logger="kerasopt.tabular"):
        _, y_kept, keep = drop_outliers(X, pd.Series(y), columns=["mean radius"], factor=3.0)
    assert not keep[3] and keep[7]
    assert isinstance(y_kept, pd.Series)
    assert "'mean radius'" in caplog.text
    _, _, keep_array = drop_outliers(X.to_numpy(), columns=[0], factor=3.0)
    np.testing.assert_array_equal(keep_array, keep)


def test_drop_missing_rows():
    X, y = load_table("wine")
    dirty, nan_mask, _, _ = inject(X, nan_fraction=0.05, n_outliers=1)
    X_kept, y_kept, keep = drop_missing_rows(dirty, y)
    np.testing.assert_array_equal(keep, ~nan_mask.any(axis=1))
    assert not X_kept.isna().any().any() and len(y_kept) == len(X_kept)
    mixed = pd.DataFrame(
        {
            "n": [1.0, 2.0, 3.0],
            "c": ["a", None, "b"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        }
    )
    assert drop_missing_rows(mixed)[2].tolist() == [True, False, False]
    assert drop_missing_rows(mixed, columns=["n", "c"])[2].tolist() == [True, False, True]
    X_only, y_none, _ = drop_missing_rows(np.array([[1.0], [np.nan]]))
    assert y_none is None and X_only.shape == (1, 1)


def test_errors():
    X = np.array([[1.0], [2.0], [3.0]])
    with pytest.raises(
        ValueError, match=r"expected method to be one of 'iqr', 'zscore'\. Received: method='mad'"
    ):
        drop_outliers(X, method="mad")
    with pytest.raises(
        ValueError, match=r"drop_outliers: expected factor > 0\. Received: factor=0"
    ):
        drop_outliers(X, factor=0)
    with pytest.raises(ValueError, match=r"X has 3 rows but y has 2"):
        drop_outliers(X, [0, 1])
    with pytest.raises(ValueError, match=r"column\(s\) \['nope'\] are not in X"):
        drop_outliers(pd.DataFrame({"a": [1.0]}), columns=["nope"])
    with pytest.raises(ValueError, match=r"columns \['a'\] are not column indices"):
        drop_missing_rows(X, columns=["a"])
    with pytest.raises(ValueError, match=r"expects a 2-D X"):
        drop_outliers(np.zeros(3))
