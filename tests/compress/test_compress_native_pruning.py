"""prepare_for_pruning, MagnitudePruning, strip_pruning and prune_native on real models."""

import json

import keras
import numpy as np
import pytest

from kerasopt.compress.native_magnitude_pruning import MagnitudePruning, pruning_masks
from kerasopt.compress.native_pruning import prepare_for_pruning, prune_native, strip_pruning
from kerasopt.compress.sparsity_mask import PruningMask
from kerasopt.compress.sparsity_schedules import ConstantSparsity, PolynomialSparsity
from kerasopt.compress.sparsity_table import sparsity_table


def mixed_model():
    """Every prunable kind, a non-prunable kernel layer, and a pre-existing constraint."""
    inputs = keras.Input((8, 8))
    x = keras.layers.Conv1D(8, 3, padding="same", name="conv1d")(inputs)
    x = keras.layers.Reshape((8, 8, 1), name="to_image")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv2d")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = keras.layers.Conv2DTranspose(4, 3, name="deconv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(8, kernel_constraint=keras.constraints.MaxNorm(3.0), name="fc")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="mixed")


def snapshot(model):
    return model.to_json(), [w.copy() for w in model.get_weights()]


def assert_unchanged(model, before):
    config, weights = before
    assert model.to_json() == config
    for old, new in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert not pruning_masks(model)


def overall_sparsity(model):
    rows = sparsity_table(model)
    return sum(r["zeros"] for r in rows) / sum(r["params"] for r in rows)


def test_prepare_masks_prunable_kernels_of_a_copy_and_leaves_the_model_alone():
    model = mixed_model()
    before = snapshot(model)
    pruned = prepare_for_pruning(model, skip_layers=["conv1d"])
    assert_unchanged(model, before)
    masked = {layer.name for layer, _ in pruning_masks(pruned)}
    assert masked == {"conv2d", "depthwise", "fc", "out"}  # deconv: not a prunable class
    assert isinstance(pruned.get_layer("depthwise").depthwise_constraint, PruningMask)
    assert isinstance(
        pruned.get_layer("fc").kernel_constraint.constraint, keras.constraints.MaxNorm
    )
    for old, new in zip(model.get_weights(), pruned.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_strip_restores_the_architecture_and_keeps_the_zeros(rng):
    model = mixed_model()
    pruned = prepare_for_pruning(model)
    x, y = rng.normal(size=(32, 8, 8)).astype("float32"), rng.integers(0, 3, 32)
    pruned.compile("adam", "sparse_categorical_crossentropy")
    pruned.fit(
        x, y, epochs=2, batch_size=8, callbacks=[MagnitudePruning(ConstantSparsity(0.5))], verbose=0
    )
    stripped = strip_pruning(pruned)
    config = json.dumps(stripped.get_config())
    assert "kerasopt" not in config and "PruningMask" not in config
    assert "MaxNorm" in config  # the layer's own constraint comes back
    assert [type(layer) for layer in stripped.layers] == [type(layer) for layer in model.layers]
    assert [w.shape for w in stripped.weights] == [w.shape for w in model.weights]
    assert sparsity_table(stripped) == sparsity_table(pruned)
    np.testing.assert_allclose(stripped.predict(x, verbose=0), pruned.predict(x, verbose=0))


@pytest.mark.slow
def test_prune_native_on_digits_reaches_sparsity_and_keeps_accuracy(trained_digits_model, digits):
    before = snapshot(trained_digits_model)
    dense = keras.models.clone_model(trained_digits_model)
    dense.set_weights(trained_digits_model.get_weights())
    dense.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    dense_accuracy = dense.evaluate(digits.x_test, digits.y_test, verbose=0)[1]
    dense_snapshot = snapshot(dense)

    # The 6.5k-weight digits CNN recovers from 80 % zeros slowly at Adam's 1e-3; a larger
    # rate and smaller batches get it back within a few points in 3 epochs.
    sparse = prune_native(dense, digits, sparsity=0.8, epochs=3, batch_size=16, learning_rate=1e-2)
    accuracy = sparse.evaluate(digits.x_test, digits.y_test, verbose=0)[1]

    assert overall_sparsity(sparse) >= 0.78
    assert all(row["sparsity"] >= 0.78 for row in sparsity_table(sparse))
    assert accuracy >= dense_accuracy - 0.03, (accuracy, dense_accuracy)
    assert "kerasopt" not in sparse.to_json()
    assert [type(layer) for layer in sparse.layers] == [type(layer) for layer in dense.layers]
    assert_unchanged(dense, dense_snapshot)
    assert_unchanged(trained_digits_model, before)


@pytest.mark.slow
def test_prune_native_two_four_structure_on_digits(trained_digits_model, digits):
    model = keras.models.clone_model(trained_digits_model)
    model.set_weights(trained_digits_model.get_weights())
    with pytest.raises(ValueError, match=r"\['block0_conv0'\].*skip_layers=\('block0_conv0',\)"):
        prune_native(model, digits, structure="2:4")
    sparse = prune_native(model, digits, structure="2:4", skip_layers=["block0_conv0"], epochs=1)
    rows = {row["layer"]: row for row in sparsity_table(sparse, structure="2:4")}
    assert rows["block0_conv0"]["sparsity"] == 0.0  # skipped, still listed
    assert rows["block0_conv0"]["satisfies_structure"] is False
    for name, row in rows.items():
        if name != "block0_conv0":
            assert row["satisfies_structure"] and row["sparsity"] == 0.5, name
    kernel = keras.ops.convert_to_numpy(sparse.get_layer("dense").kernel)
    assert (np.count_nonzero(kernel.reshape(-1, 4, kernel.shape[-1]), axis=1) == 2).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"skip_layers": ["nope"]}, r"\['nope'\].*Prunable layers.*\['conv1d', 'conv2d'"),
        ({"skip_layers": ["pool"]}, r"\['pool'\], which match no prunable layer"),
        ({"skip_layers": ["conv1d", "conv2d", "depthwise", "fc", "out"]}, r"Nothing to prune"),
        ({"structure": "2:4"}, r"layers \['conv2d'\] are not.*skip_layers=\('conv2d',\)"),
        ({"structure": "3:1"}, r"0 < m < n.*structure='3:1'"),
    ],
    ids=["unknown-name", "not-prunable", "all-skipped", "m-by-n-misfit", "bad-structure"],
)
def test_prepare_rejects_bad_arguments_with_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        prepare_for_pruning(mixed_model(), **kwargs)


def test_prepare_rejects_an_unbuilt_model_and_a_non_model():
    with pytest.raises(ValueError, match=r"not built"):
        prepare_for_pruning(keras.Sequential([keras.layers.Dense(2)], name="lazy"))
    with pytest.raises(TypeError, match=r"expects a keras.Model. Received: Dense"):
        prepare_for_pruning(keras.layers.Dense(2))


def test_callback_refuses_a_model_without_masks(rng):
    model = mixed_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = rng.normal(size=(8, 8, 8)).astype("float32"), rng.integers(0, 3, 8)
    with pytest.raises(ValueError, match=r"no PruningMask on model 'mixed'.*prepare_for_pruning"):
        model.fit(x, y, callbacks=[MagnitudePruning(ConstantSparsity(0.5))], verbose=0)
    with pytest.raises(TypeError, match=r"expects a PruningSchedule.*schedule=0.5"):
        MagnitudePruning(0.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"schedule": "cubic"}, r"schedule in \['polynomial', 'constant'\].*'cubic'"),
        ({"sparsity": 1.0}, r"0 <= sparsity < 1.*sparsity=1\.0"),
        ({"epochs": 0}, r"int epochs >= 1. Received: epochs=0"),
        ({"learning_rate": -1.0}, r"learning_rate > 0.*learning_rate=-1\.0"),
    ],
    ids=["schedule", "sparsity", "epochs", "learning-rate"],
)
def test_prune_native_rejects_bad_arguments(kwargs, match, digits):
    model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=match):
        prune_native(model, digits, **kwargs)


def layer_sparsities(model):
    """`{layer: (sparsity, rounding tolerance of its mask)}`."""
    return {row["layer"]: (row["sparsity"], 0.5 / row["params"]) for row in sparsity_table(model)}


def test_layer_sparsity_scales_the_schedule_per_layer(rng):
    pruned = prepare_for_pruning(mixed_model())
    pruned.compile("adam", "sparse_categorical_crossentropy")
    schedule = PolynomialSparsity(0.0, 0.8, begin_step=0, end_step=4, frequency=1)
    mapping = {"conv2d": 0.4, "fc": 0.95, "out": 0.0}
    callback = MagnitudePruning(schedule, layer_sparsity=mapping)
    callback.set_model(pruned)
    callback.on_train_begin()
    callback.update_masks(2)  # schedule(2) = 0.7: 7/8 of the way to each layer's target
    halfway = layer_sparsities(pruned)
    for name in ("conv2d", "fc", "conv1d"):
        expected = schedule(2) / 0.8 * mapping.get(name, 0.8)
        assert halfway[name][0] == pytest.approx(expected, abs=halfway[name][1]), name
    assert halfway["out"][0] == 0.0

    x, y = rng.normal(size=(32, 8, 8)).astype("float32"), rng.integers(0, 3, 32)
    pruned.fit(x, y, epochs=1, batch_size=4, callbacks=[callback], verbose=0)
    final = layer_sparsities(strip_pruning(pruned))
    assert set(final) == {"conv1d", "conv2d", "depthwise", "deconv", "fc", "out"}
    final.pop("deconv")  # not a prunable class
    for name, (sparsity, tolerance) in final.items():
        assert sparsity == pytest.approx(mapping.get(name, 0.8), abs=tolerance), name


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"layer_sparsity": {"fc": 1.0}}, ValueError, r"in \[0, 1\).*layer_sparsity\['fc'\]=1.0"),
        ({"layer_sparsity": [("fc", 0.5)]}, TypeError, r"layer_sparsity as a mapping"),
        (
            {"layer_sparsity": {"fc": 0.5}, "structure": "2:4"},
            ValueError,
            r"structure='2:4' fixes every layer's sparsity",
        ),
        (
            {"layer_sparsity": {"fc": 0.5}, "schedule": ConstantSparsity(0.0)},
            ValueError,
            r"schedule ending above 0.*final sparsity 0.0",
        ),
    ],
    ids=["value", "not-a-mapping", "with-structure", "zero-schedule"],
)
def test_layer_sparsity_rejects_bad_arguments(kwargs, error, match):
    kwargs.setdefault("schedule", ConstantSparsity(0.5))
    with pytest.raises(error, match=match):
        MagnitudePruning(**kwargs)


def test_layer_sparsity_names_unknown_and_skipped_layers(rng):
    pruned = prepare_for_pruning(mixed_model(), skip_layers=["fc"])
    pruned.compile("adam", "sparse_categorical_crossentropy")
    callback = MagnitudePruning(ConstantSparsity(0.5), layer_sparsity={"fc": 0.9, "nope": 0.1})
    x, y = rng.normal(size=(8, 8, 8)).astype("float32"), rng.integers(0, 3, 8)
    with pytest.raises(ValueError, match=r"\['fc', 'nope'\].*\['conv1d', 'conv2d', 'depthwise'"):
        pruned.fit(x, y, callbacks=[callback], verbose=0)
