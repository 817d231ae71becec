"""`SearchSpec`: a TOML search spec (`tuning/*.toml`), validated on load."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from kerasopt.core.errors import MissingFileError
from kerasopt.training.config import TrainConfig
from kerasopt.tuning.model_families import (
    get_model_family,
    scenario_model_defaults,
)
from kerasopt.tuning.search_space import Hyperparameter, SpecError, parse_space

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
#: Objectives read from the Keras logs of each epoch.
KERAS_OBJECTIVES = ("val_accuracy", "val_loss", "accuracy", "loss")
#: Objectives measured on the int8 TFLite export of the trained model, on LiteRT.
DEPLOYMENT_OBJECTIVES = ("tflite_int8_accuracy", "int8_kb", "latency_us")
BUDGET_MODES = ("infeasible", "penalty")
_TABLES = ("search", "tuner", "model", "train", "space", "budget", "median_stop", "text")
#: The `[text]` table of a text search (data = "imdb"): how reviews become token ids.
TEXT_DEFAULTS = {"max_tokens": 20000, "sequence_length": 200, "ngrams": 1}
_SEARCH_KEYS = {
    "data": "scenario or dataset name, or a path to a .npz",
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
}
_BUDGET_KEYS = ("max_int8_kb", "max_latency_us", "mode", "penalty")
_MEDIAN_KEYS = ("enabled", "metric", "min_trials", "grace_epochs")
#: Training values that are not `TrainConfig` fields.
_EXTRA_TRAINING = ("augment_strength", "weight_decay", "prune_sparsity")


@dataclasses.dataclass(frozen=True)
class Budget:
    """A deployment budget: trials whose int8 model is too big or slow are out.

    `mode="infeasible"` fails such a trial before it trains (size and latency do not
    depend on the weights); `mode="penalty"` trains it and subtracts `penalty` x the
    relative overshoot from the objective.
    """

    max_int8_kb: float | None = None
    max_latency_us: float | None = None
    mode: str = "infeasible"
    penalty: float = 1.0


@dataclasses.dataclass(frozen=True)
class MedianStop:
    """The median stopping rule: stop a trial whose `metric` at epoch e is worse than the
    median of the completed trials at epoch e (with `min_trials` of them, after
    `grace_epochs` epochs)."""

    metric: str = "val_accuracy"
    min_trials: int = 3
    grace_epochs: int = 1


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    """A validated search spec. Load one with `load_search_spec`.

    Example:

    >>> from kerasopt.tuning import load_search_spec
    >>> spec = load_search_spec("tuning/digits.toml")
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
    text: dict = dataclasses.field(default_factory=dict)
    final_epochs: int | None = None
    source: str = ""

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
        if max_trials is None:
            return self
        _positive("max_trials", max_trials)
        return dataclasses.replace(self, max_trials=max_trials)


def load_search_spec(path: str | os.PathLike) -> SearchSpec:
    """Reads and validates a TOML search spec.

    Every error names the table and key at fault, the value, and the valid choices.

    Example:

    >>> from kerasopt.tuning import load_search_spec
    >>> spec = load_search_spec("tuning/digits.toml")
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"Search spec {str(path)!r} does not exist. The specs that come with kerasopt "
            "are in tuning/ (digits.toml, mnist.toml)."
        )
    source = path.read_text()
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{str(path)!r} is not valid TOML: {error}") from None
    return parse_search_spec(document, name=path.stem, source=source)


def parse_search_spec(document: dict, name: str = "search", source: str = "") -> SearchSpec:
    """Validates a spec already read from TOML (see `load_search_spec`)."""
    from kerasopt.scenarios.registry import SCENARIOS

    _check_keys("the spec", document, _TABLES, what="table")
    search = document.get("search", {})
    _check_keys("[search]", search, _SEARCH_KEYS)
    for required in ("data", "model", "tuner", "objective", "epochs"):
        if required not in search:
            raise SpecError(f"[search] needs {required!r} ({_SEARCH_KEYS[required]}).")
    family = get_model_family(search["model"])
    tuner = _choice("[search] tuner", search["tuner"], TUNERS)
    objective = _choice(
        "[search] objective", search["objective"], KERAS_OBJECTIVES + DEPLOYMENT_OBJECTIVES
    )
    direction = search.get("direction") or _infer_direction(objective)
    _choice("[search] direction", direction, ("max", "min"))
    epochs = _positive("[search] epochs", search["epochs"])
    max_trials = search.get("max_trials")
    if max_trials is None and tuner != "hyperband":
        raise SpecError(f"[search] tuner={tuner!r} needs max_trials (an integer >= 1).")
    if max_trials is not None:
        _positive("[search] max_trials", max_trials)

    tuner_options = document.get("tuner", {})
    _check_keys(f"[tuner] (tuner={tuner!r})", tuner_options, TUNER_OPTIONS[tuner])

    scenario = SCENARIOS.get(search["data"])
    defaults = dict(family.defaults)
    base_train = TrainConfig()
    if scenario is not None:
        if family.name == "cnn":
            defaults.update(scenario_model_defaults(scenario.model))
        base_train = scenario.train
    text = _parse_text(document.get("text"), search["data"])
    if text:
        from kerasopt.scenarios.imdb_run import IMDB_TRAIN

        base_train = IMDB_TRAIN
    fixed_model = document.get("model", {})
    _check_keys(f"[model] (model={family.name!r})", fixed_model, family.defaults)
    train_table = dict(document.get("train", {}))
    if "epochs" in train_table:
        raise SpecError("[train] epochs: set the epochs per trial in [search] epochs.")
    train_fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "epochs"]
    _check_keys("[train]", train_table, (*train_fields, *_EXTRA_TRAINING))
    extra = {key: train_table.pop(key) for key in _EXTRA_TRAINING if key in train_table}
    # Searches keep the best epoch through keras-tuner, not through Keras callbacks.
    tuning_defaults = {"checkpoint": False, "early_stopping_patience": None}
    seed = int(search.get("seed", 0))
    train = base_train.replace(**{**tuning_defaults, **train_table, "epochs": epochs, "seed": seed})
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
        data=str(search["data"]),
        model=family.name,
        tuner=tuner,
        objective=objective,
        direction=direction,
        max_trials=max_trials,
        epochs=epochs,
        executions_per_trial=_positive(
            "[search] executions_per_trial", search.get("executions_per_trial", 1)
        ),
        seed=seed,
        max_consecutive_failures=_positive(
            "[search] max_consecutive_failures", search.get("max_consecutive_failures", 5)
        ),
        cv=_positive("[search] cv", search.get("cv", 3)),
        tuner_options=dict(tuner_options),
        fixed=fixed,
        train=train,
        space=space,
        budget=_parse_budget(document.get("budget")),
        median_stop=_parse_median_stop(document.get("median_stop")),
        text=text,
        final_epochs=(
            _positive("[search] final_epochs", search["final_epochs"])
            if "final_epochs" in search
            else None
        ),
        source=source,
    )


def _parse_text(table: dict | None, data: str) -> dict:
    if data != "imdb":
        if table is not None:
            raise SpecError(f"[text] applies to data = 'imdb', not data = {data!r}.")
        return {}
    table = table or {}
    _check_keys("[text]", table, TEXT_DEFAULTS)
    text = {**TEXT_DEFAULTS, **table}
    for key, value in text.items():
        _positive(f"[text] {key}", value)
    if text["ngrams"] > 3:
        raise SpecError(f"[text] ngrams must be 1, 2 or 3. Received: {text['ngrams']!r}.")
    return text


def _parse_budget(table: dict | None) -> Budget | None:
    if table is None:
        return None
    _check_keys("[budget]", table, _BUDGET_KEYS)
    if "max_int8_kb" not in table and "max_latency_us" not in table:
        raise SpecError("[budget] needs max_int8_kb, max_latency_us, or both.")
    for key in ("max_int8_kb", "max_latency_us", "penalty"):
        value = table.get(key)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise SpecError(f"[budget] {key} must be a number > 0. Received: {value!r}.")
    mode = _choice("[budget] mode", table.get("mode", "infeasible"), BUDGET_MODES)
    return Budget(
        max_int8_kb=table.get("max_int8_kb"),
        max_latency_us=table.get("max_latency_us"),
        mode=mode,
        penalty=float(table.get("penalty", 1.0)),
    )


def _parse_median_stop(table: dict | None) -> MedianStop | None:
    if table is None:
        return None
    _check_keys("[median_stop]", table, _MEDIAN_KEYS)
    if not table.get("enabled", True):
        return None
    metric = _choice("[median_stop] metric", table.get("metric", "val_accuracy"), KERAS_OBJECTIVES)
    return MedianStop(
        metric=metric,
        min_trials=_positive("[median_stop] min_trials", table.get("min_trials", 3)),
        grace_epochs=_positive("[median_stop] grace_epochs", table.get("grace_epochs", 1)),
    )


def _infer_direction(objective: str) -> str:
    return "max" if "accuracy" in objective else "min"


def _check_keys(where: str, table: Any, valid, what: str = "key") -> None:
    if not isinstance(table, dict):
        raise SpecError(f"{where} must be a table. Received: {table!r}.")
    for key in table:
        if key not in valid:
            close = difflib.get_close_matches(key, sorted(valid), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SpecError(
                f"{where} has unknown {what} {key!r}.{hint} Valid: {sorted(valid) or 'none'}."
            )


def _choice(where: str, value: Any, choices) -> Any:
    if value not in choices:
        close = difflib.get_close_matches(str(value), list(choices), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecError(f"{where}={value!r} is unknown.{hint} Expected one of {list(choices)}.")
    return value


def _positive(where: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpecError(f"{where} must be an integer >= 1. Received: {value!r}.")
    return value
