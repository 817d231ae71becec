"""build_mlp, and the whole path: dirty table -> preprocessor -> MLP."""

import keras
import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from tabular_data import inject, load_table

from kerasopt.tabular import build_mlp, build_preprocessor


def test_classification_and_regression_heads():
    x = np.random.default_rng(0).normal(size=(5, 7)).astype("float32")
    classifier = build_mlp(7, num_classes=3, hidden=(8,), dropout=0.2, l2=1e-3)
    probabilities = keras.ops.convert_to_numpy(classifier(x))
    assert probabilities.shape == (5, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert len(classifier.losses) == 2  # hidden and output kernels
    regressor = build_mlp(7, hidden=(8, 4), dropout=0.0, l2=0.0)
    assert regressor.output_shape == (None, 1)
    assert regressor.losses == []
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in regressor.layers)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_dim": 0}, r"positive int input_dim.*Received: input_dim=0"),
        ({"num_classes": 1}, r"num_classes >= 2 for classification, or None"),
        ({"hidden": ()}, r"non-empty tuple of positive ints. Received: hidden=\(\)"),
        ({"dropout": 1.0}, r"0 <= dropout < 1. Received: dropout=1.0"),
        ({"l2": -1.0}, r"l2 >= 0. Received: l2=-1.0"),
    ],
    ids=["input_dim", "num_classes", "hidden", "dropout", "l2"],
)
def test_bad_arguments_raise(kwargs, message):
    kwargs = {"input_dim": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        build_mlp(**kwargs)


@pytest.mark.slow
def test_dirty_breast_cancer_end_to_end():
    X, y = load_table("breast_cancer")
    dirty, *_ = inject(X, nan_fraction=0.1, n_outliers=10)
    x_train, x_test, y_train, y_test = train_test_split(
        dirty, y, test_size=0.25, stratify=y, random_state=0
    )
    pre = build_preprocessor(numeric=list(X.columns))
    x_train, x_test = pre.fit_transform(x_train), pre.transform(x_test)
    model = build_mlp(x_train.shape[1], num_classes=2, hidden=(32, 16))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.9


def test_diabetes_regression_learns():
    X, y = load_table("diabetes")
    dirty, *_ = inject(X)
    pre = build_preprocessor(numeric=list(X.columns))
    features = pre.fit_transform(dirty.iloc[:350])
    target = ((y - y[:350].mean()) / y[:350].std()).astype("float32")  # train statistics
    model = build_mlp(features.shape[1], hidden=(16,))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(features, target[:350], epochs=15, batch_size=32, verbose=0)
    test_mse = model.evaluate(pre.transform(dirty.iloc[350:]), target[350:], verbose=0)
    assert history.history["loss"][-1] < 0.75 * history.history["loss"][0]
    assert test_mse < np.var(target[350:])  # better than predicting the mean
