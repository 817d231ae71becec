"""`FiniteFloat32`: the last pipeline step, float32 output or an error naming the column."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from kerasopt.data.validation import InvalidDataError
from kerasopt.tabular._base import input_feature_names, to_float_array


class FiniteFloat32(TransformerMixin, BaseEstimator):
    """Casts to float32 for Keras and refuses NaN/Inf, naming the columns that hold them.

    A NaN that reaches `model.fit` shows up epochs later as `loss: nan`, with nothing
    pointing at its cause. This step, last in `build_preprocessor`'s pipeline, fails
    at once instead, with `kerasopt.data.InvalidDataError` (a `ValueError`) naming each
    bad column (after encoding, e.g. `age_lag1`) and how many values are bad. Values
    beyond float32's range (about 3.4e38) become Inf in the cast and are caught too.

    Example:

    >>> import numpy as np
    >>> from kerasopt.tabular import FiniteFloat32
    >>> FiniteFloat32().fit_transform(np.array([[1.0, 2.0]])).dtype
    dtype('float32')
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def fit(self, X, y=None):
        """Records the column names and checks that every value is finite."""
        self._cast(to_float_array(self, X, reset=True))
        return self

    def transform(self, X):
        """Returns `X` as float32; raises `InvalidDataError` if any value is not finite."""
        return self._cast(to_float_array(self, X, reset=False))

    def _cast(self, X):
        with np.errstate(over="ignore"):
            out = X.astype(np.float32)
        bad = ~np.isfinite(out)
        if bad.any():
            names = input_feature_names(self)
            problems = []
            for j in np.flatnonzero(bad.any(axis=0)):
                n_nan = int(np.isnan(out[:, j]).sum())
                n_inf = int(bad[:, j].sum()) - n_nan
                counts = ", ".join(
                    f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (n_inf, "Inf")) if n
                )
                problems.append(f"{names[j]!r} ({counts})")
            raise InvalidDataError(
                f"Preprocessed data still holds non-finite values in column(s) "
                f"{', '.join(problems)} of {len(out)} rows. A NaN means no step imputed the "
                "column: with missing='drop', call drop_missing_rows(X, y) on every split "
                "first, or choose missing='median'. An Inf means the input held Inf or a "
                "value beyond float32's range: winsorize (outliers='winsorize') or replace "
                "it with NaN first."
            )
        return out

    def get_feature_names_out(self, input_features=None):
        """Returns the input column names: the cast keeps the columns."""
        return input_feature_names(self, input_features)
