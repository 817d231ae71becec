"""`SearchSpec`: a TOML search spec (`tuning/*.toml`), validated on load."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from kerasopt.core.errors import KerasoptError
from kerasopt.core.suggestions import did_you_mean
from kerasopt.scenarios.scenario import get_scenario, scenario_names
from kerasopt.training.config import TrainConfig
from kerasopt.tuning.deployment_budget import Budget, parse_budget
from kerasopt.tuning.deployment_metrics import DEPLOYMENT_OBJECTIVES
from kerasopt.tuning.median_stopping import KERAS_OBJECTIVES, MedianStop, parse_median_stop
from kerasopt.tuning.model_families import get_model_family
from kerasopt.tuning.search_space import Hyperparameter, SpecError, parse_space
from kerasopt.tuning.spec_checks import check_choice, check_keys, check_positive
from kerasopt.tuning.spec_files import find_search_spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TUNERS = ("random", "grid", "bayesian", "hyperband")
TUNER_OPTIONS = {
    "random": (),
    "grid": (),
    "bayesian": ("num_initial_points", "alpha", "beta"),
    "hyperband": ("factor", "hyperband_iterations"),
}
_TABLES = ("search", "tuner", "model", "train", "space", "budget", "median_stop", "data")
_SEARCH_KEYS = {
    "data": "a scenario name, or the path of a .npz (relative to the spec's folder)",
    "model": "model family",
    "tuner": "random, grid, bayesian or hyperband",
    "objective": "metric to optimise",
    "direction": "max or min (inferred from the objective when left out)",
    "max_trials": "trials to run (a cap for hyperband)",
    "epochs": "epochs per trial (hyperband's max_epochs)",
    "executions_per_trial": "fits per trial, averaged",
    "seed": "seed of the oracle and of training",
    "max_consecutive_failures": "consecutive failed trials that stop the search",
    "cv": "cross-validation folds of the scikit-learn engine",
    "final_epochs": "after the search, retrain the best configuration for this many epochs",
    "train_samples": "trials train on this stratified subset of the training split; the "
    "final retraining uses all of it",
}
#: Training values that are not `TrainConfig` fields.
_EXTRA_TRAINING = ("augment_strength", "weight_decay", "prune_sparsity")
#: Searches keep the best epoch through keras-tuner, not through Keras callbacks.
#: Every trial ranks on the validation split, so it is always held out.
_SEARCH_TRAINING = {
    "checkpoint": False,
    "early_stopping_patience": None,
    "train_on_validation": False,
}


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    """A validated search spec. Load one with `load_search_spec`.

    `data` is a registered scenario's name (`kerasopt.scenarios.scenario_names()`), whose
    recipe gives every value the spec does not set and whose loader reads the data with
    `data_options` (the `[data]` table over the scenario's defaults); or the path of a
    `.npz`, resolved against the spec's folder.

    Example:

    >>> from kerasopt.tuning import load_search_spec
    >>> spec = load_search_spec("digits")
    >>> spec.tuner, spec.objective
    ('hyperband', 'val_accuracy')
    """

    name: str
    data: str
    model: str
    tuner: str
    objective: str
    direction: str
    max_trials: int | None
    epochs: int
    executions_per_trial: int
    seed: int
    max_consecutive_failures: int
    cv: int
    tuner_options: dict
    fixed: dict
    train: TrainConfig
    space: tuple[Hyperparameter, ...]
    budget: Budget | None
    median_stop: MedianStop | None
    data_options: dict = dataclasses.field(default_factory=dict)
    final_epochs: int | None = None
    train_samples: int | None = None
    source: str = ""

    @property
    def scenario(self):
        """The `Scenario` named by `data`, or `None` when `data` is a `.npz` path."""
        return get_scenario(self.data) if self.data in scenario_names() else None

    @property
    def deployment(self) -> bool:
        """Whether trials export and measure an int8 TFLite model."""
        return self.objective in DEPLOYMENT_OBJECTIVES or self.budget is not None

    @property
    def oracle_objective(self) -> str:
        """The metric name the oracle ranks by (penalised objectives get a prefix)."""
        if self.budget is not None and self.budget.mode == "penalty":
            return f"penalized_{self.objective}"
        return self.objective

    def fingerprint(self) -> str:
        """A hash of the spec's text, to refuse resuming a search from another spec."""
        return hashlib.sha256(self.source.encode()).hexdigest()[:16]

    def with_max_trials(self, max_trials: int | None) -> SearchSpec:
        """This spec with `max_trials` replaced (`None` keeps the spec's own)."""
        if max_trials is None:
            return self
        check_positive("max_trials", max_trials)
        return dataclasses.replace(self, max_trials=max_trials)


def load_search_spec(path: str | os.PathLike) -> SearchSpec:
    """Reads and validates a TOML search spec, given by its path or by a bundled name.

    `"digits"` is the `tuning/digits.toml` that ships with kerasopt, from any working
    directory. A relative `data` path inside the spec is read from the spec's folder.
    Every error names the table and key at fault, the value, and the valid choices.

    Example:

    >>> from kerasopt.tuning import load_search_spec
    >>> spec = load_search_spec("digits")
    >>> spec = load_search_spec("my_specs/photos.toml")  # doctest: +SKIP
    """
    path = find_search_spec(path)
    source = path.read_text()
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{str(path)!r} is not valid TOML: {error}") from None
    return parse_search_spec(document, name=path.stem, source=source, folder=path.parent)


def parse_search_spec(
    document: dict,
    name: str = "search",
    source: str = "",
    folder: str | os.PathLike | None = None,
) -> SearchSpec:
    """Validates a spec already read from TOML (see `load_search_spec`).

    `folder` is where a relative `data` path is read from. Defaults to the working
    directory.
    """
    check_keys("the spec", document, _TABLES, what="table")
    search = check_keys("[search]", document.get("search", {}), _SEARCH_KEYS)
    for required in ("data", "model", "tuner", "objective", "epochs"):
        if required not in search:
            raise SpecError(f"[search] needs {required!r} ({_SEARCH_KEYS[required]}).")
    family = get_model_family(search["model"])
    tuner = check_choice("[search] tuner", search["tuner"], TUNERS)
    objective = check_choice(
        "[search] objective", search["objective"], KERAS_OBJECTIVES + DEPLOYMENT_OBJECTIVES
    )
    direction = search.get("direction") or _infer_direction(objective)
    check_choice("[search] direction", direction, ("max", "min"))
    epochs = check_positive("[search] epochs", search["epochs"])
    max_trials = search.get("max_trials")
    if max_trials is None and tuner != "hyperband":
        raise SpecError(f"[search] tuner={tuner!r} needs max_trials (an integer >= 1).")
    if max_trials is not None:
        check_positive("[search] max_trials", max_trials)
    tuner_options = document.get("tuner", {})
    check_keys(f"[tuner] (tuner={tuner!r})", tuner_options, TUNER_OPTIONS[tuner])

    data, scenario = _resolve_data(search["data"], folder)
    data_options = _parse_data_options(document.get("data"), scenario, data)
    defaults = dict(family.defaults)
    base_train = TrainConfig()
    if scenario is not None:
        defaults.update(scenario.tuning_defaults.get(family.name, {}))
        if family.name in scenario.models:
            base_train = scenario.train_config(model=family.name)
        else:
            base_train = scenario.train
    fixed_model = document.get("model", {})
    check_keys(f"[model] (model={family.name!r})", fixed_model, family.defaults)
    train_table = dict(document.get("train", {}))
    if "epochs" in train_table:
        raise SpecError("[train] epochs: set the epochs per trial in [search] epochs.")
    if "stages" in train_table:
        raise SpecError(
            "[train] stages: a search trains each trial in one stage; tune a single-stage "
            "recipe, then train the winner with stages (TrainConfig(stages=[...]))."
        )
    if train_table.get("train_on_validation"):
        raise SpecError(
            "[train] train_on_validation: trials are ranked on the validation split, so "
            "a search holds it out. Remove the key; train the winner on train + validation "
            "with `kerasopt run` or TrainConfig(train_on_validation=True)."
        )
    train_fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "epochs"]
    check_keys("[train]", train_table, (*train_fields, *_EXTRA_TRAINING))
    extra = {key: train_table.pop(key) for key in _EXTRA_TRAINING if key in train_table}
    seed = int(search.get("seed", 0))
    train = base_train.replace(
        **{**_SEARCH_TRAINING, **train_table, "epochs": epochs, "seed": seed}
    )
    fixed = {
        **defaults,
        "optimizer": train.optimizer,
        "learning_rate": train.learning_rate,
        "clipnorm": train.clipnorm,
        "lr_schedule": train.lr_schedule,
        "warmup_fraction": train.warmup_fraction,
        "batch_size": train.batch_size,
        "label_smoothing": train.label_smoothing,
        "weight_decay": train.optimizer_kwargs.get("weight_decay"),
        "augment_strength": 1.0,
        "prune_sparsity": 0.0,
        **fixed_model,
        **extra,
    }
    space = tuple(parse_space(document.get("space", {}), family.tunable()))
    tuned = {hp.name for hp in space}
    if "augment_strength" in tuned | set(extra) and not isinstance(train.augment, dict):
        raise SpecError(
            "[space] augment_strength scales an affine augmentation dict such as "
            "{rotation = 0.05, translation = 0.1, zoom = 0.1}; the recipe's augment is "
            f"{train.augment!r}. Set [train] augment to such a table."
        )
    if tuner == "grid":
        for hp in space:
            hp.grid_values()  # raises for a range without a step
    return SearchSpec(
        name=name,
        data=data,
        model=family.name,
        tuner=tuner,
        objective=objective,
        direction=direction,
        max_trials=max_trials,
        epochs=epochs,
        executions_per_trial=check_positive(
            "[search] executions_per_trial", search.get("executions_per_trial", 1)
        ),
        seed=seed,
        max_consecutive_failures=check_positive(
            "[search] max_consecutive_failures", search.get("max_consecutive_failures", 5)
        ),
        cv=check_positive("[search] cv", search.get("cv", 3)),
        tuner_options=dict(tuner_options),
        fixed=fixed,
        train=train,
        space=space,
        budget=parse_budget(document.get("budget")),
        median_stop=parse_median_stop(document.get("median_stop")),
        data_options=data_options,
        final_epochs=(
            check_positive("[search] final_epochs", search["final_epochs"])
            if "final_epochs" in search
            else None
        ),
        train_samples=(
            check_positive("[search] train_samples", search["train_samples"])
            if "train_samples" in search
            else None
        ),
        source=source,
    )


def _resolve_data(data: Any, folder) -> tuple[str, Any]:
    """`(data, scenario)`: a scenario name and its `Scenario`, or a `.npz` path
    (relative ones joined to `folder`) and `None`."""
    names = scenario_names()
    if data in names:
        return data, get_scenario(data)
    path = Path(str(data))
    if not path.is_absolute() and folder is not None:
        path = Path(folder) / path
    if not isinstance(data, str) or (path.suffix != ".npz" and not path.is_file()):
        raise SpecError(
            f"[search] data={data!r} is neither a scenario nor a .npz file. Expected one "
            f"of: {', '.join(names)}; or the path of a .npz with x_train, y_train, x_test, "
            f"y_test, relative to the spec's folder.{did_you_mean(data, names)}"
        )
    return str(path), None


def _parse_data_options(table: dict | None, scenario, data: str) -> dict:
    """The scenario's data options with the spec's `[data]` table applied."""
    if scenario is None:
        if table:
            raise SpecError(
                f"[data] sets the options of a scenario's loader; data={data!r} is a file, "
                "which takes none. Remove [data], or name a scenario in [search] data."
            )
        return {}
    if table is not None and not isinstance(table, dict):
        raise SpecError(f"[data] must be a table. Received: {table!r}.")
    if table and not scenario.data_options:
        raise SpecError(
            f"[data] sets {sorted(table)}, but the loader of scenario {data!r} takes no "
            "options. Remove [data]."
        )
    try:
        return scenario.check_data_options(table or {})
    except KerasoptError as error:
        raise SpecError(f"[data] {error}") from None


def _infer_direction(objective: str) -> str:
    return "max" if "accuracy" in objective else "min"
