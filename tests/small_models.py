"""Small data and models shared by the tests, instead of a copy in every file.

`regression_data` and `dense_regressor` are the 4-feature toys the callback and optimizer
tests train for a few steps. The zoo (`residual_cnn`, `separable_cnn`,
`nested_backbone_cnn`) has the shapes users bring (skip connections, depthwise-separable
convolutions, a backbone nested as one layer), so pipeline, compression and export tests
run on models kerasopt did not write.
"""

import keras
import numpy as np

#: Weights of the default regression target.
REGRESSION_WEIGHTS = (1.0, -2.0, 0.5, 3.0)


def regression_data(n=64, seed=0, weights=REGRESSION_WEIGHTS, bias=0.0):
    """`(x, y)`: standard-normal features and `y = x @ weights + bias`, float32.

    `weights=None` makes the target the row sum.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    if weights is None:
        return x, x.sum(axis=1, keepdims=True).astype("float32")
    w = np.asarray(weights, "float32").reshape(-1, 1)
    return x, (x @ w + bias).astype("float32")


def dense_regressor(optimizer=None, hidden=8, names=("hidden", "out")):
    """`Input(4) -> Dense(hidden, relu) -> Dense(1)`, compiled with MSE (SGD 0.01 default)."""
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hidden, activation="relu", name=names[0]),
            keras.layers.Dense(1, name=names[1]),
        ]
    )
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.01), loss="mse", jit_compile=False)
    return model


def image_classification_data(n=64, shape=(8, 8), classes=10, high=16.0, seed=0):
    """`(x, y)`: uniform raw pixels in `[0, high)` and integer labels."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, high, (n, *shape)).astype("float32")
    return x, rng.integers(0, classes, n)


def _stem(input_shape, input_max):
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1.0 / input_max)(inputs)
    if len(input_shape) == 2:
        x = keras.layers.Reshape((*input_shape, 1))(x)
    return inputs, x


def residual_cnn(input_shape=(8, 8), num_classes=10, input_max=16.0, filters=8):
    """A ResNet-style block: conv-BN-ReLU twice with an identity skip, then a 1x1 shortcut."""
    inputs, x = _stem(input_shape, input_max)
    x = keras.layers.Conv2D(filters, 3, padding="same", name="stem_conv")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU()(x)
    skip = x
    y = keras.layers.Conv2D(filters, 3, padding="same", name="block_conv1")(x)
    y = keras.layers.BatchNormalization(name="block_bn1")(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", name="block_conv2")(y)
    y = keras.layers.BatchNormalization(name="block_bn2")(y)
    x = keras.layers.ReLU()(keras.layers.Add(name="residual_add")([skip, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="residual_cnn")


def separable_cnn(input_shape=(8, 8), num_classes=10, input_max=16.0, filters=16):
    """MobileNet-style: a conv stem, then depthwise 3x3 + pointwise 1x1 blocks."""
    inputs, x = _stem(input_shape, input_max)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name="stem")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = keras.layers.BatchNormalization(name="depthwise_bn")(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.Conv2D(2 * filters, 1, name="pointwise")(x)
    x = keras.layers.SeparableConv2D(2 * filters, 3, padding="same", name="separable")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="separable_cnn")


def nested_backbone_cnn(input_shape=(8, 8), num_classes=10, input_max=16.0, filters=8):
    """A functional backbone used as one layer inside the classifier (transfer-learning shape)."""
    inner = keras.Input((*input_shape[:2], 1))
    y = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(inner)
    y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu")(y)
    backbone = keras.Model(inner, y, name="backbone")
    inputs, x = _stem(input_shape, input_max)
    x = backbone(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="nested_backbone_cnn")


#: The zoo by name, for `pytest.mark.parametrize(..., ids=...)`.
USER_SHAPED_MODELS = {
    "residual": residual_cnn,
    "separable": separable_cnn,
    "nested_backbone": nested_backbone_cnn,
}
