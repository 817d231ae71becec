"""Every schedule survives Keras serialization and a saved `.keras` model."""

import keras
import numpy as np
import pytest

from kerasopt.schedules import (
    AnnealableCosine,
    CyclicalLR,
    InverseSqrtDecay,
    InverseTimeDecay,
    LinearDecay,
    OneCycle,
    StepDecay,
    WarmupCosine,
)

SCHEDULES = [
    ("step_decay", StepDecay(0.1, 0.5, 3)),
    ("inverse_time", InverseTimeDecay(0.1, 3, 0.5)),
    ("inverse_sqrt", InverseSqrtDecay(0.01, warmup_steps=2)),
    ("linear", LinearDecay(0.1, 10, 0.01)),
    ("warmup_cosine", WarmupCosine(1e-3, 20, 2, min_learning_rate=1e-5, cycles=2)),
    ("warmup_hold_cosine", WarmupCosine(1e-3, 20, 2, hold_steps=5)),
    ("annealable_cosine", AnnealableCosine(1e-3, 20, hold_steps=5)),
    ("one_cycle", OneCycle(0.01, 20, pct_start=0.25, div_factor=10, final_div_factor=100)),
    ("cyclical", CyclicalLR(1e-4, 1e-2, 3, mode="exp_range", gamma=0.9)),
]
IDS = [name for name, _ in SCHEDULES]
PROBE_STEPS = [0, 1, 2, 5, 13, 19, 40]


def _values(schedule):
    return np.array([float(schedule(s)) for s in PROBE_STEPS])


@pytest.mark.parametrize("schedule", [s for _, s in SCHEDULES], ids=IDS)
def test_round_trips_through_config_and_keras_file(schedule, tmp_path):
    config = keras.optimizers.schedules.serialize(schedule)
    restored = keras.optimizers.schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    np.testing.assert_array_equal(_values(restored), _values(schedule))

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
    # Two training steps: the schedule runs in a traced train function and iterations != 0.
    model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")

    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)

    # Keras exposes no public getter for the schedule object behind an optimizer.
    loaded_schedule = loaded.optimizer._learning_rate
    assert type(loaded_schedule) is type(schedule)
    assert int(loaded.optimizer.iterations) == 2
    assert float(loaded.optimizer.learning_rate) == float(model.optimizer.learning_rate)
    np.testing.assert_array_equal(_values(loaded_schedule), _values(schedule))
