"""`InterpolationImputer`: fills gaps in time-ordered columns by linear interpolation."""

from __future__ import annotations

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.tabular._base import NaNTolerantTransformer, input_feature_names, to_float_array


class InterpolationImputer(NaNTolerantTransformer):
    """Fills NaN by linear interpolation between neighbouring rows of the same column.

    For time-ordered data (sensor readings, daily sales) a gap is best filled from the
    values just before and after it, not from the column mean. Each column is
    interpolated along the row position, `numpy.interp(missing_rows, known_rows,
    known_values)`: equally spaced rows are assumed, and NaN before the first (after the
    last) known value take that first (last) value. `transform` interpolates within the
    rows it is given, so pass rows in time order and never shuffled. A column with no
    known value in the rows passed to `transform` is filled with its training mean,
    learned by `fit` (`statistics_`). A column with no known value at fit time is an
    error, as nothing can be learned from it.

    Example:

    >>> import numpy as np
    >>> from kerasopt.tabular import InterpolationImputer
    >>> InterpolationImputer().fit_transform(np.array([[1.0], [np.nan], [np.nan], [4.0]]))
    array([[1.],
           [2.],
           [3.],
           [4.]])
    """

    def fit(self, X, y=None):
        """Learns each column's training mean, the fallback for all-NaN columns."""
        X = to_float_array(self, X, reset=True)
        empty = np.flatnonzero(np.isnan(X).all(axis=0))
        if empty.size:
            names = list(input_feature_names(self)[empty])
            raise InvalidValueError(
                f"InterpolationImputer: column(s) {names} have no observed value in the "
                f"{len(X)} training rows, so there is nothing to interpolate from. Drop "
                "them or fill them with a constant first."
            )
        self.statistics_ = np.nanmean(X, axis=0)
        return self

    def transform(self, X):
        """Returns a float64 copy of `X` with every NaN interpolated along the rows."""
        X = to_float_array(self, X, reset=False).copy()
        rows = np.arange(len(X))
        for j in range(X.shape[1]):
            column = X[:, j]
            missing = np.isnan(column)
            if not missing.any():
                continue
            if missing.all():
                column[:] = self.statistics_[j]
                continue
            column[missing] = np.interp(rows[missing], rows[~missing], column[~missing])
        return X

    def get_feature_names_out(self, input_features=None):
        """Returns the input column names: interpolation keeps the columns."""
        return input_feature_names(self, input_features)
