"""Tests for `prune_channels`: exact slicing, the digits CNN, and the errors it raises."""

import keras
import numpy as np
import pytest

from kerasopt.compress.channel_pruning import prune_channels
from kerasopt.models import build_cnn
from kerasopt.training import TrainConfig, train


def _set(layer, name, indices, axis, value=0.0):
    """Sets the `indices` slice of weight `name` of `layer` along `axis` to `value`."""
    arrays = []
    for variable, array in zip(layer.weights, layer.get_weights(), strict=True):
        if variable.name == name:
            index = [slice(None)] * array.ndim
            index[axis] = indices
            array[tuple(index)] = value
        arrays.append(array)
    layer.set_weights(arrays)


def _randomize_batch_norms(model, rng):
    """Gives every BatchNormalization statistics far from the identity, so slicing shows."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 2.0, size),
                    rng.normal(0.0, 0.5, size),
                    rng.normal(0.0, 0.5, size),
                    rng.uniform(0.5, 2.0, size),
                ]
            )


def _removable(rng, size):
    """Half of `range(size)`, scattered, so an off-by-position slice cannot pass."""
    return np.sort(rng.choice(size, size // 2, replace=False))


def _digits_cnn_with_dead_channels(rng):
    """The digits CNN with half of every conv's filters and dense units exactly dead.

    A dead filter has a zero kernel and BatchNorm gamma = beta = 0, so it outputs 0
    after ReLU whatever its moving statistics; a dead unit has zero kernel and bias.
    """
    model = build_cnn((8, 8), 10, input_max=16, filters=(8, 16), dense_units=32)
    _randomize_batch_norms(model, rng)
    dead = {}
    for block in range(2):
        for conv in range(2):
            layer = model.get_layer(f"block{block}_conv{conv}")
            dead[layer.name] = _removable(rng, layer.filters)
            _set(layer, "kernel", dead[layer.name], -1)
            batch_norm = model.get_layer(f"block{block}_bn{conv}")
            _set(batch_norm, "gamma", dead[layer.name], 0)
            _set(batch_norm, "beta", dead[layer.name], 0)
    dense = model.get_layer("dense")
    dead["dense"] = _removable(rng, dense.units)
    _set(dense, "kernel", dead["dense"], -1)
    _set(dense, "bias", dead["dense"], 0)
    return model, dead, rng.uniform(0, 16, (16, 8, 8)).astype("float32")


def _conv1d_sequential_with_dead_channels(rng):
    """Sequential Conv1D -> BN -> ReLU -> GlobalAveragePooling1D -> Dense -> Dense."""
    model = keras.Sequential(
        [
            keras.Input((12, 3)),
            keras.layers.Conv1D(6, 3, name="conv"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.ReLU(name="relu"),
            keras.layers.GlobalAveragePooling1D(name="pool"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="out"),
        ]
    )
    _randomize_batch_norms(model, rng)
    dead = {"conv": _removable(rng, 6), "hidden": _removable(rng, 8)}
    _set(model.get_layer("conv"), "kernel", dead["conv"], -1)
    _set(model.get_layer("conv"), "bias", dead["conv"], 0)
    _set(model.get_layer("bn"), "gamma", dead["conv"], 0)
    _set(model.get_layer("bn"), "beta", dead["conv"], 0)
    _set(model.get_layer("hidden"), "kernel", dead["hidden"], -1)
    _set(model.get_layer("hidden"), "bias", dead["hidden"], 0)
    return model, dead, rng.normal(size=(16, 12, 3)).astype("float32")


def _depthwise_separable_with_dead_channels(rng):
    """Conv2D -> DepthwiseConv2D(x2) -> ReLU -> SeparableConv2D(x2) -> GAP -> Dense."""
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.SeparableConv2D(4, 3, depth_multiplier=2, name="separable")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(x))
    dead = {"conv": _removable(rng, 6)}
    _set(model.get_layer("conv"), "kernel", dead["conv"], -1)
    _set(model.get_layer("conv"), "bias", dead["conv"], 0)
    # Depthwise output channel c * multiplier + m comes from input channel c.
    dead_depthwise = (dead["conv"][:, None] * 2 + np.arange(2)).ravel()
    _set(model.get_layer("depthwise"), "bias", dead_depthwise, 0)
    return model, dead, rng.normal(size=(16, 6, 6, 3)).astype("float32")


MODELS_WITH_DEAD_CHANNELS = [
    _digits_cnn_with_dead_channels,
    _conv1d_sequential_with_dead_channels,
    _depthwise_separable_with_dead_channels,
]


@pytest.mark.parametrize("importance", ["l1", "l2", "bn_gamma"], ids=["l1", "l2", "bn_gamma"])
@pytest.mark.parametrize(
    "make_model", MODELS_WITH_DEAD_CHANNELS, ids=["digits_cnn", "conv1d_sequential", "depthwise"]
)
def test_removing_dead_channels_keeps_predictions(make_model, importance, rng):
    model, dead, x = make_model(rng)
    expected = keras.ops.convert_to_numpy(model(x, training=False))

    result = prune_channels(model, 0.5, importance=importance)

    for row in result.layers:
        if row.name in dead:
            alive = sorted(set(range(row.before)) - set(dead[row.name].tolist()))
            assert (row.status, list(row.kept)) == ("pruned", alive), row.name
    actual = keras.ops.convert_to_numpy(result.model(x, training=False))
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_zero_fraction_copies_the_model_and_leaves_the_original_alone(rng):
    model, _, x = _digits_cnn_with_dead_channels(rng)
    before = [w.copy() for w in model.get_weights()]

    result = prune_channels(model, 0.0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(result.model(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        atol=1e-6,
    )
    assert result.params_before == result.params_after == model.count_params()

    pruned = prune_channels(model, 0.5).model
    assert pruned is not model and pruned.count_params() < model.count_params()
    for original, now in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(original, now)


def test_min_channels_and_skip_layers_bound_the_pruning():
    model = build_cnn((8, 8), 10, input_max=16, filters=(8, 16), dense_units=32)

    result = prune_channels(model, 0.9, min_channels=3, skip_layers="dense")

    rows = {row.name: row for row in result.layers}
    assert rows["block0_conv0"].after == 3
    assert rows["block1_conv1"].after == 3  # round(0.9 * 16) = 14 removed -> 2, raised to 3
    assert (rows["dense"].after, rows["dense"].status) == (32, "skipped")
    assert (rows["probabilities"].after, rows["probabilities"].status) == (10, "output")
    assert "block0_conv0" in result.summary()


def test_pruned_model_round_trips_through_a_keras_file(tmp_path, rng):
    model, _, x = _digits_cnn_with_dead_channels(rng)
    pruned = prune_channels(model, 0.5).model
    path = tmp_path / "pruned.keras"
    pruned.save(path)

    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reloaded(x, training=False)),
        keras.ops.convert_to_numpy(pruned(x, training=False)),
        atol=1e-6,
    )


@pytest.mark.slow
def test_half_pruned_digits_cnn_is_4x_smaller_and_recovers(trained_digits_model, digits):
    dense_model = keras.models.clone_model(trained_digits_model)
    dense_model.set_weights(trained_digits_model.get_weights())
    dense_accuracy = np.mean(
        dense_model.predict(digits.x_test, verbose=0).argmax(-1) == digits.y_test
    )

    result = prune_channels(dense_model, 0.5, importance="bn_gamma")

    pruned = result.model
    for name in ("block0_conv0", "block0_conv1", "block1_conv0", "block1_conv1"):
        assert pruned.get_layer(name).filters * 2 == dense_model.get_layer(name).filters
    assert pruned.get_layer("dense").units * 2 == dense_model.get_layer("dense").units
    assert pruned.output_shape == (None, 10)
    assert 3.3 < result.params_before / result.params_after < 4.5
    # Half of this 8/16-filter CNN leaves 4/8 filters, which reach 0.92 after 15 epochs
    # from scratch; the dense model has 0.936. Fine-tune seeds 0-3 measured: 5 epochs
    # 0.89-0.91 with bn_gamma, 0.86-0.89 with l1; 3 epochs 0.87-0.89 and 0.80-0.83.
    config = TrainConfig(epochs=5, augment=None, checkpoint=False, health_checks=False)
    train(pruned, digits, config, verbose=0)
    pruned_accuracy = np.mean(pruned.predict(digits.x_test, verbose=0).argmax(-1) == digits.y_test)
    assert pruned_accuracy >= dense_accuracy - 0.06, (dense_accuracy, pruned_accuracy)


def _two_branch_add_model():
    inputs = keras.Input((6, 6, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", name="conv_a")(inputs)
    b = keras.layers.Conv2D(4, 3, padding="same", name="conv_b")(inputs)
    x = keras.layers.Add(name="add")([a, b])
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="out")(x))


def _branching_model():
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    a = keras.layers.Conv2D(4, 3, name="left")(x)
    b = keras.layers.Conv2D(4, 3, name="right")(x)
    x = keras.layers.Concatenate(name="concat")([a, b])
    return keras.Model(inputs, keras.layers.Dense(3, name="out")(x))


def _layer_norm_model():
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.LayerNormalization(name="norm")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="out")(x))


@pytest.mark.parametrize(
    "make_model, match",
    [
        (
            _two_branch_add_model,
            r"'conv_a' through layer 'add'.*skip_layers=\['conv_a', 'conv_b'\]",
        ),
        (_branching_model, r"'conv'.*feeds 2 layers \('left', 'right'\).*skip_layers=\['conv'\]"),
        (_layer_norm_model, r"layer 'norm' \(LayerNormalization\).*skip_layers=\['conv'\]"),
    ],
    ids=["add_merge", "branch", "layer_norm"],
)
def test_unfollowable_layers_raise_naming_them(make_model, match):
    with pytest.raises(ValueError, match=match):
        prune_channels(make_model(), 0.5)


def test_skipping_the_layers_feeding_a_merge_prunes_the_rest():
    model = _two_branch_add_model()

    result = prune_channels(model, 0.5, skip_layers=["conv_a", "conv_b"])

    statuses = {row.name: (row.status, row.after) for row in result.layers}
    assert statuses["conv_a"] == statuses["conv_b"] == ("skipped", 4)
    assert statuses["hidden"] == ("pruned", 4)
    assert result.model.output_shape == (None, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fraction": 1.0}, r"0 <= fraction < 1.*fraction=1.0"),
        ({"fraction": -0.1}, r"fraction=-0.1"),
        ({"importance": "l3"}, r"importance='l3'.*'bn_gamma'"),
        ({"skip_layers": ["dense_1"]}, r"'dense_1'.*Did you mean 'dense'"),
        ({"min_channels": 0}, r"min_channels >= 1.*min_channels=0"),
    ],
    ids=["fraction_one", "fraction_negative", "importance", "skip_typo", "min_channels"],
)
def test_bad_arguments_raise(kwargs, match):
    model = build_cnn((8, 8), 10, input_max=16, filters=(4, 8), dense_units=8)
    with pytest.raises(ValueError, match=match):
        prune_channels(model, **kwargs)


def test_subclassed_model_raises_type_error():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match=r"Tiny 'tiny'.*keras.Model\(inputs, outputs\)"):
        prune_channels(model, 0.5)
