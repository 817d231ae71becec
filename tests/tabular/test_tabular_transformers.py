"""The custom transformers: hand-checked values, sklearn API, clear errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator
from tabular_data import inject, load_table

from kerasopt.data import InvalidDataError
from kerasopt.tabular import (
    DatetimeFeatures,
    FiniteFloat32,
    InterpolationImputer,
    LagFeatures,
    Winsorizer,
)


def test_interpolation_equals_numpy_interp():
    column = np.array([np.nan, 2.0, np.nan, np.nan, 8.0, 10.0, np.nan, 4.0, np.nan])
    known = ~np.isnan(column)
    rows = np.arange(len(column))
    expected = np.interp(rows, rows[known], column[known])
    out = InterpolationImputer().fit_transform(column.reshape(-1, 1))
    np.testing.assert_array_equal(out[:, 0], expected)
    # Edges take the nearest known value; interior gaps lie on the line.
    np.testing.assert_array_equal(out[:, 0], [2, 2, 4, 6, 8, 10, 7, 4, 4])


def test_interpolation_falls_back_to_training_mean():
    imputer = InterpolationImputer().fit(np.array([[1.0, 0.0], [3.0, np.nan]]))
    out = imputer.transform(np.array([[np.nan, 5.0], [np.nan, np.nan]]))
    np.testing.assert_array_equal(out, [[2.0, 5.0], [2.0, 5.0]])
    np.testing.assert_array_equal(imputer.statistics_, [2.0, 0.0])


def test_interpolation_rejects_empty_training_column():
    frame = pd.DataFrame({"ok": [1.0, 2.0], "empty": [np.nan, np.nan]})
    with pytest.raises(ValueError, match=r"column\(s\) \['empty'\] have no observed value"):
        InterpolationImputer().fit(frame)


def test_winsorizer_clips_to_learned_quantiles():
    X, _ = load_table("breast_cancer")
    dirty, nan_mask, rows, cols = inject(X)
    train, test = dirty.iloc[:400], dirty.iloc[400:]
    winsorizer = Winsorizer(quantiles=(0.05, 0.95)).fit(train)
    np.testing.assert_allclose(winsorizer.lower_, np.nanquantile(train, 0.05, axis=0))
    np.testing.assert_allclose(winsorizer.upper_, np.nanquantile(train, 0.95, axis=0))
    out = winsorizer.transform(test)
    finite = ~np.isnan(out)
    assert np.all(out[finite] >= np.broadcast_to(winsorizer.lower_, out.shape)[finite])
    assert np.all(out[finite] <= np.broadcast_to(winsorizer.upper_, out.shape)[finite])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(test.to_numpy()))  # NaN kept
    for r, c in zip(rows, cols, strict=True):  # every injected outlier hits the bound
        if r >= 400:
            assert out[r - 400, c] == winsorizer.upper_[c]
    inside = (test.to_numpy() > winsorizer.lower_) & (test.to_numpy() < winsorizer.upper_)
    np.testing.assert_array_equal(out[inside], test.to_numpy()[inside])


def test_lag_features_by_hand():
    frame = pd.DataFrame({"sales": [1.0, 4.0, 9.0, 16.0], "temp": [10.0, 11.0, 13.0, 16.0]})
    lagger = LagFeatures(lags=(1, 2), diffs=(1,)).fit(frame)
    out = lagger.transform(frame)
    assert list(lagger.get_feature_names_out()) == [
        "sales",
        "temp",
        "sales_lag1",
        "temp_lag1",
        "sales_lag2",
        "temp_lag2",
        "sales_diff1",
        "temp_diff1",
    ]
    nan = np.nan
    np.testing.assert_array_equal(
        out,
        [
            [1, 10, nan, nan, nan, nan, nan, nan],
            [4, 11, 1, 10, nan, nan, 3, 1],
            [9, 13, 4, 11, 1, 10, 5, 2],
            [16, 16, 9, 13, 4, 11, 7, 3],
        ],
    )


def test_datetime_parts_by_hand():
    when = ["2024-02-29 13:45:10", "2023-12-31 00:00:00", None, "2021-07-04 06:30:00"]
    expected = np.array(
        [
            # year, quarter, month, day, dayofweek, dayofyear, hour, minute, second
            [2024, 1, 2, 29, 3, 60, 13, 45, 10],  # Thursday, leap day
            [2023, 4, 12, 31, 6, 365, 0, 0, 0],  # Sunday
            [np.nan] * 9,
            [2021, 3, 7, 4, 6, 185, 6, 30, 0],  # Sunday
        ]
    )
    parts = (
        "year",
        "quarter",
        "month",
        "day",
        "dayofweek",
        "dayofyear",
        "hour",
        "minute",
        "second",
    )
    as_strings = pd.DataFrame({"when": when})
    as_datetimes = pd.DataFrame({"when": pd.to_datetime(when)})
    as_array = np.array(when, dtype=object).reshape(-1, 1)
    for X in (as_strings, as_datetimes, as_array):
        features = DatetimeFeatures(parts=parts).fit(X)
        np.testing.assert_array_equal(features.transform(X), expected)
    assert list(
        DatetimeFeatures(parts=("month", "hour")).fit(as_strings).get_feature_names_out()
    ) == ["when_month", "when_hour"]


def test_datetime_errors():
    with pytest.raises(ValueError, match=r"unknown part 'weekday'.*Did you mean 'day'\?"):
        DatetimeFeatures(parts=("weekday",))
    with pytest.raises(TypeError, match=r"non-empty tuple of part names. Received: parts='year'"):
        DatetimeFeatures(parts="year")
    bad = pd.DataFrame({"when": ["2024-01-01", "not a date"]})
    with pytest.raises(ValueError, match=r"could not parse column 'when' as datetimes"):
        DatetimeFeatures().fit(bad)


def test_finite_float32_names_the_column():
    frame = pd.DataFrame({"age": [1.0, np.nan, np.nan], "income": [1.0, 2.0, 1e39], "ok": 1.0})
    with pytest.raises(
        InvalidDataError,
        match=r"'age' \(2 NaN\), 'income' \(1 Inf\) of 3 "
        r"rows.*missing='drop'",
    ):
        FiniteFloat32().fit_transform(frame)
    out = FiniteFloat32().fit_transform(frame[["ok"]])
    assert out.dtype == np.float32


def test_parameter_errors():
    with pytest.raises(
        ValueError,
        match=r"0 <= low < high <= 1. Received: quantiles=\(0.9, "
        r"0.1\)",
    ):
        Winsorizer(quantiles=(0.9, 0.1))
    with pytest.raises(TypeError, match=r"lags to be a tuple of ints. Received: lags=3"):
        LagFeatures(lags=3)
    with pytest.raises(ValueError, match=r"distinct positive ints. Received: diffs=\(0,\)"):
        LagFeatures(diffs=(0,))
    with pytest.raises(ValueError, match=r"at least one lag or diff"):
        LagFeatures(lags=(), diffs=())
    winsorizer = Winsorizer().set_params(quantiles=(0.5, 0.5))  # set_params skips __init__
    with pytest.raises(ValueError, match=r"Received: quantiles=\(0.5, 0.5\)"):
        winsorizer.fit(np.zeros((3, 1)))
    fitted = Winsorizer().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"X has 3 features, but Winsorizer is expecting 2"):
        fitted.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"needs numeric columns"):
        Winsorizer().fit(np.array([["a"], ["b"]]))
    with pytest.raises(ValueError, match=r"expects a 2-D input.*X.shape=\(3,\)"):
        Winsorizer().fit(np.zeros(3))


TRANSFORMERS = [
    InterpolationImputer(),
    Winsorizer(quantiles=(0.1, 0.9)),
    LagFeatures(lags=(1, 3), diffs=(2,)),
    DatetimeFeatures(parts=("month", "hour")),
    FiniteFloat32(),
]


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: type(t).__name__)
def test_sklearn_clone_and_params(transformer):
    copy = clone(transformer)
    assert type(copy) is type(transformer)
    assert copy.get_params() == transformer.get_params()
    assert copy is not transformer
    X = pd.DataFrame({"a": ["2024-01-01 10:00", "2024-05-02 11:00", "2024-06-03 12:00"]})
    if not isinstance(transformer, DatetimeFeatures):
        X = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, 2.0, 1.0]})
    out = copy.fit(X).transform(X)
    assert out.shape == (3, len(copy.get_feature_names_out()))


# Deliberate departures from scikit-learn's checks, with the reason for each.
INIT_CHECK = {
    "check_do_not_raise_errors_in_init_or_set_params": (
        "kerasopt checks arguments in __init__ (STYLE rule 6), and again in fit for set_params"
    )
}
ROW_ORDER = {
    name: "lags depend on row order by design"
    for name in ("check_methods_sample_order_invariance", "check_methods_subset_invariance")
}
CHECKED = [
    (InterpolationImputer(), {}),
    (FiniteFloat32(), {}),
    (Winsorizer(), INIT_CHECK),
    (LagFeatures(), {**INIT_CHECK, **ROW_ORDER}),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize(
    "transformer, expected_failures", CHECKED, ids=[type(t).__name__ for t, _ in CHECKED]
)
def test_passes_sklearn_estimator_checks(transformer, expected_failures):
    check_estimator(transformer, expected_failed_checks=expected_failures)
