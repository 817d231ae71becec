"""`DatetimeFeatures`: numeric calendar parts (year, month, hour, ...) of datetime columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.suggestions import did_you_mean
from kerasopt.tabular._base import (
    NaNTolerantTransformer,
    check_columns,
    input_feature_names,
    record_columns,
)

PARTS = ("year", "quarter", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "second")
DEFAULT_PARTS = ("year", "month", "day", "dayofweek", "hour")


class DatetimeFeatures(NaNTolerantTransformer):
    """Turns each datetime column into numeric calendar parts a network can use.

    A timestamp as such means nothing to an MLP; its parts do (sales depend on the day
    of the week, load on the hour). For each input column `c` and each part `p` this
    outputs a float column `c_p` from pandas' `.dt` accessor: `year`, `quarter`,
    `month` (1-12), `day` (1-31), `dayofweek` (Monday=0 .. Sunday=6), `dayofyear`,
    `hour`, `minute`, `second`. Columns may hold `datetime64` values or anything
    `pandas.to_datetime` parses (ISO strings, `datetime` objects); a missing timestamp
    (`NaT`, `None`) gives NaN parts, to be imputed downstream. Nothing is learned by
    `fit` except the column names.

    Args:
        parts: Which parts to extract, from the list above. Defaults to
            `("year", "month", "day", "dayofweek", "hour")`.

    Example:

    >>> import pandas as pd
    >>> from kerasopt.tabular import DatetimeFeatures
    >>> df = pd.DataFrame({"when": pd.to_datetime(["2024-03-15 08:30", "2024-12-25 23:00"])})
    >>> DatetimeFeatures(parts=("month", "dayofweek", "hour")).fit_transform(df)
    array([[ 3.,  4.,  8.],
           [12.,  2., 23.]])
    """

    def __init__(self, parts=DEFAULT_PARTS):
        self.parts = parts
        self._check_params()

    def _check_params(self):
        parts = self.parts
        if not isinstance(parts, list | tuple) or not parts:
            raise InvalidTypeError(
                "DatetimeFeatures requires parts to be a non-empty tuple of part names. "
                f"Received: parts={parts!r}. Valid parts: {list(PARTS)}."
            )
        for part in parts:
            if part not in PARTS:
                hint = did_you_mean(part, PARTS)
                raise InvalidValueError(
                    f"DatetimeFeatures got an unknown part {part!r} in parts={parts!r}.{hint} "
                    f"Valid parts: {list(PARTS)}."
                )
        if len(set(parts)) != len(parts):
            raise InvalidValueError(f"DatetimeFeatures got duplicate parts. Received: {parts=}.")

    def _frame(self, X) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X
        array = np.asarray(X)
        if array.ndim != 2:
            raise InvalidValueError(
                "DatetimeFeatures expects a 2-D input (samples, columns). Received: "
                f"X.shape={array.shape}. Use df[[column]] or X.reshape(-1, 1)."
            )
        return pd.DataFrame(array)

    def _parse(self, name, column: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(column):
            return column
        try:
            return pd.to_datetime(column, errors="raise")
        except (ValueError, TypeError, OverflowError) as error:
            raise InvalidValueError(
                f"DatetimeFeatures could not parse column {name!r} as datetimes ({error}). "
                f"Received values such as {column.head(3).tolist()}. Convert the column with "
                "pandas.to_datetime(..., format=...) first."
            ) from error

    def fit(self, X, y=None):
        """Records the columns and checks that every one parses as datetimes."""
        self._check_params()
        frame = self._frame(X)
        record_columns(self, X, frame.shape[1])
        for name, (_, column) in zip(input_feature_names(self), frame.items(), strict=True):
            self._parse(name, column)
        return self

    def transform(self, X):
        """Returns one float64 column per (input column, part), NaN where the time is NaT."""
        self._check_params()
        frame = self._frame(X)
        check_columns(self, frame.shape[1])
        out = []
        for name, (_, column) in zip(input_feature_names(self), frame.items(), strict=True):
            times = self._parse(name, column).dt
            out += [getattr(times, p).astype("float64").to_numpy() for p in self.parts]
        return np.column_stack(out)

    def get_feature_names_out(self, input_features=None):
        """Returns `c_p` for each input column `c` and part `p`, columns outermost."""
        names = [f"{c}_{p}" for c in input_feature_names(self, input_features) for p in self.parts]
        return np.asarray(names, dtype=object)
