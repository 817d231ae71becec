import os

import keras
import numpy as np
import pytest

from kerasopt.compress import _tfmot
from kerasopt.compress.tfmot_clustering import cluster_with_tfmot

# Read at collection, before any test has called into TF-MOT.
LEGACY_KERAS_AT_START = os.environ.get("TF_USE_LEGACY_KERAS")
CLUSTERS = 8
CLUSTERED_LAYERS = [
    "block0_conv0",
    "block0_conv1",
    "block1_conv0",
    "block1_conv1",
    "dense",
    "probabilities",
]


def _kernels(model):
    return {
        layer.name: keras.ops.convert_to_numpy(layer.kernel)
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    }


def _accuracy(model, data):
    predictions = model.predict(data.x_test, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=-1) == data.y_test))


def _copy(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


@pytest.fixture(scope="module")
def clustered_8(trained_digits_model, digits):
    model = _copy(trained_digits_model)
    weights = [w.copy() for w in model.get_weights()]
    keras.utils.set_random_seed(0)
    return cluster_with_tfmot(model, digits, clusters=CLUSTERS), model, weights


def test_every_clustered_kernel_holds_at_most_8_values(clustered_8):
    clustered, _, _ = clustered_8
    unique = {name: len(np.unique(kernel)) for name, kernel in _kernels(clustered).items()}
    assert sorted(unique) == sorted(CLUSTERED_LAYERS)
    # Measured: exactly 8 in every kernel.
    assert all(2 <= count <= CLUSTERS for count in unique.values()), unique


def test_clustering_keeps_accuracy(clustered_8, digits):
    clustered, model, _ = clustered_8
    dense = _accuracy(model, digits)
    after = _accuracy(clustered, digits)
    # Measured 0.936 dense and 0.933 clustered (kmeans++, 1 epoch at 1e-4); 360 test
    # samples, so one sample is 0.3 points.
    assert after >= dense - 0.04, (dense, after)


def test_user_model_is_left_unchanged(clustered_8):
    clustered, model, weights_before = clustered_8
    assert clustered is not model
    assert isinstance(clustered, keras.Model)
    assert [layer.name for layer in clustered.layers] == [layer.name for layer in model.layers]
    for got, want in zip(model.get_weights(), weights_before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_preserve_sparsity_keeps_pruned_zeros_and_skips_layers(trained_digits_model, digits):
    model = _copy(trained_digits_model)
    masks = {}
    for name in ("block1_conv1", "dense"):
        layer = model.get_layer(name)
        kernel, *rest = layer.get_weights()
        mask = np.abs(kernel) <= np.median(np.abs(kernel))
        layer.set_weights([np.where(mask, 0.0, kernel), *rest])
        masks[name] = mask
    keras.utils.set_random_seed(0)
    clustered = cluster_with_tfmot(
        model,
        digits,
        clusters=CLUSTERS,
        preserve_sparsity=True,
        skip_layers=["probabilities"],
        # Few large steps: the zeros must hold against real updates.
        batch_size=128,
        learning_rate=1e-3,
    )
    kernels = _kernels(clustered)
    for name, mask in masks.items():
        assert np.mean(mask) >= 0.5, name
        np.testing.assert_array_equal(kernels[name][mask], 0.0, err_msg=name)
        assert len(np.unique(kernels[name])) <= CLUSTERS, name
    # A skipped layer is fine-tuned with the rest, but not clustered.
    assert len(np.unique(kernels["probabilities"])) > CLUSTERS


def test_calling_into_tfmot_restores_the_environment(clustered_8):
    _tfmot.tfmot()
    assert os.environ.get("TF_USE_LEGACY_KERAS") == LEGACY_KERAS_AT_START
    if LEGACY_KERAS_AT_START is None:
        import tensorflow as tf

        assert tf.keras.layers.Dense is keras.layers.Dense


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"clusters": 1}, ValueError, "clusters >= 2. Received: clusters=1"),
        (
            {"clusters": 2, "preserve_sparsity": True},
            ValueError,
            r"clusters >= 3 \(preserve_sparsity=True",
        ),
        ({"clusters": 8.0}, TypeError, "integer number of clusters. Received: clusters=8.0"),
        ({"clusters": True}, TypeError, "clusters=True"),
        ({"init": "kmeans"}, ValueError, r"\['density', 'kmeans\+\+', 'linear'\].*init='kmeans'"),
        ({"preserve_sparsity": "yes"}, TypeError, "preserve_sparsity='yes'"),
        ({"skip_layers": "dense"}, TypeError, r"pass \['dense'\]"),
        ({"skip_layers": ["nope"]}, ValueError, r"\['nope'\] that model 'cnn' does not have"),
        ({"epochs": 0}, ValueError, "epochs=0"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate=0.0"),
    ],
    ids=[
        "one_cluster",
        "two_with_sparsity",
        "float_clusters",
        "bool_clusters",
        "init",
        "preserve_sparsity",
        "skip_string",
        "skip_unknown",
        "epochs",
        "lr",
    ],
)
def test_bad_arguments_are_refused(trained_digits_model, digits, kwargs, error, match):
    with pytest.raises(error, match=match):
        cluster_with_tfmot(trained_digits_model, digits, **kwargs)
