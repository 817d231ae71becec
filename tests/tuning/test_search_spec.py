"""Spec validation: every bad key or value names the key, the value and the choices."""

from pathlib import Path

import numpy as np
import pytest

from kerasopt.core.errors import MissingFileError
from kerasopt.tuning import Hyperparameter, SpecError, load_search_spec, parse_search_spec

BASE = {
    "search": {
        "data": "digits",
        "model": "cnn",
        "tuner": "random",
        "objective": "val_accuracy",
        "max_trials": 2,
        "epochs": 1,
    },
    "space": {"dropout": [0.1, 0.3]},
}


def _with(**tables):
    document = {key: dict(value) for key, value in BASE.items()}
    for table, changes in tables.items():
        document.setdefault(table, {}).update(changes)
    return document


def _toml(document: dict) -> str:
    lines = []
    for table, values in document.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in values.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "path",
    ["tuning/digits.toml", "tuning/mnist.toml", "tuning/digits_dense.toml", "tuning/imdb.toml"],
)
def test_shipped_specs_load(path):
    spec = load_search_spec(path)
    assert spec.space and spec.epochs >= 1


@pytest.mark.parametrize("name", ["digits", "digits.toml", "tuning/mnist.toml"])
def test_shipped_specs_are_found_by_name_from_any_working_directory(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_search_spec(name)
    assert spec.name == Path(name).name.removesuffix(".toml")
    assert spec.data in ("digits", "mnist")


def test_a_missing_spec_names_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingFileError, match=r"'digit' does not exist.*digits_dense.*'digits'"):
        load_search_spec("digit")


def test_a_relative_data_path_is_read_from_the_spec_folder(tmp_path, monkeypatch):
    from kerasopt.tuning.search_runner import load_search_data

    folder = tmp_path / "specs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (60, 6, 6, 1)).astype("uint8"), np.arange(60) % 3
    np.savez(folder / "shapes.npz", x_train=x, y_train=y, x_test=x[:12], y_test=y[:12])
    document = _with(search={"data": "shapes.npz", "model": "dense"}, space={"units": [4]})
    (folder / "shapes.toml").write_text(_toml(document))
    monkeypatch.chdir(tmp_path / "..")
    spec = load_search_spec(folder / "shapes.toml")
    assert Path(spec.data) == folder / "shapes.npz" and spec.scenario is None
    data = load_search_data(spec)
    assert data.num_classes == 3 and data.input_shape == (6, 6, 1)


def test_imdb_data_table_sets_the_scenario_loader_options():
    spec = load_search_spec("imdb")
    assert spec.data_options == {"max_tokens": 20000, "sequence_length": 200, "ngrams": None}
    document = _with(
        search={"data": "imdb", "model": "text"},
        space={"units": [8]},
        data={"sequence_length": 32},
    )
    spec = parse_search_spec(document)
    assert spec.data_options["sequence_length"] == 32
    assert spec.train.learning_rate == 2e-3  # the imdb recipe, not TrainConfig's default
    assert spec.fixed["family"] == "bow"


@pytest.mark.parametrize(
    ("search", "data", "match"),
    [
        (
            {"data": "imdb", "model": "text"},
            {"max_token": 500},
            r"\[data\].*'max_token'.*max_tokens, sequence_length, ngrams.*"
            r"Did you mean 'max_tokens'",
        ),
        (
            {"data": "digits"},
            {"max_tokens": 500},
            r"\[data\] sets \['max_tokens'\].*'digits' takes no options",
        ),
        ({"data": "x.npz"}, {"max_tokens": 500}, r"\[data\] sets the options.*'x.npz' is a file"),
        ({"data": "digts"}, None, r"data='digts' is neither a scenario.*Did you mean 'digits'"),
    ],
    ids=["typo", "no-options", "file", "unknown-data"],
)
def test_data_errors_name_the_key_and_the_scenario_options(search, data, match):
    tables = {"search": search} if data is None else {"search": search, "data": data}
    if search.get("model") == "text":
        tables["space"] = {"units": [8]}
    with pytest.raises(SpecError, match=match):
        parse_search_spec(_with(**tables))


def test_digits_spec_starts_from_the_scenario_recipe():
    spec = load_search_spec("tuning/digits.toml")
    # Untuned values are the digits scenario's: BN momentum 0.9, warmup+cosine, affine aug.
    assert spec.fixed["bn_momentum"] == 0.9
    assert spec.train.lr_schedule == "warmup_cosine"
    assert spec.train.augment == {"rotation": 0.05, "translation": 0.1, "zoom": 0.1}
    assert spec.train.checkpoint is False and spec.train.early_stopping_patience is None


@pytest.mark.parametrize(
    ("tables", "match"),
    [
        (
            {"search": {"tunr": "random"}},
            r"\[search\] has unknown key 'tunr'.*Did you mean 'tuner'",
        ),
        ({"search": {"tuner": "genetic"}}, r"tuner='genetic' is unknown.*'hyperband'"),
        ({"search": {"objective": "val_acc"}}, r"objective='val_acc' is unknown.*'val_accuracy'"),
        ({"search": {"model": "resnet"}}, r"model='resnet' is unknown.*'cnn'"),
        ({"search": {"epochs": 0}}, r"\[search\] epochs must be an integer >= 1. Received: 0"),
        ({"space": {"dropuot": [0.1]}}, r"'dropuot'.*Did you mean 'dropout'"),
        ({"space": {"units": [8]}}, r"cannot tune.*Tunable names"),
        ({"tuner": {"factor": 3}}, r"\[tuner\] \(tuner='random'\) has unknown key 'factor'"),
        ({"train": {"epochs": 3}}, r"set the epochs per trial in \[search\] epochs"),
        ({"train": {"stages": [{"epochs": 1}]}}, r"\[train\] stages: a search trains"),
        ({"train": {"optimzer": "sgd"}}, r"\[train\] has unknown key 'optimzer'"),
        ({"budget": {"mode": "penalty"}}, r"\[budget\] needs max_int8_kb, max_latency_us"),
        ({"budget": {"max_int8_kb": -1}}, r"max_int8_kb must be a number > 0. Received: -1"),
        ({"median_stop": {"metric": "f1"}}, r"\[median_stop\] metric='f1' is unknown"),
        ({"extra": {}}, r"unknown table 'extra'"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_bad_spec_errors_name_the_key_and_the_choices(tables, match):
    with pytest.raises(SpecError, match=match):
        parse_search_spec(_with(**tables))


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"type": "float", "min": 0.5, "max": 0.1}, r"\[space.x\] needs min <= max"),
        ({"type": "float", "min": 0.0, "max": 1.0, "sampling": "log"}, r"needs min > 0"),
        (
            {"type": "int", "min": 1, "max": 4, "steps": 1},
            r"unknown key 'steps'.*Did you mean 'step'",
        ),
        ({"type": "real"}, r"type='real' is unknown"),
        ({"type": "choice", "values": []}, r"non-empty list `values`"),
        ({"type": "choice", "values": [1, "a"]}, r"must share one type"),
    ],
    ids=["min>max", "log-zero", "typo", "type", "empty", "mixed"],
)
def test_bad_hyperparameter_entries(entry, match):
    with pytest.raises(SpecError, match=match):
        Hyperparameter.from_toml("x", entry)


def test_condition_must_name_a_declared_parent_value():
    space = {"optimizer": ["adam", "sgd"], "clipnorm": {"type": "float", "min": 0.5, "max": 2.0}}
    space["clipnorm"]["when"] = {"optimizer": ["rmsprop"]}
    with pytest.raises(SpecError, match=r"names \['rmsprop'\], which 'optimizer' never takes"):
        parse_search_spec(_with(space=space))


def test_grid_tuner_needs_finite_ranges():
    space = {"learning_rate": {"type": "float", "min": 1e-3, "max": 1e-2}}
    with pytest.raises(SpecError, match="without `step`, which has no finite grid"):
        parse_search_spec(_with(search={"tuner": "grid"}, space=space))


def test_grid_values_of_ranges():
    linear = Hyperparameter.from_toml("u", {"type": "int", "min": 32, "max": 128, "step": 32})
    log = Hyperparameter.from_toml(
        "lr", {"type": "float", "min": 1e-4, "max": 1e-2, "step": 10, "sampling": "log"}
    )
    assert linear.grid_values() == [32, 64, 96, 128]
    assert log.grid_values() == pytest.approx([1e-4, 1e-3, 1e-2])


def test_penalty_budget_renames_the_oracle_objective():
    spec = parse_search_spec(
        _with(
            search={"objective": "tflite_int8_accuracy"},
            budget={"max_int8_kb": 50, "mode": "penalty"},
        )
    )
    assert spec.deployment and spec.direction == "max"
    assert spec.oracle_objective == "penalized_tflite_int8_accuracy"


def test_conditional_hyperparameter_is_declared_only_when_its_parent_matches():
    import keras_tuner

    from kerasopt.tuning import SpecHyperModel

    space = {
        "optimizer": ["adam", "sgd"],
        "clipnorm": {"type": "float", "min": 0.5, "max": 2.0, "when": {"optimizer": "sgd"}},
    }
    spec = parse_search_spec(_with(space=space))
    hypermodel = SpecHyperModel(spec)
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values["optimizer"] = "adam"
    assert hypermodel.values(hp)["clipnorm"] is None  # the recipe's value: off
    hp.values["optimizer"] = "sgd"
    hp.ensure_active_values()
    assert 0.5 <= hypermodel.values(hp)["clipnorm"] <= 2.0


@pytest.mark.parametrize("block, depthwise", [("conv", 0), ("separable", 2)])
def test_residual_family_builds_the_block_a_spec_chooses(block, depthwise):
    from kerasopt.tuning.model_families import ModelInputs, get_model_family

    family = get_model_family("residual")
    values = {**family.defaults, "width": 4, "stages": 1, "block": block}
    model = family.build(ModelInputs("digits", (8, 8), 10, 16.0), values)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("DepthwiseConv2D") == depthwise
    assert "block" in family.tunable()


def test_a_search_refuses_to_train_on_the_validation_split_it_ranks_on():
    with pytest.raises(SpecError, match=r"train_on_validation: trials are ranked on the valid"):
        parse_search_spec(_with(train={"train_on_validation": True}))
