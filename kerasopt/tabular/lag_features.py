"""`LagFeatures`: previous values and differences of time-ordered columns."""

from __future__ import annotations

import numpy as np

from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.tabular._base import NaNTolerantTransformer, input_feature_names, to_float_array


def _check_steps(name: str, steps) -> None:
    hint = (
        f"Use {name}=(1, 2, 3) for the last three rows, or {name}=(7,) for the row seven "
        "steps back."
    )
    if not isinstance(steps, list | tuple) or not all(
        isinstance(s, int | np.integer) and not isinstance(s, bool) for s in steps
    ):
        raise InvalidTypeError(
            f"LagFeatures requires {name} to be a tuple of ints. Received: {name}={steps!r}. {hint}"
        )
    if any(s < 1 for s in steps) or len(set(steps)) != len(steps):
        raise InvalidValueError(
            f"LagFeatures requires {name} to hold distinct positive ints. Received: "
            f"{name}={steps!r}. {hint}"
        )


class LagFeatures(NaNTolerantTransformer):
    """Appends lagged values and differences of each column, for time-ordered rows.

    For every input column `c` it keeps `c` and appends `c_lag{k}` (the value `k` rows
    earlier) for each `k` in `lags`, then `c_diff{d} = c - c_lag{d}` for each `d` in
    `diffs`. Rows must be in time order, one row per time step. The first `k` rows of
    every batch passed to `transform` have no earlier row, so their lag/diff is NaN:
    put an imputer after this step (`build_preprocessor` does). On a test split that
    directly follows the training split, real values for those rows come from
    transforming `concat([train.tail(max_lag), test])` and dropping the first `max_lag`
    output rows. Nothing is learned by `fit` except the column names.

    Args:
        lags: Distinct positive row offsets for lag features. Defaults to `(1,)`.
        diffs: Distinct positive row offsets for difference features. Defaults to `()`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.tabular import LagFeatures
    >>> LagFeatures(lags=(1,), diffs=(1,)).fit_transform(np.array([[1.0], [4.0], [9.0]]))
    array([[ 1., nan, nan],
           [ 4.,  1.,  3.],
           [ 9.,  4.,  5.]])
    """

    def __init__(self, lags=(1,), diffs=()):
        self.lags = lags
        self.diffs = diffs
        self._check_params()

    def _check_params(self):
        _check_steps("lags", self.lags)
        _check_steps("diffs", self.diffs)
        if not self.lags and not self.diffs:
            raise InvalidValueError(
                "LagFeatures needs at least one lag or diff. Received: lags=() and diffs=(). "
                "Pass lags=(1,) or leave the step out."
            )

    def fit(self, X, y=None):
        """Records the input columns; lags need no statistics."""
        self._check_params()
        to_float_array(self, X, reset=True)
        return self

    def _shift(self, X, k):
        shifted = np.full_like(X, np.nan)
        shifted[k:] = X[:-k]
        return shifted

    def transform(self, X):
        """Returns `[X, lags..., diffs...]` as float64, NaN where no earlier row exists."""
        X = to_float_array(self, X, reset=False)
        parts = [X]
        parts += [self._shift(X, k) for k in self.lags]
        parts += [X - self._shift(X, d) for d in self.diffs]
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):
        """Returns `c`, then `c_lag{k}` for each lag, then `c_diff{d}` for each diff."""
        base = list(input_feature_names(self, input_features))
        names = base + [f"{c}_lag{k}" for k in self.lags for c in base]
        names += [f"{c}_diff{d}" for d in self.diffs for c in base]
        return np.asarray(names, dtype=object)
