"""In-process searches: failures recorded with their reason, deployment objectives,
budgets, pruning in the loop, and the files a search leaves."""

import csv
import json

import numpy as np
import pytest
from tuning_specs import write_spec

from kerasopt.tuning import load_search_spec, run_search

FAILING_GRID = """
[search]
data = "digits"
model = "cnn"
tuner = "grid"
objective = "val_accuracy"
max_trials = 4
epochs = 2
[model]
filters = 4
dense_units = 8
[train]
augment = {}
optimizer = "sgd"
lr_schedule = "constant"
[space]
blocks = [1, 4]
learning_rate = [0.01, 1e30]
"""

PRUNED_INT8 = """
[search]
data = "digits"
model = "cnn"
tuner = "random"
objective = "tflite_int8_accuracy"
max_trials = 2
epochs = 3
[model]
filters = 8
dense_units = 16
[train]
augment = {}
[space]
prune_sparsity = [0.6]
dropout = [0.0, 0.1]
[budget]
max_int8_kb = 5
mode = "penalty"
penalty = 0.1
"""


def _rows(folder):
    with open(folder / "trials.csv", newline="") as f:
        return {row["trial_id"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def failing_search(tmp_path_factory):
    folder = tmp_path_factory.mktemp("failing")
    spec = load_search_spec(write_spec(folder, FAILING_GRID))
    summary = run_search(spec, folder / "out", verbose=0)
    return summary, folder / "out"


def test_failed_trials_are_recorded_with_their_reason_and_the_search_goes_on(failing_search):
    summary, out = failing_search
    rows = _rows(out)
    assert len(rows) == 4 and summary["completed"] == 1 and summary["failed"] == 3
    by_values = {(r["blocks"], r["learning_rate"]): r for r in rows.values()}
    good = by_values[("1", "0.01")]
    assert good["status"] == "COMPLETED" and float(good["objective"]) > 0.1
    assert good["failure_reason"] == ""
    diverged = by_values[("1", "1e+30")]
    assert diverged["status"] == "FAILED"
    assert "TrainingDivergedError" in diverged["failure_reason"]
    impossible = by_values[("4", "0.01")]
    assert "blocks=4 pools a 8x8 input below 1x1" in impossible["failure_reason"]


def test_search_files_describe_the_best_trial(failing_search):
    import keras

    summary, out = failing_search
    best = json.loads((out / "best_hyperparameters.json").read_text())
    assert best == {"blocks": 1, "learning_rate": 0.01}
    assert summary["best"]["hyperparameters"] == best
    model = keras.saving.load_model(out / "best_model.keras", safe_mode=True)
    assert len([layer for layer in model.layers if "conv" in layer.name]) == 2  # one block
    assert 0.0 < summary["best"]["test_accuracy"] <= 1.0
    assert (out / "objective.png").read_bytes()[:4] == b"\x89PNG"
    assert summary["this_run"]["trials"] == 4
    assert 0.0 < summary["this_run"]["outside_fit_fraction"] < 1.0


def test_deployment_objective_with_native_pruning_and_a_penalty_budget(tmp_path):
    import keras

    spec = load_search_spec(write_spec(tmp_path, PRUNED_INT8))
    summary = run_search(spec, tmp_path / "out", verbose=0)
    rows = _rows(tmp_path / "out")
    assert summary["objective"] == "penalized_tflite_int8_accuracy"
    for row in rows.values():
        raw, kb = float(row["tflite_int8_accuracy"]), float(row["int8_kb"])
        assert kb > 5  # every trial is over the 5 KB budget, so every one is penalised
        assert float(row["objective"]) == pytest.approx(raw - 0.1 * (kb / 5 - 1))
        assert float(row["latency_us"]) > 0
    model = keras.saving.load_model(tmp_path / "out" / "best_model.keras", safe_mode=True)
    kernel = model.get_layer("dense").kernel.numpy()
    assert np.mean(kernel == 0) == pytest.approx(0.6, abs=0.02)  # pruned, masks stripped
    assert 0.0 <= summary["best"]["tflite_int8_test_accuracy"] <= 1.0


def test_infeasible_budget_fails_trials_before_they_train(tmp_path):
    text = PRUNED_INT8.replace('mode = "penalty"', 'mode = "infeasible"')
    # Over-budget trials are results, not crashes: even with a limit of one consecutive
    # failure, the search runs on through both of them.
    text = text.replace("max_trials = 2", "max_trials = 2\nmax_consecutive_failures = 1")
    spec = load_search_spec(write_spec(tmp_path, text))
    summary = run_search(spec, tmp_path / "out", verbose=0)
    rows = list(_rows(tmp_path / "out").values())
    assert len(rows) == 2 and summary["failed"] == 2 and "best" not in summary
    for row in rows:
        assert row["status"] == "FAILED"
        assert "int8_kb=" in row["failure_reason"] and "> max 5 KB" in row["failure_reason"]
        assert "checked before training" in row["failure_reason"]
        assert row["fit_seconds"] == ""


def test_resuming_with_a_different_spec_is_refused(tmp_path):
    from tuning_specs import DENSE_RANDOM

    from kerasopt.tuning import SpecError

    spec = load_search_spec(write_spec(tmp_path, DENSE_RANDOM, max_trials=1))
    run_search(spec, tmp_path / "out", verbose=0)
    other = load_search_spec(write_spec(tmp_path, DENSE_RANDOM, name="b.toml", max_trials=3))
    with pytest.raises(SpecError, match="different spec.*--overwrite"):
        run_search(other, tmp_path / "out", verbose=0)


def test_tensorboard_logs_each_trial_with_its_hyperparameters(tmp_path):
    from tuning_specs import DENSE_RANDOM

    spec = load_search_spec(write_spec(tmp_path, DENSE_RANDOM, max_trials=1))
    run_search(spec, tmp_path / "out", tensorboard=True, verbose=0)
    logs = tmp_path / "out" / "tensorboard"
    events = [p for p in logs.rglob("events.out.tfevents.*")]
    assert events, list(logs.rglob("*"))
    # keras-tuner adds the HParams plugin's summary next to Keras' own logs.
    assert any(b"hparams" in p.read_bytes() for p in events)
