"""`Scenario`: everything `kerasopt run NAME` needs, declared in one object.

A scenario names its data loader, its model builder, its training recipe, its export plan
and the report sections it adds. `digits`, `mnist`, `fashion_mnist`, `cifar10` and `imdb`
are scenarios registered exactly as a user registers their own; the pipeline
(`kerasopt.pipeline.run_scenario`), the CLI and tuning never ask which one they hold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.suggestions import unknown_name_message
from kerasopt.data.splits import DatasetSplits
from kerasopt.training.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class ScenarioData:
    """What a scenario's loader returns.

    Attributes:
        splits: The arrays the model trains and is scored on (`x_*` are model inputs).
        extras: Whatever the scenario's builder, exporter and report sections need
            besides (a text scenario keeps its adapted `vectorizer` and its
            `TokenizedText`, raw reviews included, here).
        details: Facts added to `report.json["dataset"]` besides the splits'
            `describe()` (a text scenario's `vocab_size` and `ngrams`).
    """

    splits: DatasetSplits
    extras: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A dataset, a model, a training recipe and an export plan under one name.

    Args:
        name: The name on the command line (`kerasopt run NAME`).
        load_data: `load_data(data_path, *, seed, **data_options) -> ScenarioData`;
            `data_path` is `--data` (or `None`).
        build_model: `build_model(data: ScenarioData, model: str) -> keras.Model`,
            uncompiled; `model` is one of `models`. A builder with a
            `describe(model) -> dict` method fills `report.json["model"]` with it.
        train: The training recipe.
        export: The export plan: an object with `export(model, data, out_dir, *, seed,
            reference_probabilities) -> list[ExportedModel]`, such as
            `kerasopt.export.TFLiteExportPlan()`.
        models: Model names `--model` accepts; the first is the default.
        quick: Overrides of `train` for `--quick` (a smoke run).
        data_options: Options of `load_data` with their defaults; a tuning spec's
            `[data]` table may set them.
        model_data_options: Per model, defaults that replace `data_options` when that
            model is chosen (the TF-IDF model reads bigrams, so twice as many ids).
        model_train: Per model, `TrainConfig` fields that replace `train`'s when that
            model is chosen (an older model kept with the recipe it was measured with).
        tuning_defaults: Per tuning model family (`"cnn"`, `"text"`, ...), the values
            this scenario's own model uses, so a search starts from the recipe.
        sections: Report sections: callables `section(context) -> ReportSection`
            run after export (see `kerasopt.scenarios.ReportSection`).
        input_range: `(low, high)` of raw inputs for the FGSM robustness curve, or
            `None` where a gradient attack does not apply (token ids).
        compressible: Whether `--prune`/`--channels`/`--cluster`/`--qat` apply.
        mirror_average: Models (of `models`) that `kerasopt run` saves and exports
            averaged over each image and its left-right mirror
            (`kerasopt.models.mirror_average`), for classes that stay the same
            mirrored; `--no-mirror-average` turns it off.
        notes: One line on where the recipe comes from.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> get_scenario("digits").train.epochs
    40
    """

    name: str
    load_data: Callable[..., ScenarioData]
    build_model: Callable[..., Any]
    train: TrainConfig
    export: Any
    models: tuple[str, ...] = ("cnn",)
    quick: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    data_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    model_data_options: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    model_train: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    tuning_defaults: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    sections: tuple[Callable, ...] = ()
    input_range: tuple[float, float] | None = None
    compressible: bool = True
    mirror_average: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self):
        if not self.name or not self.name.replace("_", "").isalnum():
            raise InvalidValueError(
                f"Scenario name must be letters, digits and underscores. Received: "
                f"{self.name!r}. Pass e.g. name='my_photos'."
            )
        if not self.models:
            raise InvalidValueError(
                f"Scenario {self.name!r} offers no model. Pass models=('cnn',) or another name."
            )
        for model in (*self.model_train, *self.model_data_options, *self.mirror_average):
            if model not in self.models:
                raise InvalidValueError(
                    f"Scenario {self.name!r}: model_train, model_data_options and "
                    f"mirror_average name models among {list(self.models)}. Received: "
                    f"{model!r}."
                )

    def train_config(
        self, quick: bool = False, *, model: str | None = None, **overrides
    ) -> TrainConfig:
        """The recipe of `model` (the default model when `None`), with the `--quick`
        changes and any non-`None` override applied.

        Example:

        >>> from kerasopt.scenarios import get_scenario
        >>> get_scenario("digits").train_config(quick=True, seed=3).epochs
        4
        """
        changes = {
            **self.model_train.get(self.check_model(model), {}),
            **(self.quick if quick else {}),
            **{k: v for k, v in overrides.items() if v is not None},
        }
        return self.train.replace(**changes) if changes else self.train

    def check_model(self, model: str | None) -> str:
        """`model`, or the default when `None`; an unknown name raises with the choices."""
        if model is None:
            return self.models[0]
        if model not in self.models:
            raise InvalidValueError(
                unknown_name_message(f"{self.name!r} model", model, self.models)
            )
        return model

    def check_data_options(self, options: Mapping[str, Any], model: str | None = None) -> dict:
        """The defaults (those of `model` first) updated with `options`.

        An unknown key raises with the valid ones.

        Example:

        >>> from kerasopt.scenarios import get_scenario
        >>> get_scenario("imdb").check_data_options({}, model="tfidf")["sequence_length"]
        400
        """
        for key in options:
            if key not in self.data_options:
                raise InvalidValueError(
                    unknown_name_message(f"{self.name!r} data option", key, self.data_options)
                )
        model_defaults = self.model_data_options.get(self.check_model(model), {})
        return {**self.data_options, **model_defaults, **options}

    def describe_model(self, model: str) -> dict:
        """`report.json["model"]`: the model's name, its builder and the builder's settings."""
        describe = getattr(self.build_model, "describe", None)
        if describe is not None:
            return {"name": model, **describe(model)}
        builder = getattr(self.build_model, "__qualname__", type(self.build_model).__name__)
        return {"name": model, "builder": builder}


_REGISTRY: dict[str, Scenario] = {}


def register_scenario(scenario: Scenario, *, replace: bool = False) -> Scenario:
    """Makes `scenario` runnable by name (`run_scenario(name)`, `kerasopt tune`).

    Args:
        scenario: The scenario.
        replace: Allow replacing a scenario of the same name. Defaults to `False`.

    Example:

    >>> from kerasopt.scenarios import Scenario, register_scenario
    >>> register_scenario(Scenario(name="my_photos", ...))  # doctest: +SKIP
    """
    _register_builtins()  # so a user's "digits" meets the built-in one, not replaces it
    if not isinstance(scenario, Scenario):
        raise InvalidValueError(
            f"register_scenario expects a kerasopt.scenarios.Scenario. Received: "
            f"{type(scenario).__name__}."
        )
    if scenario.name in _REGISTRY and not replace:
        raise InvalidValueError(
            f"A scenario named {scenario.name!r} is already registered. Pass replace=True "
            "to replace it, or choose another name."
        )
    _REGISTRY[scenario.name] = scenario
    return scenario


def get_scenario(name: str) -> Scenario:
    """The scenario registered under `name`; an unknown name raises with the choices."""
    _register_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidValueError(unknown_name_message("scenario", name, sorted(_REGISTRY))) from None


def scenario_names() -> list[str]:
    """Names of every registered scenario, sorted."""
    _register_builtins()
    return sorted(_REGISTRY)


_builtins_registered = False


def _register_builtins() -> None:
    """Registers the built-in scenarios once (on first use, so importing is cheap)."""
    global _builtins_registered
    if _builtins_registered:
        return
    _builtins_registered = True
    from kerasopt.scenarios import builtin_images, builtin_imdb

    for module in (builtin_images, builtin_imdb):
        for scenario in module.SCENARIOS:
            _REGISTRY[scenario.name] = scenario
