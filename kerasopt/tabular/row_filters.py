"""Row filters for the training split: drop rows with missing values or outliers.

These are functions, not Pipeline steps, on purpose. A scikit-learn transformer's
`transform(X)` must return one output row per input row and never sees `y`, so a step
that drops rows would leave `X` and `y` misaligned; and at prediction time every test
row needs a prediction, so test rows must not be dropped at all. Call these on the
training data before `preprocessor.fit`; inside the pipeline use imputation and
`Winsorizer`, which keep every row.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_number, check_option

logger = logging.getLogger("kerasopt.tabular")

METHODS = ("iqr", "zscore")


def _select(X, columns, *, numeric_only: bool, caller: str):
    """Returns `(values, names)` of the chosen columns of a DataFrame or 2-D array."""
    if isinstance(X, pd.DataFrame):
        if columns is None:
            frame = X.select_dtypes("number") if numeric_only else X
        else:
            missing = [c for c in columns if c not in X.columns]
            if missing:
                raise InvalidValueError(
                    f"{caller}: column(s) {missing} are not in X. Available columns: "
                    f"{list(X.columns)}."
                )
            frame = X[list(columns)]
        return frame, [str(c) for c in frame.columns]
    array = np.asarray(X)
    if array.ndim != 2:
        raise InvalidValueError(
            f"{caller} expects a 2-D X (samples, features). Received: X.shape={array.shape}."
        )
    index = list(range(array.shape[1])) if columns is None else list(columns)
    bad = [
        c
        for c in index
        if not isinstance(c, int | np.integer) or not -array.shape[1] <= c < array.shape[1]
    ]
    if bad:
        raise InvalidValueError(
            f"{caller}: columns {bad} are not column indices of an array with "
            f"{array.shape[1]} columns. Column names need a pandas DataFrame."
        )
    return pd.DataFrame(array[:, index]), [f"x{i}" for i in index]


def _apply(X, y, keep, caller):
    if y is not None and len(y) != len(X):
        raise InvalidValueError(
            f"{caller}: X has {len(X)} rows but y has {len(y)}. Pass the labels of X."
        )
    y_kept = None if y is None else (y[keep] if hasattr(y, "iloc") else np.asarray(y)[keep])
    X_kept = X[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]
    return X_kept, y_kept, keep


def drop_missing_rows(X, y=None, *, columns=None):
    """Drops the rows that have a missing value, and their labels.

    The "drop rows" strategy of the classic cleaning guides: fine when few rows have
    gaps, wasteful otherwise (impute instead). `None`, `NaN`, `pd.NA` and `NaT` all count
    as missing. Use it with `build_preprocessor(missing="drop")`, on every split, since
    that pipeline imputes nothing.

    Args:
        X: A DataFrame or 2-D array.
        y: Labels aligned with `X`, or `None`. Defaults to `None`.
        columns: Column names (DataFrame) or indices (array) to check; `None` checks all.
            Defaults to `None`.

    Returns:
        `(X_kept, y_kept, keep)`: the kept rows (a DataFrame keeps its index), their
        labels (`None` when `y` is `None`) and the boolean mask of kept rows.

    Example:

    >>> import numpy as np
    >>> from kerasopt.tabular import drop_missing_rows
    >>> X, y, keep = drop_missing_rows(np.array([[1.0, 2.0], [np.nan, 1.0]]), np.array([0, 1]))
    >>> keep
    array([ True, False])
    """
    frame, _ = _select(X, columns, numeric_only=False, caller="drop_missing_rows")
    keep = ~frame.isna().any(axis=1).to_numpy()
    logger.info("drop_missing_rows: dropped %d of %d rows", int((~keep).sum()), len(keep))
    return _apply(X, y, keep, "drop_missing_rows")


def drop_outliers(X, y=None, *, method="iqr", columns=None, factor=1.5, threshold=3.0):
    """Drops training rows with an outlier in any chosen numeric column.

    `method="iqr"` (Tukey's fences) flags `x < Q1 - factor * IQR` or
    `x > Q3 + factor * IQR`, with `IQR = Q3 - Q1`; it is robust, since a few extreme
    values barely move the quartiles. `method="zscore"` flags `|x - mean| / std >
    threshold`; extreme values inflate the std they are measured with, so a cluster of
    outliers can hide itself (prefer `iqr` when in doubt). NaN is never an outlier, and a
    constant column flags nothing. The bounds come from the `X` passed in: call it on the
    training split only (see the module docstring for why this is not a Pipeline step).

    Args:
        X: A DataFrame or 2-D numeric array.
        y: Labels aligned with `X`, or `None`. Defaults to `None`.
        method: `"iqr"` or `"zscore"`. Defaults to `"iqr"`.
        columns: Column names (DataFrame) or indices (array) to check; `None` checks
            every numeric column. Defaults to `None`.
        factor: IQR multiplier for `method="iqr"`; 3.0 flags only far-out values.
            Defaults to `1.5`.
        threshold: Largest allowed `|z|` for `method="zscore"`. Defaults to `3.0`.

    Returns:
        `(X_kept, y_kept, keep)` as in `drop_missing_rows`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.tabular import drop_outliers
    >>> X = np.array([[1.0], [2.0], [3.0], [2.5], [100.0]])
    >>> X_kept, _, keep = drop_outliers(X, method="iqr")
    >>> keep
    array([ True,  True,  True,  True, False])
    """
    check_option(
        "drop_outliers", "method", method, METHODS,
        fix="To clip instead of dropping rows, use Winsorizer "
        "(build_preprocessor(outliers='winsorize')).",
    )  # fmt: skip
    check_number("drop_outliers", "factor", factor, 0, closed="neither", example=1.5)
    check_number("drop_outliers", "threshold", threshold, 0, closed="neither", example=3.0)
    frame, names = _select(X, columns, numeric_only=True, caller="drop_outliers")
    try:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise InvalidValueError(
            f"drop_outliers needs numeric columns; {names} could not be converted to float "
            f"({error}). Pass numeric columns in `columns`."
        ) from error
    with np.errstate(invalid="ignore"):
        if method == "iqr":
            q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
            spread = factor * (q3 - q1)
            outlier = (values < q1 - spread) | (values > q3 + spread)
        else:
            std = np.nanstd(values, axis=0)
            z = np.abs(values - np.nanmean(values, axis=0)) / np.where(std > 0, std, np.inf)
            outlier = z > threshold
    keep = ~outlier.any(axis=1)
    if not keep.any():
        raise InvalidValueError(
            f"drop_outliers(method={method!r}) would drop all {len(keep)} rows. Raise "
            "factor/threshold or restrict `columns`."
        )
    counts = {n: int(c) for n, c in zip(names, outlier.sum(axis=0), strict=True) if c}
    logger.info(
        "drop_outliers(%s): dropped %d of %d rows; outliers per column: %s",
        method,
        int((~keep).sum()),
        len(keep),
        counts,
    )
    return _apply(X, y, keep, "drop_outliers")
