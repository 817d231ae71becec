"""PruningMask and the mask functions: exact zeros under Adam, m:n groups, config round trips."""

import json

import keras
import numpy as np
import pytest

from kerasopt.compress.native_magnitude_pruning import MagnitudePruning, pruning_masks
from kerasopt.compress.native_pruning import prepare_for_pruning
from kerasopt.compress.sparsity_mask import (
    PruningMask,
    m_by_n_mask,
    magnitude_mask,
    parse_structure,
)
from kerasopt.compress.sparsity_schedules import ConstantSparsity


def small_model():
    return keras.Sequential(
        [
            keras.Input((6, 6, 4)),
            keras.layers.Conv2D(8, 3, name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ],
        name="small",
    )


def toy_data(rng, n=64):
    return rng.normal(size=(n, 6, 6, 4)).astype("float32"), rng.integers(0, 3, n)


def fit_with_one_mask_update(model, callback, rng):
    """Fits 24 Adam steps; `callback` prunes once, before step 0."""
    x, y = toy_data(rng)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=3, callbacks=[callback], verbose=0)


def test_constraint_keeps_pruned_weights_exactly_zero_under_adam(rng):
    model = prepare_for_pruning(small_model())
    schedule = ConstantSparsity(0.5, begin_step=0, end_step=0)  # one update, at step 0
    fit_with_one_mask_update(model, MagnitudePruning(schedule), rng)
    assert int(model.optimizer.iterations) == 24
    for layer, constraint in pruning_masks(model):
        mask = keras.ops.convert_to_numpy(constraint.mask)
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        assert (kernel[mask == 0] == 0).all(), layer.name
        assert (mask == 0).sum() == round(0.5 * mask.size)
        assert np.count_nonzero(kernel) == mask.sum()


class MaskOnlyAtUpdateSteps(keras.callbacks.Callback):
    """What the constraint replaces: zeroing weights only when the masks change."""

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and not hasattr(self, "masks"):
            self.masks = {}
            for layer in self.model.layers:
                if hasattr(layer, "kernel"):
                    kernel = keras.ops.convert_to_numpy(layer.kernel)
                    self.masks[layer.name] = magnitude_mask(kernel, 0.5)
                    layer.kernel.assign(kernel * self.masks[layer.name])


def test_masking_only_at_update_steps_lets_adam_regrow_weights(rng):
    # The failure mode the constraint exists for: without it, Adam's moments move the
    # zeroed weights again on the very next steps.
    model = small_model()
    callback = MaskOnlyAtUpdateSteps()
    fit_with_one_mask_update(model, callback, rng)
    regrown = [
        np.count_nonzero(keras.ops.convert_to_numpy(model.get_layer(name).kernel)[mask == 0])
        for name, mask in callback.masks.items()
    ]
    assert all(count > 0 for count in regrown)


def test_optimizer_apply_keeps_masked_entries_zero():
    layer = keras.layers.Dense(3, kernel_constraint=PruningMask((4, 3)))
    layer.build((None, 4))
    mask = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], dtype="float32")
    layer.kernel_constraint.assign_mask(mask)
    layer.kernel.assign(keras.ops.convert_to_numpy(layer.kernel) * mask)
    optimizer = keras.optimizers.Adam(0.1)
    for _ in range(5):
        optimizer.apply([keras.ops.ones((4, 3)), keras.ops.ones((3,))], layer.trainable_weights)
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    assert (kernel[mask == 0] == 0).all() and (kernel[mask == 1] != 0).all()


@pytest.mark.parametrize(
    "shape", [(8, 5), (3, 3, 16, 4), (5, 12, 2)], ids=["dense", "conv2d", "conv1d"]
)
def test_two_four_mask_keeps_exactly_two_in_every_group_of_four(shape, rng):
    kernel = rng.normal(size=shape)
    mask = m_by_n_mask(kernel, 2, 4)
    groups = np.moveaxis(mask, -2, -1).reshape(-1, 4)
    assert (groups.sum(axis=-1) == 2).all()
    kept = np.moveaxis(np.abs(kernel) * mask, -2, -1).reshape(-1, 4)
    dropped = np.moveaxis(np.abs(kernel) * (1 - mask), -2, -1).reshape(-1, 4)
    assert (np.sort(kept, axis=-1)[:, -2] >= dropped.max(axis=-1)).all()


def test_two_four_mask_with_ties_still_keeps_exactly_two():
    mask = m_by_n_mask(np.zeros((8, 2)), 2, 4)
    assert (mask.reshape(2, 4, 2).sum(axis=1) == 2).all()


def test_two_four_mask_refuses_input_axis_not_a_multiple_of_four(rng):
    with pytest.raises(ValueError, match=r"multiple of 4.*kernel.shape=\(3, 3, 1, 8\)"):
        m_by_n_mask(rng.normal(size=(3, 3, 1, 8)), 2, 4)


def test_magnitude_mask_zeroes_the_smallest_with_an_exact_count(rng):
    kernel = rng.normal(size=(10, 10))
    kernel[:3] = 0.0  # ties among the smallest, as after an earlier update
    mask = magnitude_mask(kernel, 0.8)
    assert (mask == 0).sum() == 80
    assert np.abs(kernel[mask == 1]).min() >= np.abs(kernel[mask == 0]).max()
    assert magnitude_mask(kernel, 0.0).all()


@pytest.mark.parametrize("inner", [None, keras.constraints.MaxNorm(2.0)], ids=["alone", "maxnorm"])
def test_pruning_mask_round_trips_with_its_mask(inner, rng):
    mask = (rng.random((3, 3, 4, 6)) > 0.7).astype("float32")
    constraint = PruningMask((3, 3, 4, 6), mask=mask, constraint=inner)
    config = constraint.get_config()
    restored = PruningMask.from_config(json.loads(json.dumps(config)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored.mask), mask)
    assert restored.get_config() == config
    serialized = keras.saving.serialize_keras_object(constraint)
    assert serialized["registered_name"] == "kerasopt>PruningMask"
    again = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again.mask), mask)
    assert type(again.constraint) is type(inner)


def test_pruning_mask_applies_inner_constraint_then_mask():
    constraint = PruningMask((2, 1), mask=np.array([[1.0], [0.0]]), constraint="non_neg")
    out = keras.ops.convert_to_numpy(constraint(keras.ops.convert_to_tensor([[-2.0], [5.0]])))
    np.testing.assert_array_equal(out, [[0.0], [0.0]])


def test_untouched_mask_is_not_written_into_the_config():
    assert PruningMask((64, 32)).get_config()["mask"] is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shape": (4, 3), "mask": np.ones((3, 4))}, r"shape \(4, 3\).*mask of shape \(3, 4\)"),
        ({"shape": (2, 2), "mask": np.full((2, 2), 0.5)}, r"0s and 1s.*\[0\.5\]"),
        ({"shape": (0, 3)}, r"shape=\(0, 3\)"),
    ],
    ids=["wrong-shape", "not-binary", "empty-shape"],
)
def test_pruning_mask_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PruningMask(**kwargs)


@pytest.mark.parametrize("structure", ["4:2", "2:2", "2-4", "a:b", "0:4"])
def test_parse_structure_rejects_bad_strings(structure):
    with pytest.raises(ValueError, match=rf"0 < m < n.*structure='{structure}'"):
        parse_structure(structure)


def test_parse_structure_reads_m_and_n():
    assert parse_structure("2:4") == (2, 4) and parse_structure(None) is None
