"""Checks every kerasopt optimizer must pass, run over all of them (optax style)."""

import keras
import numpy as np
import pytest
from small_models import regression_data

from kerasopt.optimizers import AdaBound, Lookahead, RAdam
from kerasopt.optimizers.adaptive_gradient_clipping import AdaptiveGradientClipping

# Factories, not instances: each test needs a fresh, unbuilt optimizer created after seeding.
OPTIMIZERS = {
    "RAdam": lambda: RAdam(learning_rate=0.05),
    "RAdam-weight_decay": lambda: RAdam(learning_rate=0.05, weight_decay=0.01),
    "AdaBound": lambda: AdaBound(learning_rate=0.05, final_lr=0.1),
    "AdaBound-amsbound": lambda: AdaBound(learning_rate=0.05, amsbound=True),
    "Lookahead-SGD": lambda: Lookahead(keras.optimizers.SGD(0.1), sync_period=5),
    "Lookahead-RAdam": lambda: Lookahead(RAdam(0.05), sync_period=4, slow_step_size=0.8),
    "AGC-SGD": lambda: AdaptiveGradientClipping(keras.optimizers.SGD(0.1), clip_factor=0.05),
}
# Training-based checks run on one variant of each optimizer to stay fast.
TRAINED = ["RAdam", "AdaBound", "Lookahead-SGD", "Lookahead-RAdam"]

all_optimizers = pytest.mark.parametrize(
    "make", list(OPTIMIZERS.values()), ids=list(OPTIMIZERS.keys())
)
trained_optimizers = pytest.mark.parametrize("make", [OPTIMIZERS[k] for k in TRAINED], ids=TRAINED)


def _compiled_model(optimizer):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", jit_compile=False)
    return model


@trained_optimizers
def test_loss_goes_down(make):
    keras.utils.set_random_seed(0)
    x, y = regression_data(128, bias=0.5)
    model = _compiled_model(make())
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert np.isfinite(after)
    assert after < 0.25 * before


@all_optimizers
def test_config_round_trip(make):
    optimizer = make()
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is type(optimizer)
    assert restored.get_config() == optimizer.get_config()
    assert type(optimizer).from_config(optimizer.get_config()).get_config() == (
        optimizer.get_config()
    )


@all_optimizers
def test_registered_under_kerasopt(make):
    cls = type(make())
    assert keras.saving.get_registered_name(cls) == f"kerasopt>{cls.__name__}"
    assert keras.saving.get_registered_object(f"kerasopt>{cls.__name__}") is cls


@trained_optimizers
def test_keras_file_round_trip(make, tmp_path):
    x, y = regression_data(16, bias=0.5)
    model = _compiled_model(make())
    model.train_on_batch(x, y)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations) == 1
    saved = [v.numpy() for v in model.optimizer.variables]
    restored = [v.numpy() for v in loaded.optimizer.variables]
    assert len(saved) == len(restored)
    for a, b in zip(saved, restored, strict=True):
        np.testing.assert_array_equal(a, b)


@all_optimizers
def test_apply_moves_variable_against_gradient(make):
    var = keras.Variable(np.ones((3,), "float32"))
    optimizer = make()
    optimizer.apply([keras.ops.ones((3,))], [var])
    value = var.numpy()
    assert np.all(np.isfinite(value))
    assert np.all(value < 1.0)
    assert int(optimizer.iterations) == 1
