"""Input checks and feature names shared by the tabular transformers."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from kerasopt.core.errors import InvalidTypeError, InvalidValueError


class NaNTolerantTransformer(TransformerMixin, BaseEstimator):
    """Base of the kerasopt transformers that let NaN through for a later imputer."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def to_float_array(estimator, X, *, reset: bool) -> np.ndarray:
    """Returns `X` as a 2-D float64 array; records (`reset`) or checks its columns.

    On `reset` it sets `n_features_in_` and, for a DataFrame with string column names,
    `feature_names_in_`, as scikit-learn estimators do. Missing values (`None`, `pd.NA`)
    become NaN.
    """
    owner = type(estimator).__name__
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise InvalidTypeError(
            f"{owner} does not accept sparse input. Convert it with X.toarray() first; "
            "tabular cleaning works on dense columns."
        )
    try:
        if hasattr(X, "to_numpy"):
            array = X.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            array = np.asarray(X)
            if np.issubdtype(array.dtype, np.complexfloating):
                raise InvalidValueError("Complex data not supported")
            array = array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"{owner} needs numeric columns, but the input could not be converted to float "
            f"({error}). Route text columns to the categorical encoder and datetime columns "
            "to DatetimeFeatures."
        ) from error
    if array.ndim != 2:
        raise InvalidValueError(
            f"{owner} expects a 2-D input (samples, features). Received: X.shape="
            f"{array.shape}. Reshape your data with X.reshape(-1, 1) (or df[[column]]) for "
            "a single column."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InvalidValueError(
            f"{owner}: found array with {array.shape[0]} sample(s) and {array.shape[1]} "
            f"feature(s) (shape={array.shape}) while a minimum of 1 is required."
        )
    if reset:
        record_columns(estimator, X, array.shape[1])
    else:
        check_columns(estimator, array.shape[1])
    return array


def record_columns(estimator, X, n_features: int) -> None:
    """Sets `n_features_in_` and, for string-named DataFrame columns, `feature_names_in_`."""
    estimator.n_features_in_ = n_features
    columns = getattr(X, "columns", None)
    if columns is not None and all(isinstance(c, str) for c in columns):
        estimator.feature_names_in_ = np.asarray(columns, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def check_columns(estimator, n_features: int) -> None:
    """Raises unless the estimator is fitted on `n_features` columns."""
    check_is_fitted(estimator, "n_features_in_")
    if n_features != estimator.n_features_in_:
        raise InvalidValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input. Pass the same columns, in the "
            "same order, as at fit time."
        )


def input_feature_names(estimator, input_features=None) -> np.ndarray:
    """The names `get_feature_names_out` builds on: given, recorded, or `x0, x1, ...`."""
    check_is_fitted(estimator, "n_features_in_")
    if input_features is not None:
        names = np.asarray(input_features, dtype=object)
        if len(names) != estimator.n_features_in_:
            raise InvalidValueError(
                f"{type(estimator).__name__}.get_feature_names_out got {len(names)} "
                f"input_features but was fitted on {estimator.n_features_in_} columns."
            )
        return names
    if hasattr(estimator, "feature_names_in_"):
        return estimator.feature_names_in_
    return np.asarray([f"x{i}" for i in range(estimator.n_features_in_)], dtype=object)
