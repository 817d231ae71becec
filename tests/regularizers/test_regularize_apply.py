"""apply_regularization rebuilds the model: same predictions, penalties in the loss."""

import logging

import keras
import numpy as np
import pytest
from regularize_helpers import save_and_load

from kerasopt.models import build_cnn
from kerasopt.regularizers import apply_regularization, describe_regularization


def _cnn():
    return build_cnn((8, 8), 10, input_max=16, filters=(4, 8), dense_units=16, l2=0.0)


def _sequential():
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="relu", name="hidden"),
            keras.layers.Dropout(0.1, name="drop"),
            keras.layers.Dense(3, activation="softmax", name="head"),
        ],
        name="seq",
    )


def _nested():
    inner = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, name="inner_dense")], name="inner"
    )
    inputs = keras.Input((6,))
    x = keras.layers.Dense(5, name="stem")(inputs)
    x = inner(x)
    outputs = keras.layers.Dense(2, name="head")(keras.layers.Flatten(name="flat")(x))
    return keras.Model(inputs, outputs, name="outer")


def _l2_penalty(model, factor, names):
    return sum(factor * float(np.sum(np.square(model.get_layer(n).kernel))) for n in names)


def test_cnn_predictions_identical_and_penalty_in_losses(digits):
    model = _cnn()
    # Random values everywhere, BatchNorm moving statistics included, so a weight left
    # at its fresh initial value (or a statistic not copied) changes the predictions.
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.get_weights()])
    x = digits.x_test[:32]
    regularized = apply_regularization(
        model, kernel_regularizer="l2(1e-3)", layer_types=["Conv2D", "Dense"]
    )
    np.testing.assert_array_equal(regularized.predict(x, verbose=0), model.predict(x, verbose=0))
    kernels = [
        "block0_conv0",
        "block0_conv1",
        "block1_conv0",
        "block1_conv1",
        "dense",
        "probabilities",
    ]
    assert len(regularized.losses) == len(kernels)
    total = float(sum(keras.ops.convert_to_numpy(v) for v in regularized.losses))
    assert total == pytest.approx(_l2_penalty(regularized, 1e-3, kernels), rel=1e-5)


def test_original_model_is_untouched():
    model = _sequential()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    regularized = apply_regularization(model, kernel_regularizer="l2(1e-2)")
    assert regularized is not model
    # Keras compiles the copy from the compile config, with its own optimizer.
    assert regularized.compiled and regularized.optimizer is not model.optimizer
    assert model.get_layer("hidden").kernel_regularizer is None
    assert model.losses == []
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_setting_the_attribute_on_a_built_model_does_nothing():
    # Why the rebuild exists: the weight was created without the regularizer.
    model = _sequential()
    model.get_layer("hidden").kernel_regularizer = keras.regularizers.L2(1.0)
    assert model.losses == []
    assert len(apply_regularization(model, kernel_regularizer="l2(1.0)").losses) == 2


def test_name_globs_and_nested_paths():
    model = _nested()
    x = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
    regularized = apply_regularization(model, kernel_regularizer="l1(1e-3)", layer_names="inner/*")
    inner = regularized.get_layer("inner").get_layer("inner_dense")
    assert isinstance(inner.kernel_regularizer, keras.regularizers.L1)
    assert regularized.get_layer("stem").kernel_regularizer is None
    assert len(regularized.losses) == 1
    np.testing.assert_array_equal(regularized(x), model(x))


def test_types_by_class_and_every_argument():
    model = _sequential()
    regularized = apply_regularization(
        model,
        kernel_regularizer="orthogonal(0.01)",
        bias_regularizer="l2(1e-4)",
        activity_regularizer="l1(1e-5)",
        kernel_constraint="max_norm(3)",
        bias_constraint="non_neg",
        layer_types=keras.layers.Dense,
        layer_names=["head"],
    )
    head = regularized.get_layer("head")
    assert isinstance(head.kernel_regularizer, keras.regularizers.OrthogonalRegularizer)
    assert isinstance(head.bias_regularizer, keras.regularizers.L2)
    assert isinstance(head.activity_regularizer, keras.regularizers.L1)
    assert isinstance(head.kernel_constraint, keras.constraints.MaxNorm)
    assert isinstance(head.bias_constraint, keras.constraints.NonNeg)
    assert regularized.get_layer("hidden").kernel_regularizer is None


def test_constraint_is_enforced_while_training():
    model = apply_regularization(_sequential(), kernel_constraint="max_norm(0.1)")
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(2).normal(size=(16, 6)).astype("float32")
    model.fit(x, np.arange(16) % 3, epochs=1, batch_size=16, verbose=0)
    for name in ("hidden", "head"):
        norms = np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer(name).kernel), axis=0)
        assert norms.max() <= 0.1 + 1e-5


SPECS = [
    {"kernel_regularizer": "l2(1e-4)"},
    {"kernel_regularizer": "l1_l2(l1=1e-5, l2=1e-4)", "bias_regularizer": "l1(1e-5)"},
    {"kernel_regularizer": "orthogonal(0.01)", "activity_regularizer": "l2(1e-6)"},
    {"kernel_constraint": "max_norm(3)", "bias_constraint": "non_neg"},
    {"kernel_constraint": "unit_norm"},
]


@pytest.mark.parametrize("kwargs", SPECS, ids=["l2", "l1_l2", "orthogonal", "max_norm", "unit"])
def test_keras_file_round_trip_keeps_regularizers(kwargs, tmp_path):
    model = apply_regularization(_nested(), **kwargs)
    x = np.random.default_rng(3).normal(size=(4, 6)).astype("float32")
    loaded = save_and_load(model, tmp_path)
    assert describe_regularization(loaded) == describe_regularization(model)
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    model(x), loaded(x)  # activity regularizers add their loss during a call
    np.testing.assert_allclose(
        [float(v) for v in loaded.losses], [float(v) for v in model.losses], rtol=1e-6
    )


def test_describe_lists_every_layer():
    table = describe_regularization(apply_regularization(_nested(), kernel_regularizer="l2(0.5)"))
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["layer", "type", "kernel"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {"stem", "inner/inner_dense", "flat", "head"}
    assert "L2(l2=0.5)" in rows["inner/inner_dense"]
    assert rows["flat"].split()[1:] == ["Flatten"] + ["n/a"] * 5


def test_summary_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="kerasopt.regularizers"):
        apply_regularization(
            _cnn(), kernel_regularizer="l2(1e-4)", bias_regularizer="l1", layer_names="block0_*"
        )
    assert "apply_regularization on 'cnn'" in caplog.text
    # Convs built with use_bias=False take the kernel regularizer but have no bias.
    assert (
        "block0_conv0 (Conv2D): kernel_regularizer=L2(l2=0.0001) (no slot for bias_regularizer)"
    ) in caplog.text
    assert "block0_bn0" not in caplog.text


def test_bias_on_layers_without_bias_raises():
    with pytest.raises(
        ValueError,
        match=r"use_bias=False has no bias.*bias_regularizer: "
        r"\['dense', 'probabilities'\]",
    ):
        apply_regularization(_cnn(), bias_regularizer="l2(1e-4)", layer_names="block0_*")


ERRORS = [
    (
        {"layer_names": "flatten"},
        r"layer_names='flatten' matches only \['flatten'\], none "
        r"of which has a slot.*Layers that can take kernel_regularizer: \['block0_conv0'",
    ),
    ({"layer_names": "nope*"}, r"layer_names='nope\*' matches no layer.*'probabilities'\]"),
    ({"layer_types": "Conv3D"}, r"layer_types='Conv3D' matches no layer"),
    ({"layer_types": "BatchNormalization"}, r"matches only \['block0_bn0'"),
    ({"layer_names": "block0_*", "layer_types": "Dense"}, r"select no common layer"),
]


@pytest.mark.parametrize("kwargs, message", ERRORS, ids=["flatten", "none", "type", "bn", "and"])
def test_useless_filters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        apply_regularization(_cnn(), kernel_regularizer="l2", **kwargs)


def test_bad_arguments_raise():
    model = _sequential()
    with pytest.raises(ValueError, match=r"received nothing to attach"):
        apply_regularization(model)
    with pytest.raises(ValueError, match=r"Did you mean 'l2'"):
        apply_regularization(model, kernel_regularizer="l22(1e-4)")
    with pytest.raises(TypeError, match=r"layer_names to be a string.*Received: layer_names=3"):
        apply_regularization(model, kernel_regularizer="l2", layer_names=3)
    with pytest.raises(TypeError, match=r"expects a keras.Model. Received: str"):
        apply_regularization("model.keras", kernel_regularizer="l2")
    with pytest.raises(ValueError, match=r"model 'unbuilt' is not built"):
        apply_regularization(
            keras.Sequential([keras.layers.Dense(2)], name="unbuilt"), kernel_regularizer="l2"
        )


def test_subclassed_model_raises_type_error():
    class Tiny(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny(name="tiny")
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match=r"'tiny' is a subclassed Tiny"):
        apply_regularization(model, kernel_regularizer="l2")
