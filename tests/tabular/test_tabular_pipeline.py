"""build_preprocessor: finite float32 of the right width, statistics from train only."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from tabular_data import inject, load_table

from kerasopt.data import InvalidDataError
from kerasopt.tabular import build_preprocessor


def _split(X, y, n_train):
    dirty, *_ = inject(X)
    return dirty.iloc[:n_train], dirty.iloc[n_train:], y[:n_train], y[n_train:]


def _check_output(out, n_rows, width):
    assert out.dtype == np.float32
    assert out.shape == (n_rows, width)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("missing", ["median", "mean", "most_frequent", "interpolate"])
@pytest.mark.parametrize("scaling", ["zscore", "minmax", None], ids=["zscore", "minmax", "none"])
def test_dirty_breast_cancer_becomes_finite_float32(missing, scaling):
    X, y = load_table("breast_cancer")
    train, test, _, _ = _split(X, y, 400)
    pre = build_preprocessor(numeric=list(X.columns), missing=missing, scaling=scaling)
    _check_output(pre.fit_transform(train), 400, 30)
    _check_output(pre.transform(test), len(X) - 400, 30)
    assert list(pre.get_feature_names_out()) == list(X.columns)


def test_numpy_indices_match_dataframe_names():
    X, y = load_table("wine")
    train, test, _, _ = _split(X, y, 120)
    by_name = build_preprocessor(numeric=list(X.columns)).fit(train)
    by_index = build_preprocessor(numeric=list(range(X.shape[1]))).fit(train.to_numpy())
    np.testing.assert_array_equal(by_index.transform(test.to_numpy()), by_name.transform(test))
    assert list(by_index.get_feature_names_out())[:2] == ["x0", "x1"]


def test_diabetes_regression_table():
    X, y = load_table("diabetes")
    train, test, _, _ = _split(X, y, 300)
    pre = build_preprocessor(numeric=list(X.columns), scaling="minmax", missing="mean")
    _check_output(pre.fit_transform(train), 300, 10)
    _check_output(pre.transform(test), len(X) - 300, 10)


def test_statistics_come_from_training_data_only():
    X, y = load_table("breast_cancer")
    train, test, _, _ = _split(X, y, 400)
    pre = build_preprocessor(numeric=list(X.columns), quantiles=(0.05, 0.95)).fit(train)
    numeric = pre.named_steps["columns"].named_transformers_["numeric"]
    winsorizer, imputer, scaler = (numeric.named_steps[k] for k in ("winsorize", "impute", "scale"))
    raw = train.to_numpy()
    lower, upper = np.nanquantile(raw, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(winsorizer.lower_, lower)
    np.testing.assert_allclose(winsorizer.upper_, upper)
    clipped = np.clip(raw, lower, upper)
    medians = np.nanmedian(clipped, axis=0)
    np.testing.assert_allclose(imputer.statistics_, medians)
    filled = np.where(np.isnan(clipped), medians, clipped)
    np.testing.assert_allclose(scaler.mean_, filled.mean(axis=0))
    # The full table gives different statistics, so the checks above can tell them apart.
    everything = np.vstack([raw, test.to_numpy()])
    assert not np.allclose(np.nanquantile(everything, 0.95, axis=0), upper)
    # Test rows are transformed with the training statistics, recomputed by hand.
    t = np.clip(test.to_numpy(), lower, upper)
    t = np.where(np.isnan(t), medians, t)
    expected = (t - scaler.mean_) / scaler.scale_
    np.testing.assert_allclose(pre.transform(test), expected, rtol=1e-5, atol=1e-5)


def _shop(colors):
    return pd.DataFrame({"price": np.arange(len(colors), dtype=float), "color": colors})


def test_onehot_ignores_unseen_categories():
    pre = build_preprocessor(
        numeric=["price"], categorical=["color"], scaling=None, outliers=None
    ).fit(_shop(["red", "blue", "red", None]))
    assert list(pre.get_feature_names_out()) == ["price", "color_blue", "color_red", "color_nan"]
    out = pre.transform(_shop(["blue", "green", None]))
    np.testing.assert_array_equal(out[:, 1:], [[1, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_ordinal_maps_unseen_and_missing_to_minus_one():
    pre = build_preprocessor(categorical=["color"], encoding="ordinal")
    pre.fit(_shop(["red", "blue", "red"]))
    out = pre.transform(_shop(["blue", "red", "green", None]))
    np.testing.assert_array_equal(out[:, 0], [0, 1, -1, -1])


def test_datetime_parts_lags_and_diffs_by_hand():
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2024-01-30 22:00", periods=4, freq="h"),
            "load": [10.0, 12.0, 15.0, 11.0],
        }
    )
    pre = build_preprocessor(
        numeric=["load"],
        datetime=["when"],
        missing="interpolate",
        outliers=None,
        scaling=None,
        lags=(1,),
        diffs=(1,),
        datetime_parts=("day", "hour"),
    )
    out = pre.fit_transform(frame)
    assert list(pre.get_feature_names_out()) == [
        "load",
        "load_lag1",
        "load_diff1",
        "when_day",
        "when_hour",
    ]
    # The leading lag/diff NaN take the nearest value (interpolation at the edge).
    np.testing.assert_array_equal(
        out,
        [[10, 10, 2, 30, 22], [12, 10, 2, 30, 23], [15, 12, 3, 31, 0], [11, 15, -4, 31, 1]],
    )


def test_remaining_nan_is_an_error_naming_the_column():
    X, y = load_table("wine")
    dirty, *_ = inject(X)
    pre = build_preprocessor(numeric=list(X.columns), missing="drop")
    with pytest.raises(InvalidDataError, match=r"'alcohol' \(\d+ NaN\).*drop_missing_rows"):
        pre.fit_transform(dirty)
    times = pd.DataFrame({"when": pd.to_datetime(["2024-01-01", None])})
    with pytest.raises(InvalidDataError, match=r"'when_year' \(1 NaN\)"):
        build_preprocessor(datetime=["when"], missing="drop").fit_transform(times)


def test_clone_gives_an_equal_unfitted_pipeline():
    X, y = load_table("wine")
    train, test, _, _ = _split(X, y, 120)
    pre = build_preprocessor(numeric=list(X.columns), scaling="minmax", lags=(1,))
    copy = clone(pre)
    assert copy is not pre
    np.testing.assert_array_equal(copy.fit(train).transform(test), pre.fit(train).transform(test))


BAD_OPTIONS = [
    (
        {"missing": "avg"},
        ValueError,
        r"expected missing to be one of 'median', 'mean'.*Received: missing='avg'",
    ),
    (
        {"outliers": "iqr"},
        ValueError,
        r"Received: outliers='iqr'\. To drop outlier rows, call drop_outliers\(X, y",
    ),
    (
        {"scaling": "robust"},
        ValueError,
        r"build_preprocessor: expected scaling to be one of 'zscore', 'minmax', None\. "
        r"Received: scaling='robust'",
    ),
    (
        {"encoding": "target"},
        ValueError,
        r"expected encoding to be one of 'onehot'.*Received: encoding='target'",
    ),
    ({"missing": "drop", "lags": (1,)}, ValueError, r"missing='drop' imputes nothing"),
    ({"quantiles": (0.5, 0.1)}, ValueError, r"quantiles=\(0.5, 0.1\)"),
    ({"lags": 3}, TypeError, r"lags to be a tuple of ints. Received: lags=3"),
    ({"numeric": None, "categorical": ["c"], "lags": (1,)}, ValueError, r"numeric is empty"),
    ({"datetime_parts": ("weekday",)}, ValueError, r"unknown part 'weekday'"),
    (
        {"categorical": ["a"]},
        ValueError,
        r"column 'a' is listed in both numeric and "
        r"categorical",
    ),
    ({"categorical": [1]}, TypeError, r"mix names and indices"),
    ({"numeric": None}, ValueError, r"needs at least one column"),
    ({"numeric": [1.5]}, TypeError, r"Received: numeric=\[1.5\]"),
]


@pytest.mark.parametrize(
    "kwargs, error, message",
    BAD_OPTIONS,
    ids=[next(iter(k)) + str(i) for i, (k, _, _) in enumerate(BAD_OPTIONS)],
)
def test_bad_options_raise(kwargs, error, message):
    kwargs = {"numeric": ["a", "b"], **kwargs}
    with pytest.raises(error, match=message):
        build_preprocessor(**kwargs)


def test_single_column_name_is_accepted():
    out = build_preprocessor(numeric="a").fit_transform(pd.DataFrame({"a": [1.0, 2.0]}))
    assert out.shape == (2, 1)


def test_importing_tabular_does_not_import_keras():
    code = (
        "import sys, kerasopt.tabular; "
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
