"""`build_preprocessor`: the classic tabular cleaning recipe as one scikit-learn Pipeline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.validation import check_option
from kerasopt.tabular.datetime_features import DEFAULT_PARTS, DatetimeFeatures
from kerasopt.tabular.finite_float32 import FiniteFloat32
from kerasopt.tabular.interpolation_imputer import InterpolationImputer
from kerasopt.tabular.lag_features import LagFeatures
from kerasopt.tabular.winsorizer import Winsorizer

MISSING = ("median", "mean", "most_frequent", "interpolate", "drop")
OUTLIERS = ("winsorize", None)
SCALING = ("zscore", "minmax", None)
ENCODING = ("onehot", "ordinal")


def _columns(name, columns) -> list:
    if columns is None:
        return []
    if isinstance(columns, str | int) and not isinstance(columns, bool):
        return [columns]
    if not isinstance(columns, Sequence) or not all(
        isinstance(c, str | int | np.integer) and not isinstance(c, bool) for c in columns
    ):
        raise InvalidTypeError(
            f"build_preprocessor expects {name} to be a list of column names (DataFrame) or "
            f"column indices (NumPy array). Received: {name}={columns!r}."
        )
    return list(columns)


def _imputer(missing):
    if missing == "drop":
        return []
    if missing == "interpolate":
        return [("impute", InterpolationImputer())]
    # keep_empty_features: a column with no training value still yields one output
    # column, so the width the model was built for never changes.
    return [("impute", SimpleImputer(strategy=missing, keep_empty_features=True))]


def _scaler(scaling):
    if scaling is None:
        return []
    return [("scale", StandardScaler() if scaling == "zscore" else MinMaxScaler())]


def build_preprocessor(
    numeric: Sequence[str | int] | None = None,
    categorical: Sequence[str | int] | None = None,
    datetime: Sequence[str | int] | None = None,
    *,
    missing: str = "median",
    outliers: str | None = "winsorize",
    quantiles: tuple[float, float] = (0.01, 0.99),
    scaling: str | None = "zscore",
    encoding: str = "onehot",
    lags: Sequence[int] = (),
    diffs: Sequence[int] = (),
    datetime_parts: Sequence[str] = DEFAULT_PARTS,
) -> Pipeline:
    """Builds an unfitted Pipeline that turns a raw table into float32 features for Keras.

    Numeric columns go through `[LagFeatures] -> [Winsorizer] -> imputer -> [scaler]`:
    outliers are clipped before imputation so that a mean is not dragged by them.
    Categorical columns are one-hot encoded (`handle_unknown="ignore"`: an unseen
    category is all zeros; a missing value is its own category when seen in training)
    or ordinal encoded (unseen and missing both become -1). Datetime columns become
    calendar parts (`DatetimeFeatures`), then are imputed and scaled like numbers. A
    final `FiniteFloat32` casts to float32 and raises `InvalidDataError` naming any
    column that still holds NaN/Inf. Columns not listed are dropped.

    Fit on the training split only, then transform validation and test data with the
    same fitted pipeline, so that medians, quantiles, scales and categories all come
    from training data. Works on DataFrames (columns by name) and on NumPy arrays
    (columns by index; use an object array when it mixes numbers and strings).
    Row-dropping strategies cannot live in a Pipeline: see `drop_missing_rows` and
    `drop_outliers`.

    Args:
        numeric: Numeric columns. Defaults to `None` (none).
        categorical: Categorical columns (strings or integer codes). Defaults to `None`.
        datetime: Datetime columns (datetime64 or parseable strings). Defaults to `None`.
        missing: Imputation for numeric and datetime columns: `"median"`, `"mean"`,
            `"most_frequent"`, `"interpolate"` (linear along row order; time-ordered
            data only) or `"drop"` (no imputer: call `drop_missing_rows` on every split
            first). Defaults to `"median"`.
        outliers: `"winsorize"` (clip to training `quantiles`) or `None`. Defaults to
            `"winsorize"`.
        quantiles: `(low, high)` quantiles for winsorizing. Defaults to `(0.01, 0.99)`.
        scaling: `"zscore"` (StandardScaler), `"minmax"` (MinMaxScaler) or `None`.
            Defaults to `"zscore"`.
        encoding: `"onehot"` or `"ordinal"`. Defaults to `"onehot"`.
        lags: Row offsets of lag features added for every numeric column, e.g. `(1, 7)`;
            rows must be in time order. Their leading NaN are imputed by `missing`.
            Defaults to `()`.
        diffs: Row offsets of difference features (`x - x_lag`), as for `lags`.
            Defaults to `()`.
        datetime_parts: Parts extracted from datetime columns. Defaults to
            `("year", "month", "day", "dayofweek", "hour")`.

    Example:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from kerasopt.tabular import build_preprocessor
    >>> df = pd.DataFrame({"age": [20.0, np.nan, 40.0], "city": ["a", "b", "a"]})
    >>> pre = build_preprocessor(numeric=["age"], categorical=["city"])
    >>> pre.fit(df).transform(df).dtype, list(pre.get_feature_names_out())
    (dtype('float32'), ['age', 'city_a', 'city_b'])
    """
    owner = "build_preprocessor"
    check_option(owner, "missing", missing, MISSING)
    check_option(
        owner,
        "outliers",
        outliers,
        OUTLIERS,
        fix="To drop outlier rows, call drop_outliers(X, y, method='iqr') on the training "
        "split first: dropping rows cannot happen inside a Pipeline."
        if outliers in ("iqr", "zscore")
        else None,
    )
    check_option(owner, "scaling", scaling, SCALING)
    check_option(owner, "encoding", encoding, ENCODING)
    groups = {
        "numeric": _columns("numeric", numeric),
        "categorical": _columns("categorical", categorical),
        "datetime": _columns("datetime", datetime),
    }
    if not any(groups.values()):
        raise InvalidValueError(
            "build_preprocessor needs at least one column: pass numeric=[...], "
            "categorical=[...] or datetime=[...]."
        )
    seen = {}
    for group, columns in groups.items():
        for column in columns:
            if column in seen:
                raise InvalidValueError(
                    f"build_preprocessor: column {column!r} is listed in both {seen[column]} "
                    f"and {group}. List each column once."
                )
            seen[column] = group
    kinds = {type(c) is str for c in seen}
    if len(kinds) > 1:
        raise InvalidTypeError(
            "build_preprocessor: columns mix names and indices. Use names for a DataFrame "
            f"and indices for a NumPy array. Received: {list(seen)}."
        )
    if (lags or diffs) and missing == "drop":
        raise InvalidValueError(
            f"build_preprocessor: lags={lags!r}/diffs={diffs!r} leave NaN in the leading rows, "
            "which must be imputed, but missing='drop' imputes nothing. Use "
            "missing='interpolate' or 'median'."
        )
    if (lags or diffs) and not groups["numeric"]:
        raise InvalidValueError(
            f"build_preprocessor: lags={lags!r}/diffs={diffs!r} are computed from numeric "
            "columns, but numeric is empty. List the time series in numeric=[...]."
        )
    # Built up front so that a bad value fails here even if its columns are absent.
    lagger = LagFeatures(lags=lags, diffs=diffs) if (lags or diffs) else None
    winsorizer = Winsorizer(quantiles=quantiles)
    parts = DatetimeFeatures(parts=datetime_parts)

    transformers = []
    if groups["numeric"]:
        steps = [("lags", lagger)] if lagger is not None else []
        if outliers == "winsorize":
            steps.append(("winsorize", winsorizer))
        steps += _imputer(missing) + _scaler(scaling)
        numeric_step = Pipeline(steps) if steps else "passthrough"
        transformers.append(("numeric", numeric_step, groups["numeric"]))
    if groups["categorical"]:
        if encoding == "onehot":
            encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        else:
            encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
            )
        transformers.append(("categorical", encoder, groups["categorical"]))
    if groups["datetime"]:
        steps = [("parts", parts)]
        steps += _imputer(missing) + _scaler(scaling)
        transformers.append(("datetime", Pipeline(steps), groups["datetime"]))

    # Pandas output carries the column names to FiniteFloat32, so its error can name them.
    columns = ColumnTransformer(
        transformers, remainder="drop", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    return Pipeline([("columns", columns), ("float32", FiniteFloat32())])
