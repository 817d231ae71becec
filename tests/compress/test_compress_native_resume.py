"""Pruning state survives a `.keras` round trip (safe_mode) and an interrupted fit."""

import keras
import numpy as np
import pytest

from kerasopt.compress.native_magnitude_pruning import MagnitudePruning, pruning_masks
from kerasopt.compress.native_pruning import prepare_for_pruning
from kerasopt.compress.sparsity_mask import PruningMask
from kerasopt.compress.sparsity_schedules import ConstantSparsity, PolynomialSparsity

BATCH = 16  # 64 samples: 4 steps per epoch


def prepared_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 4)),
            keras.layers.Conv2D(8, 3, name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(12, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ],
        name="resumable",
    )
    pruned = prepare_for_pruning(model)
    pruned.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    return pruned


@pytest.fixture
def data(rng):
    return rng.normal(size=(64, 6, 6, 4)).astype("float32"), rng.integers(0, 3, 64)


def masks_and_kernels(model):
    return [
        (keras.ops.convert_to_numpy(c.mask), keras.ops.convert_to_numpy(layer.kernel))
        for layer, c in pruning_masks(model)
    ]


class StopAfterSteps(keras.callbacks.Callback):
    """Stands in for a crash or a kill: training ends after `steps` optimizer steps."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.seen = steps, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.steps:
            self.model.stop_training = True


def test_keras_file_saved_mid_pruning_loads_in_safe_mode_with_its_masks(tmp_path, data):
    model = prepared_model()
    schedule = PolynomialSparsity(0.0, 0.9, begin_step=0, end_step=40, frequency=2)
    model.fit(*data, batch_size=BATCH, epochs=1, callbacks=[MagnitudePruning(schedule)], verbose=0)
    path = tmp_path / "mid_pruning.keras"
    model.save(path)

    loaded = keras.saving.load_model(path, safe_mode=True)
    assert int(loaded.optimizer.iterations) == 4
    assert [layer.name for layer, _ in pruning_masks(loaded)] == ["conv", "hidden", "out"]
    assert isinstance(loaded.get_layer("out").kernel.constraint, PruningMask)
    for (mask, kernel), (new_mask, new_kernel) in zip(
        masks_and_kernels(model), masks_and_kernels(loaded), strict=True
    ):
        assert 0 < (mask == 0).mean() < 0.9  # saved mid-schedule
        np.testing.assert_array_equal(new_mask, mask)
        np.testing.assert_array_equal(new_kernel, kernel)

    # The restored constraint is live in the loaded model's compiled step: masks do not
    # move (no update is due after step 0), and Adam cannot regrow the zeros.
    hold = MagnitudePruning(ConstantSparsity(0.5, begin_step=0, end_step=0))
    loaded.fit(*data, batch_size=BATCH, epochs=2, callbacks=[hold], verbose=0)
    assert hold.last_update is None
    for (mask, _), (new_mask, new_kernel) in zip(
        masks_and_kernels(model), masks_and_kernels(loaded), strict=True
    ):
        np.testing.assert_array_equal(new_mask, mask)
        assert (new_kernel[mask == 0] == 0).all()


@pytest.mark.parametrize("reload", [False, True], ids=["same-process", "from-keras-file"])
def test_interrupted_pruning_fit_resumes_at_the_schedule_position(reload, tmp_path, data):
    schedule = PolynomialSparsity(0.0, 0.9, begin_step=0, end_step=40, frequency=3)

    reference = prepared_model()
    straight = MagnitudePruning(schedule)
    reference.fit(
        *data, batch_size=BATCH, epochs=4, callbacks=[straight, StopAfterSteps(14)], verbose=0
    )

    model = prepared_model()
    first = MagnitudePruning(schedule)
    model.fit(*data, batch_size=BATCH, epochs=4, callbacks=[first, StopAfterSteps(6)], verbose=0)
    assert int(model.optimizer.iterations) == 6 and first.last_update[0] == 3
    if reload:
        model.save(tmp_path / "interrupted.keras")
        model = keras.saving.load_model(tmp_path / "interrupted.keras", safe_mode=True)
    resumed = MagnitudePruning(schedule)
    model.fit(*data, batch_size=BATCH, epochs=2, callbacks=[resumed], verbose=0)

    # Steps 6..13 ran after the restart: the last mask update is step 12, as in the
    # uninterrupted run; a schedule restarted at 0 would have stopped at step 6.
    assert int(model.optimizer.iterations) == 14 and resumed.step == 13
    assert resumed.last_update == straight.last_update == (12, pytest.approx(schedule(12)))
    for (mask, kernel), (ref_mask, _) in zip(
        masks_and_kernels(model), masks_and_kernels(reference), strict=True
    ):
        assert (mask == 0).sum() == (ref_mask == 0).sum() == round(schedule(12) * mask.size)
        assert np.count_nonzero(kernel) == mask.sum()
