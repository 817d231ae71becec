"""`sklearn_grid_search`: the classic `GridSearchCV` over a Keras model, cross-validated.

scikeras 0.13 breaks with scikit-learn >= 1.6; Keras 3 ships its own wrapper,
`keras.wrappers.SKLearnClassifier`, which passes `model_kwargs` to a model-building
function. `grid_to_model_kwargs` turns the plain grid users write
(`{"units": [32, 64], "dropout": [0.2, 0.5]}`) into the grid the wrapper needs.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import numpy as np

from kerasopt.core.atomic import atomic_path
from kerasopt.tuning.model_families import ModelInputs, get_model_family
from kerasopt.tuning.search_report import BestTrial, RunTiming, SearchReport
from kerasopt.tuning.search_results import (
    plot_objective,
    write_best_hyperparameters,
    write_trials_csv,
)
from kerasopt.tuning.search_runner import load_search_data
from kerasopt.tuning.search_space import SpecError

#: Grid names passed to `model.fit` rather than to the model builder.
FIT_PARAMETERS = ("batch_size",)
#: Training values the builder applies at compile time.
COMPILE_PARAMETERS = ("learning_rate", "optimizer")


def grid_to_model_kwargs(param_grid: dict, fixed: dict | None = None) -> dict:
    """A plain parameter grid as the `model_kwargs` grid of `SKLearnClassifier`.

    Every combination becomes one `model_kwargs` dict (with `fixed` merged in), so
    `GridSearchCV` tries exactly the product of the plain grid.

    Example:

    >>> from kerasopt.tuning import grid_to_model_kwargs
    >>> grid = grid_to_model_kwargs({"units": [32, 64], "dropout": [0.2]}, {"layers": 1})
    >>> grid["model_kwargs"][1]
    {'layers': 1, 'units': 64, 'dropout': 0.2}
    """
    for name, values in param_grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise SpecError(
                f"Grid entry {name!r} must be a non-empty list of values. Received: {values!r}."
            )
    names = list(param_grid)
    combinations = itertools.product(*(param_grid[name] for name in names))
    return {
        "model_kwargs": [
            {**(fixed or {}), **dict(zip(names, combo, strict=True))} for combo in combinations
        ]
    }


def build_flat_input_model(X, y, *, family_name: str, inputs, **values):
    """The `model` callable of `SKLearnClassifier`: a compiled family model on flat rows.

    scikit-learn hands over 2-D arrays, so the model reshapes each row back to
    `inputs.input_shape` (a `ModelInputs`) before the family's own layers.
    """
    import keras

    from kerasopt.training import build_optimizer
    from kerasopt.training.config import TrainConfig
    from kerasopt.training.fit_state import build_fit_state

    learning_rate = float(values.pop("learning_rate"))
    optimizer = values.pop("optimizer")
    inner = get_model_family(family_name).build(inputs, values)
    dtype = "int32" if inputs.vocab_size else "float32"  # token ids stay integers
    flat = keras.Input((int(np.prod(inputs.input_shape)),), dtype=dtype, name="flat_inputs")
    outputs = inner(keras.layers.Reshape(tuple(inputs.input_shape), name="unflatten")(flat))
    model = keras.Model(flat, outputs, name=f"{inner.name}_flat")
    config = TrainConfig(optimizer=optimizer, learning_rate=learning_rate, lr_schedule="constant")
    model.compile(
        optimizer=build_optimizer(config, steps_per_epoch=1),
        loss="categorical_crossentropy",  # SKLearnClassifier one-hot encodes y
        metrics=["accuracy"],
    )
    one_hot = np.zeros((1, int(model.output_shape[-1])), "float32")
    build_fit_state(model, (np.asarray(X[:1], dtype), one_hot))
    return model


def sklearn_grid_search(
    spec, out_dir: str | os.PathLike, *, data_path=None, verbose: int = 1
) -> SearchReport:
    """Runs `GridSearchCV` over the spec's grid with `keras.wrappers.SKLearnClassifier`.

    The grid is the spec's `[space]` (choices, booleans, or ranges with a `step`) over
    architecture values, `learning_rate`, `optimizer` and `batch_size`; the folds are
    `[search] cv` stratified folds of the training and validation splits together.
    Writes the same files as `run_search`: `trials.csv` (one row per combination with
    its mean and spread over folds), `best_hyperparameters.json`, `best_model.keras`
    (refit on all training data), `objective.png` and `search.json` with the test
    accuracy of the refit model, and returns the `SearchReport` (objective
    `cv_accuracy`).

    Example:

    >>> from kerasopt.tuning import load_search_spec, sklearn_grid_search
    >>> spec = load_search_spec("digits_dense")
    >>> report = sklearn_grid_search(spec, "saved_models/grid")  # doctest: +SKIP
    """
    import keras
    from keras.wrappers import SKLearnClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    family = get_model_family(spec.model)
    supported = set(family.defaults) | set(FIT_PARAMETERS) | set(COMPILE_PARAMETERS)
    unsupported = [hp.name for hp in spec.space if hp.name not in supported]
    if unsupported:
        raise SpecError(
            f"The scikit-learn engine cannot tune {unsupported}: it searches the "
            f"architecture, {list(COMPILE_PARAMETERS)} and {list(FIT_PARAMETERS)}. Use "
            "--engine keras-tuner for the rest."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = load_search_data(spec, data_path)
    grid = {hp.name: hp.grid_values() for hp in spec.space}
    model_grid = {k: v for k, v in grid.items() if k not in FIT_PARAMETERS}
    fixed = {k: spec.fixed[k] for k in (*family.defaults, *COMPILE_PARAMETERS)}
    param_grid = grid_to_model_kwargs(model_grid, fixed)
    fit_kwargs = {"epochs": spec.epochs, "batch_size": int(spec.fixed["batch_size"]), "verbose": 0}
    if "batch_size" in grid:
        param_grid["fit_kwargs"] = [
            {**fit_kwargs, "batch_size": int(b)} for b in grid["batch_size"]
        ]

    inputs = ModelInputs.of(data)

    def model(X, y, **values):
        return build_flat_input_model(X, y, family_name=family.name, inputs=inputs, **values)

    x = np.concatenate([data.x_train, data.x_val]).reshape(-1, int(np.prod(data.input_shape)))
    y = np.concatenate([data.y_train, data.y_val])
    keras.utils.set_random_seed(spec.seed)
    search = GridSearchCV(
        SKLearnClassifier(model=model, fit_kwargs=fit_kwargs),
        param_grid,
        cv=StratifiedKFold(spec.cv, shuffle=True, random_state=spec.seed),
        scoring="accuracy",
        refit=True,
        verbose=verbose,
    )
    started = time.perf_counter()
    search.fit(x, y)
    wall = time.perf_counter() - started

    rows = _cv_rows(search.cv_results_, list(grid), spec.cv)
    write_trials_csv(rows, out / "trials.csv")
    plot_objective(rows, spec, out / "objective.png")
    best_values = {name: rows[search.best_index_][name] for name in grid}
    write_best_hyperparameters(best_values, out / "best_hyperparameters.json")
    best_model = search.best_estimator_.model_
    with atomic_path(out / "best_model.keras") as tmp:
        best_model.save(tmp)
    x_test = data.x_test.reshape(len(data.x_test), -1)
    predicted = search.best_estimator_.classes_[
        best_model.predict(x_test, batch_size=256, verbose=0).argmax(-1)
    ]
    report = SearchReport(
        spec=spec.name,
        engine="sklearn",
        out=str(out),
        tuner="grid",
        objective="cv_accuracy",
        direction="max",
        hyperparameters=tuple(grid),
        trials=len(rows),
        completed=len(rows),
        this_run=RunTiming.of(rows, wall),
        best=BestTrial(
            trial_id=rows[search.best_index_]["trial_id"],
            objective=float(search.best_score_),
            hyperparameters=best_values,
            test_accuracy=float(np.mean(predicted == data.y_test)),
        ),
        cv=spec.cv,
        trials_run=tuple(row["trial_id"] for row in rows),
        rows=tuple(rows),
    )
    report.write()
    return report


def _cv_rows(results: dict, names: list[str], folds: int) -> list[dict]:
    rows = []
    for index, params in enumerate(results["params"]):
        values = {**params["model_kwargs"], **params.get("fit_kwargs", {})}
        rows.append(
            {
                "trial_id": str(index),
                "status": "COMPLETED",
                **{name: values[name] for name in names},
                "objective": float(results["mean_test_score"][index]),
                "objective_std": float(results["std_test_score"][index]),
                "rank": int(results["rank_test_score"][index]),
                "trial_seconds": float(results["mean_fit_time"][index]) * folds,
                "fit_seconds": float(results["mean_fit_time"][index]) * folds,
                "epochs_run": "",
                "failure_reason": "",
                "note": "",
            }
        )
    return rows
