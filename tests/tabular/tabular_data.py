"""Bundled scikit-learn tables, and a function that injects missing values and outliers.

Not a conftest.py: several test modules in this repository run `from conftest import ...`
for the root tests/conftest.py, which a second conftest module would shadow.
"""

import functools

import numpy as np
import pandas as pd


@functools.cache
def load_table(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """`(X, y)` of scikit-learn's bundled `breast_cancer`, `wine` or `diabetes`."""
    from sklearn import datasets

    data = getattr(datasets, f"load_{name}")(as_frame=True)
    return data.data, data.target.to_numpy()


def inject(frame: pd.DataFrame, *, nan_fraction=0.1, n_outliers=5, seed=0):
    """Returns `(dirty, nan_mask, outlier_rows, outlier_cols)`; `frame` is not modified.

    `nan_fraction` of all cells become NaN; `n_outliers` other cells, in distinct rows
    and columns, are multiplied by 100.
    """
    rng = np.random.default_rng(seed)
    values = frame.to_numpy(dtype=np.float64).copy()
    rows = rng.choice(len(frame), n_outliers, replace=False)
    cols = rng.choice(frame.shape[1], n_outliers, replace=False)
    values[rows, cols] *= 100.0
    nan_mask = rng.random(values.shape) < nan_fraction
    nan_mask[rows, cols] = False
    values[nan_mask] = np.nan
    dirty = pd.DataFrame(values, columns=frame.columns, index=frame.index)
    return dirty, nan_mask, rows, cols
