"""Tabular data cleaning for Keras: a scikit-learn pipeline in front of an MLP.

The classic guides' recipe, as objects that fit on the training split and transform any
split without leakage: impute missing values (median, mean, most frequent, or linear
interpolation for time-ordered data), clip outliers to training quantiles, scale
(z-score or min-max), encode categories (one-hot or ordinal, unseen values handled),
and turn timestamps into calendar parts, lags and differences. `build_preprocessor`
assembles them into one `Pipeline` whose output is finite float32, ready for
`build_mlp`. Row-dropping (`drop_missing_rows`, `drop_outliers`) are functions to call
on the training data, because a Pipeline step cannot drop rows.

Importing `kerasopt.tabular` does not import TensorFlow or Keras; only `build_mlp`
does, when called.

Example:

```python
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from kerasopt.tabular import build_mlp, build_preprocessor, drop_outliers

data = load_breast_cancer(as_frame=True)
x_train, x_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.25, stratify=data.target, random_state=0
)
x_train, y_train, _ = drop_outliers(x_train, y_train, method="iqr", factor=3.0)
pre = build_preprocessor(numeric=list(data.data.columns), missing="median",
                         outliers="winsorize", scaling="zscore")
x_train = pre.fit_transform(x_train)   # statistics come from the training split only
x_test = pre.transform(x_test)
model = build_mlp(x_train.shape[1], num_classes=2)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train.to_numpy(), epochs=30, batch_size=32, verbose=0)
```
"""

from kerasopt.tabular.datetime_features import DatetimeFeatures
from kerasopt.tabular.finite_float32 import FiniteFloat32
from kerasopt.tabular.interpolation_imputer import InterpolationImputer
from kerasopt.tabular.lag_features import LagFeatures
from kerasopt.tabular.mlp import build_mlp
from kerasopt.tabular.preprocessor import build_preprocessor
from kerasopt.tabular.row_filters import drop_missing_rows, drop_outliers
from kerasopt.tabular.winsorizer import Winsorizer

__all__ = [
    "DatetimeFeatures",
    "FiniteFloat32",
    "InterpolationImputer",
    "LagFeatures",
    "Winsorizer",
    "build_mlp",
    "build_preprocessor",
    "drop_missing_rows",
    "drop_outliers",
]
