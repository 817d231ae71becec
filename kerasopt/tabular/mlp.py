"""`build_mlp`: a small multilayer perceptron for preprocessed tabular features."""

from __future__ import annotations

from collections.abc import Sequence

from kerasopt.core.errors import InvalidValueError


def build_mlp(
    input_dim: int,
    num_classes: int | None = None,
    *,
    hidden: Sequence[int] = (64, 32),
    dropout: float = 0.1,
    l2: float = 1e-4,
    name: str = "mlp",
):
    """Builds an uncompiled MLP for the float32 output of `build_preprocessor`.

    Each hidden layer is `Dense(units, relu)` with an L2 kernel penalty, followed by
    `Dropout`. The head is `Dense(num_classes, softmax)` for classification (train with
    `sparse_categorical_crossentropy` on integer labels, or
    `kerasopt.regularizers.SmoothedSparseCategoricalCrossentropy`), or a linear
    `Dense(1)` for regression when `num_classes` is `None` (train with `mse`).
    Keras is imported here, so importing `kerasopt.tabular` stays free of TensorFlow.

    Args:
        input_dim: Number of input features (`X.shape[1]` after preprocessing).
        num_classes: Number of classes (>= 2), or `None` for regression.
            Defaults to `None`.
        hidden: Units of each hidden layer. Defaults to `(64, 32)`.
        dropout: Dropout rate after each hidden layer, in `[0, 1)`. Defaults to `0.1`.
        l2: L2 penalty on hidden and output kernels; 0 disables. Defaults to `1e-4`.
        name: Model name. Defaults to `"mlp"`.

    Example:

    ```python
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from kerasopt.tabular import build_mlp, build_preprocessor

    data = load_breast_cancer(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, stratify=data.target, random_state=0
    )
    pre = build_preprocessor(numeric=list(data.data.columns))
    x_train, x_test = pre.fit_transform(x_train), pre.transform(x_test)  # fit on train only
    model = build_mlp(x_train.shape[1], num_classes=2)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train.to_numpy(), epochs=30, batch_size=32, verbose=0)
    model.evaluate(x_test, y_test.to_numpy())
    ```
    """
    import keras

    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise InvalidValueError(
            f"build_mlp needs a positive int input_dim (X.shape[1] after preprocessing). "
            f"Received: {input_dim=!r}."
        )
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2
    ):
        raise InvalidValueError(
            "build_mlp needs num_classes >= 2 for classification, or None for regression. "
            f"Received: {num_classes=!r}."
        )
    if not hidden or any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in hidden):
        raise InvalidValueError(
            f"build_mlp needs hidden to be a non-empty tuple of positive ints. Received: "
            f"{hidden=!r}."
        )
    if not 0.0 <= dropout < 1.0:
        raise InvalidValueError(f"build_mlp needs 0 <= dropout < 1. Received: {dropout=}.")
    if l2 < 0:
        raise InvalidValueError(f"build_mlp needs l2 >= 0. Received: {l2=}.")

    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = inputs
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(
            units, activation="relu", kernel_regularizer=regularizer, name=f"dense{i}"
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
    if num_classes is None:
        outputs = keras.layers.Dense(1, kernel_regularizer=regularizer, name="prediction")(x)
    else:
        outputs = keras.layers.Dense(
            num_classes,
            activation="softmax",
            kernel_regularizer=regularizer,
            name="probabilities",
        )(x)
    return keras.Model(inputs, outputs, name=name)
