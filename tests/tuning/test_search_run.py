"""In-process searches: failures recorded with their reason, deployment objectives,
budgets, pruning in the loop, and the files a search leaves."""

import csv
import json

import numpy as np
import pytest
from tuning_specs import write_spec

from kerasopt.tuning import SearchReport, load_search_spec, run_search

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
    report = run_search(spec, folder / "out", verbose=0)
    return report, folder / "out"


@pytest.mark.slow
def test_failed_trials_are_recorded_with_their_reason_and_the_search_goes_on(failing_search):
    report, out = failing_search
    rows = _rows(out)
    assert len(rows) == 4 and report.completed == 1 and report.failed == 3
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

    report, out = failing_search
    best = json.loads((out / "best_hyperparameters.json").read_text())
    assert best == {"blocks": 1, "learning_rate": 0.01}
    assert report.best.hyperparameters == best
    model = keras.saving.load_model(out / "best_model.keras", safe_mode=True)
    assert len([layer for layer in model.layers if "conv" in layer.name]) == 2  # one block
    assert 0.0 < report.best.test_accuracy <= 1.0
    assert (out / "objective.png").read_bytes()[:4] == b"\x89PNG"
    assert report.this_run.trials == 4
    assert 0.0 < report.this_run.outside_fit_fraction < 1.0


def test_search_json_is_the_report_and_reads_back(failing_search):
    report, out = failing_search
    saved = json.loads((out / "search.json").read_text())
    assert saved["schema_version"] == 1 and saved["engine"] == "keras-tuner"
    assert saved == json.loads(json.dumps(report.to_dict()))
    assert saved["best"]["int8"] is None  # no deployment objective: nothing exported
    again = SearchReport.read(out)
    assert again == report and len(again.rows) == 4
    text = again.summary_text()
    assert "trial  val_accuracy  blocks  learning_rate" in text
    assert "4 trials: 1 completed (0 stopped by the median rule), 3 failed" in text
    assert f"Best trial {report.best.trial_id}: {{'blocks': 1, 'learning_rate': 0.01}}" in text
    assert "Wrote trials.csv, best_hyperparameters.json, best_model.keras" in text


@pytest.mark.slow
def test_deployment_objective_with_native_pruning_and_a_penalty_budget(tmp_path):
    import keras

    spec = load_search_spec(write_spec(tmp_path, PRUNED_INT8))
    report = run_search(spec, tmp_path / "out", verbose=0)
    rows = _rows(tmp_path / "out")
    assert report.objective == "penalized_tflite_int8_accuracy"
    for row in rows.values():
        raw, kb = float(row["tflite_int8_accuracy"]), float(row["int8_kb"])
        assert kb > 5  # every trial is over the 5 KB budget, so every one is penalised
        assert float(row["objective"]) == pytest.approx(raw - 0.1 * (kb / 5 - 1))
        assert float(row["latency_us"]) > 0
    model = keras.saving.load_model(tmp_path / "out" / "best_model.keras", safe_mode=True)
    kernel = model.get_layer("dense").kernel.numpy()
    assert np.mean(kernel == 0) == pytest.approx(0.6, abs=0.02)  # pruned, masks stripped
    int8 = report.best.int8
    assert int8.variant == "int8" and int8.split == "test" and 0.0 <= int8.accuracy <= 1.0
    saved = json.loads((tmp_path / "out" / "search.json").read_text())["best"]["int8"]
    assert saved == int8.to_dict() and {"accuracy", "bytes", "latency_us"} <= set(saved)


@pytest.mark.slow
def test_infeasible_budget_fails_trials_before_they_train(tmp_path):
    text = PRUNED_INT8.replace('mode = "penalty"', 'mode = "infeasible"')
    # Over-budget trials are results, not crashes: even with a limit of one consecutive
    # failure, the search runs on through both of them.
    text = text.replace("max_trials = 2", "max_trials = 2\nmax_consecutive_failures = 1")
    spec = load_search_spec(write_spec(tmp_path, text))
    report = run_search(spec, tmp_path / "out", verbose=0)
    rows = list(_rows(tmp_path / "out").values())
    assert len(rows) == 2 and report.failed == 2 and report.best is None
    assert json.loads((tmp_path / "out" / "search.json").read_text())["best"] is None
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


SUBSET_RESIDUAL = """
[search]
data = "digits"
model = "residual"
tuner = "random"
objective = "val_accuracy"
max_trials = 1
epochs = 1
train_samples = 300
final_epochs = 1
[model]
width = 4
stages = 1
[train]
augment = {}
health_checks = false
"""


def test_trials_rank_on_a_subset_and_the_winner_retrains_on_everything(tmp_path, monkeypatch):
    from kerasopt.tuning import spec_hypermodel

    seen = []
    original = spec_hypermodel.SpecHyperModel.fit

    def recording_fit(self, hp, model, *args, all_samples=False, **kwargs):
        seen.append(len((self.data if all_samples else self.trial_data).y_train))
        return original(self, hp, model, *args, all_samples=all_samples, **kwargs)

    monkeypatch.setattr(spec_hypermodel.SpecHyperModel, "fit", recording_fit)
    spec = load_search_spec(write_spec(tmp_path, SUBSET_RESIDUAL))
    assert spec.train_samples == 300 and spec.fixed["width"] == 4
    report = run_search(spec, tmp_path / "out", verbose=0)
    full = len(load_search_spec("digits").scenario.load_data(None).splits.y_train)
    assert seen == [300, full]  # one trial on the subset, then the retraining on all
    assert report.best is not None
    names = [layer.name for layer in report_model(tmp_path).layers]
    assert "stage1_add" in names and "stage2_add" not in names


@pytest.mark.parametrize("batch_norm, fused", [("fused", True), ("keras", False)])
def test_trials_train_batch_norm_as_the_spec_says(tmp_path, monkeypatch, batch_norm, fused):
    import contextlib
    import importlib

    module = importlib.import_module("kerasopt.training.fused_batch_norm")
    switched = []
    original = module.fused_batch_norm

    @contextlib.contextmanager
    def recording(model):
        with original(model) as count:
            switched.append(count)
            yield count

    monkeypatch.setattr(module, "fused_batch_norm", recording)
    spec_text = SUBSET_RESIDUAL + f'batch_norm = "{batch_norm}"\n'
    run_search(load_search_spec(write_spec(tmp_path, spec_text)), tmp_path / "out", verbose=0)
    # The trial and the winner's retraining, each with its BatchNormalization fused.
    assert switched == ([4, 4] if fused else [])
    saved = json.dumps(report_model(tmp_path).get_config())
    assert "fused" not in saved.lower() and "BatchNormalization" in saved


def report_model(folder):
    import keras

    return keras.saving.load_model(folder / "out" / "best_model.keras", safe_mode=True)
