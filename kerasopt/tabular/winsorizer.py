"""`Winsorizer`: clips each column to quantiles learned on the training data."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from kerasopt.core.errors import InvalidValueError
from kerasopt.tabular._base import NaNTolerantTransformer, input_feature_names, to_float_array


class Winsorizer(NaNTolerantTransformer):
    """Clips every column to its training quantiles, taming outliers without dropping rows.

    `fit` learns `lower_ = nanquantile(X, quantiles[0])` and
    `upper_ = nanquantile(X, quantiles[1])` per column, ignoring NaN; `transform` clips
    values below/above them to the bound and leaves NaN as NaN, so it can sit before an
    imputer (which then learns its mean from clipped data). Unlike dropping rows, it
    works inside a scikit-learn Pipeline and on test data, which always keeps every row.

    Args:
        quantiles: `(low, high)` with `0 <= low < high <= 1`. Defaults to `(0.01, 0.99)`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.tabular import Winsorizer
    >>> x = np.arange(101, dtype=float).reshape(-1, 1)
    >>> w = Winsorizer(quantiles=(0.05, 0.95)).fit(x)
    >>> w.transform([[-50.0], [50.0], [1e6]]).ravel()
    array([ 5., 50., 95.])
    """

    def __init__(self, quantiles=(0.01, 0.99)):
        self.quantiles = quantiles
        self._check_params()

    def _check_params(self):
        q = self.quantiles
        ok = (
            isinstance(q, list | tuple)
            and len(q) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in q)
            and 0.0 <= q[0] < q[1] <= 1.0
        )
        if not ok:
            raise InvalidValueError(
                "Winsorizer requires quantiles=(low, high) with 0 <= low < high <= 1. "
                f"Received: quantiles={q!r}. For example (0.01, 0.99)."
            )

    def fit(self, X, y=None):
        """Learns the per-column clipping bounds from the training data."""
        self._check_params()
        X = to_float_array(self, X, reset=True)
        with warnings.catch_warnings():
            # An all-NaN column gets NaN bounds and is left unchanged by transform.
            warnings.simplefilter("ignore", RuntimeWarning)
            self.lower_, self.upper_ = np.nanquantile(X, list(self.quantiles), axis=0)
        return self

    def transform(self, X):
        """Returns a float64 copy of `X` clipped to `[lower_, upper_]`; NaN stay NaN."""
        check_is_fitted(self, "lower_")
        X = to_float_array(self, X, reset=False)
        X = np.where(X < self.lower_, self.lower_, X)
        return np.where(X > self.upper_, self.upper_, X)

    def get_feature_names_out(self, input_features=None):
        """Returns the input column names: clipping keeps the columns."""
        return input_feature_names(self, input_features)
