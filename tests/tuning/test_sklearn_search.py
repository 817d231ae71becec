"""The scikit-learn engine: GridSearchCV over keras.wrappers.SKLearnClassifier."""

import csv
import json

import numpy as np
import pytest
from tuning_specs import write_spec

from kerasopt.tuning import (
    SearchJob,
    SpecError,
    grid_to_model_kwargs,
    load_search_spec,
    sklearn_grid_search,
)

GRID = """
[search]
data = "digits"
model = "dense"
tuner = "grid"
objective = "val_accuracy"
max_trials = 4
epochs = 3
cv = 2
[train]
augment = {}
[space]
units = [8, 32]
dropout = [0.0, 0.5]
"""


def test_grid_to_model_kwargs_is_the_product_of_the_plain_grid():
    grid = grid_to_model_kwargs({"units": [32, 64], "dropout": [0.2, 0.5]}, {"layers": 1})
    combos = {(k["units"], k["dropout"]) for k in grid["model_kwargs"]}
    assert combos == {(32, 0.2), (32, 0.5), (64, 0.2), (64, 0.5)}
    assert all(k["layers"] == 1 for k in grid["model_kwargs"])
    with pytest.raises(SpecError, match="'units' must be a non-empty list"):
        grid_to_model_kwargs({"units": 32})


@pytest.mark.slow
def test_engine_sklearn_cross_validates_every_combination(tmp_path):
    import keras

    spec = write_spec(tmp_path, GRID)
    report = SearchJob(str(spec), out=str(tmp_path / "o"), engine="sklearn", verbose=0).run()
    assert report.engine == "sklearn" and report.objective == "cv_accuracy"
    with open(tmp_path / "o" / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["units"], r["dropout"]) for r in rows} == {
        ("8", "0.0"),
        ("8", "0.5"),
        ("32", "0.0"),
        ("32", "0.5"),
    }
    assert all(0 < float(r["objective"]) <= 1 and float(r["objective_std"]) >= 0 for r in rows)
    best_row = min(rows, key=lambda r: int(r["rank"]))
    best = json.loads((tmp_path / "o" / "best_hyperparameters.json").read_text())
    assert best == {"units": int(best_row["units"]), "dropout": float(best_row["dropout"])}
    model = keras.saving.load_model(tmp_path / "o" / "best_model.keras", safe_mode=True)
    probabilities = model.predict(np.zeros((2, 64), "float32"), verbose=0)
    assert probabilities.shape == (2, 10)
    summary = json.loads((tmp_path / "o" / "search.json").read_text())
    assert 0.5 < summary["best"]["test_accuracy"] <= 1.0
    assert summary == json.loads(json.dumps(report.to_dict())) and summary["cv"] == 2
    text = report.summary_text()
    assert text.count("\n") >= 6 and "4 trials: 4 completed" in text  # every combination
    assert f"cross-validated accuracy {report.best.objective:.4f}" in text


def test_sklearn_engine_refuses_what_it_cannot_tune(tmp_path):
    text = GRID.replace("dropout = [0.0, 0.5]", "augment_strength = [0.0, 1.0]")
    text = text.replace("augment = {}", "augment = {rotation = 0.05}")
    spec = load_search_spec(write_spec(tmp_path, text))
    with pytest.raises(
        SpecError, match=r"cannot tune \['augment_strength'\].*--engine keras-tuner"
    ):
        sklearn_grid_search(spec, tmp_path / "o")


@pytest.mark.slow
def test_sklearn_engine_tunes_a_text_model_on_token_ids(tmp_path):
    from kerasopt.text.review_corpus import write_aclimdb

    corpus = write_aclimdb(tmp_path / "aclImdb", n_train=240, n_test=60, seed=0)
    text = """
[search]
data = "imdb"
model = "text"
tuner = "grid"
objective = "val_accuracy"
max_trials = 2
epochs = 2
cv = 2
[data]
max_tokens = 500
sequence_length = 32
[space]
units = [8]
dropout = [0.0, 0.5]
"""
    spec = load_search_spec(write_spec(tmp_path, text))
    report = sklearn_grid_search(spec, tmp_path / "o", data_path=corpus, verbose=0)
    assert report.trials == 2 and 0.0 < report.best.test_accuracy <= 1.0
