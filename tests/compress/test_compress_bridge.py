import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kerasopt
from kerasopt.compress.bridge import BridgeError, from_tf_keras, to_tf_keras
from kerasopt.models import build_cnn

L = keras.layers
PARITY_ATOL = 1e-5


def _vision_cnn():
    inputs = keras.Input((8, 8, 1), name="pixels")
    x = L.Rescaling(1 / 16, name="rescale")(inputs)
    x = L.Resizing(12, 12, name="resize")(x)
    x = L.Conv2D(4, 3, padding="same", kernel_regularizer="l2", name="conv")(x)
    x = L.BatchNormalization(name="bn")(x)
    x = L.ReLU(name="relu")(x)
    x = L.DepthwiseConv2D(3, name="depthwise")(x)
    x = L.SeparableConv2D(6, 3, padding="same", name="separable")(x)
    x = L.MaxPooling2D(name="max_pool")(x)
    x = L.AveragePooling2D(2, name="avg_pool")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dropout(0.2, name="dropout")(x)
    outputs = L.Dense(3, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="vision"), (8, 8, 1)


def _branches():
    inputs = keras.Input((8, 8), name="pixels")
    x = L.Reshape((8, 8, 1), name="add_channel")(inputs)
    a = L.Conv2D(4, 3, padding="same", name="conv_a")(x)
    b = L.Conv2D(4, 1, name="conv_b")(x)
    added = L.Add(name="add")([a, b])
    joined = L.Concatenate(name="concat")([added, a, x])
    joined = L.Activation("relu", name="activation")(joined)
    pooled = L.GlobalAveragePooling2D(name="gap")(joined)
    outputs = L.Dense(2, name="logits")(pooled)
    return keras.Model(inputs, outputs, name="branches"), (8, 8)


def _sequence_sequential():
    model = keras.Sequential(
        [
            keras.Input((16, 3)),
            L.Conv1D(4, 3, name="conv1d"),
            L.MaxPooling1D(name="max_pool"),
            L.AveragePooling1D(2, name="avg_pool"),
            L.GlobalAveragePooling1D(name="gap"),
            L.Dense(2, name="logits"),
        ],
        name="sequence",
    )
    return model, (16, 3)


def _text_rnn():
    inputs = keras.Input((7,), dtype="int32", name="tokens")
    x = L.Embedding(20, 4, name="embedding")(inputs)
    x = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bilstm")(x)
    x = L.GRU(3, name="gru")(x)
    outputs = L.Dense(2, name="logits")(x)
    return keras.Model(inputs, outputs, name="text"), "tokens"


def _built_sequential():
    model = keras.Sequential([L.Dense(4, activation="relu"), L.Dense(2)], name="built")
    model.build((None, 3))
    return model, (3,)


def _digits_cnn():
    return build_cnn((8, 8), 10, input_max=16, filters=(4, 8), dense_units=8), (8, 8)


MODELS = {
    "conv2d_bn_depthwise_separable_pooling": _vision_cnn,
    "functional_add_concatenate": _branches,
    "sequential_conv1d_pooling1d": _sequence_sequential,
    "embedding_bidirectional_lstm_gru": _text_rnn,
    "sequential_built_without_input": _built_sequential,
    "build_cnn": _digits_cnn,
}


def _perturbed(model, rng):
    """Moves every weight off its initial value, so BN statistics and biases matter."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([w + 0.2 * rng.normal(size=w.shape).astype(w.dtype) for w in weights])
    return model


def _inputs(shape, rng):
    if shape == "tokens":
        return rng.integers(0, 20, (6, 7)).astype("int32")
    return (4 * rng.normal(size=(6, *shape))).astype("float32")


@pytest.mark.parametrize("make_model", MODELS.values(), ids=MODELS.keys())
def test_round_trip_predicts_the_same(make_model, rng):
    model, shape = make_model()
    model = _perturbed(model, rng)
    x = _inputs(shape, rng)
    expected = model.predict(x, verbose=0)
    weights_before = [w.copy() for w in model.get_weights()]

    tfk_model = to_tf_keras(model)
    assert type(tfk_model).__module__.startswith("tf_keras.")
    assert [layer.name for layer in tfk_model.layers][-len(model.layers) :] == [
        layer.name for layer in model.layers
    ]
    np.testing.assert_allclose(tfk_model.predict(x, verbose=0), expected, atol=PARITY_ATOL)
    np.testing.assert_allclose(
        float(sum(tfk_model.losses, 0.0)), float(sum(model.losses, 0.0)), rtol=1e-5
    )

    back = from_tf_keras(tfk_model, like=model)
    assert back is not model and isinstance(back, keras.Model)
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=PARITY_ATOL)
    for got, want in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(model.get_weights(), weights_before, strict=True):
        np.testing.assert_array_equal(got, want)


class _Scale(L.Layer):
    def call(self, inputs):
        return inputs * 2.0


def test_unsupported_layers_are_named_in_one_error():
    inputs = keras.Input((6,))
    x = _Scale(name="my_scale")(inputs)
    x = L.RMSNormalization(name="norm")(x)
    model = keras.Model(inputs, L.Dense(2)(x))
    with pytest.raises(BridgeError, match=r"'my_scale' \(_Scale\), 'norm' \(RMSNormalization\)"):
        to_tf_keras(model)
    with pytest.raises(BridgeError, match="backend='native'"):
        to_tf_keras(model)


def test_bidirectional_of_an_unsupported_rnn_is_refused():
    model = keras.Sequential([keras.Input((5, 2)), L.Bidirectional(L.SimpleRNN(2), name="birnn")])
    with pytest.raises(BridgeError, match=r"\(SimpleRNN\)"):
        to_tf_keras(model)


def test_keras3_only_option_is_refused_not_dropped():
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), L.Resizing(4, 6, pad_to_aspect_ratio=True, name="resize")]
    )
    with pytest.raises(BridgeError, match=r"'resize' \(Resizing\) sets pad_to_aspect_ratio=True"):
        to_tf_keras(model)


def test_subclassed_model_is_refused():
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = TwoLayers()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(BridgeError, match="subclassed model .* of class TwoLayers"):
        to_tf_keras(model)


def test_unbuilt_model_and_non_model_are_refused():
    with pytest.raises(BridgeError, match="needs a built model"):
        to_tf_keras(keras.Sequential([L.Dense(2)]))
    with pytest.raises(TypeError, match="expects a Keras 3 keras.Model"):
        to_tf_keras(L.Dense(2))


def test_from_tf_keras_refuses_a_model_of_another_architecture():
    model, _ = _built_sequential()
    other = keras.Sequential([keras.Input((3,)), L.Dense(2, name="elsewhere")])
    with pytest.raises(BridgeError, match="no layer named 'dense"):
        from_tf_keras(to_tf_keras(other), like=model)


def test_from_tf_keras_looks_through_pruning_wrappers_and_refuses_others():
    from kerasopt.compress._tfmot import tf_keras, tfmot

    model, _ = _built_sequential()
    tfk_model = to_tf_keras(model)
    hidden = model.layers[0].name
    api = tfmot()

    def wrapped_by(wrap):
        return tf_keras().models.clone_model(
            tfk_model, clone_function=lambda layer: wrap(layer) if layer.name == hidden else layer
        )

    pruning = wrapped_by(api.sparsity.keras.prune_low_magnitude)
    back = from_tf_keras(pruning, like=model)
    for got, want in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)

    clustering = wrapped_by(
        lambda layer: api.clustering.keras.cluster_weights(
            layer,
            number_of_clusters=2,
            cluster_centroids_init=api.clustering.keras.CentroidInitialization.LINEAR,
        )
    )
    with pytest.raises(BridgeError, match=f"'cluster_{hidden}'.*ClusterWeights.*Strip"):
        from_tf_keras(clustering, like=model)


@pytest.mark.slow
def test_tfmot_import_leaves_the_environment_and_tf_keras_alone(tmp_path):
    script = """
import json, os, subprocess, sys
import kerasopt.compress.bridge
loaded_by_bridge = "tensorflow_model_optimization" in sys.modules
from kerasopt.compress._tfmot import tfmot
tfmot().sparsity.keras.prune_low_magnitude
import keras, tensorflow as tf
child = subprocess.run(
    [sys.executable, "-c", "import os; print(os.environ.get('TF_USE_LEGACY_KERAS'))"],
    capture_output=True, text=True, check=True,
).stdout.strip()
print(json.dumps({
    "loaded_by_bridge": loaded_by_bridge,
    "variable": os.environ.get("TF_USE_LEGACY_KERAS"),
    "child_variable": child,
    "tf_keras_version": tf.keras.__version__,
    "tf_keras_is_keras3": tf.keras.layers.Dense is keras.layers.Dense,
}))
"""
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env["PYTHONPATH"] = str(Path(kerasopt.__file__).parents[1])
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "loaded_by_bridge": False,
        "variable": None,
        "child_variable": "None",
        "tf_keras_version": keras.__version__,
        "tf_keras_is_keras3": True,
    }


def test_a_nested_backbone_is_refused_naming_the_native_way_out():
    from small_models import nested_backbone_cnn

    with pytest.raises(BridgeError, match=r"'backbone' \(Functional\).*backend='native'"):
        to_tf_keras(nested_backbone_cnn())


def test_a_shared_layer_crosses_the_bridge_with_one_set_of_weights():
    inputs = keras.Input((8,))
    shared = keras.layers.Dense(8, name="shared")
    mixed = keras.layers.Add()([shared(inputs), shared(shared(inputs))])
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(mixed))
    legacy = to_tf_keras(model)
    x = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    np.testing.assert_allclose(legacy.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert len(legacy.get_weights()) == len(model.get_weights())
