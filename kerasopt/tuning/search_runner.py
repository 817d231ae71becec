"""`run_search`: a spec in, a finished (or resumed) search and its files out."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import time
from pathlib import Path

from kerasopt.core.atomic import atomic_path, write_text_atomic
from kerasopt.data.loaders import load_dataset_or_file
from kerasopt.tuning.deployment_metrics import measure_int8
from kerasopt.tuning.search_report import BestTrial, RunTiming, SearchReport
from kerasopt.tuning.search_results import (
    plot_objective,
    trial_rows,
    write_best_hyperparameters,
    write_trials_csv,
)
from kerasopt.tuning.search_space import SpecError
from kerasopt.tuning.spec_tuners import ProcessBudgetReached, build_tuner, crash_safe_state

logger = logging.getLogger(__name__)

PROJECT_NAME = "search"
SPEC_COPY = "spec.toml"
ROLES = ("chief", "worker")


def run_search(
    spec,
    out_dir: str | os.PathLike,
    *,
    max_trials: int | None = None,
    overwrite: bool = False,
    distributed: str | None = None,
    oracle_address: str | None = None,
    tuner_id: str | None = None,
    tensorboard: bool = False,
    data_path: str | os.PathLike | None = None,
    verbose: int = 1,
    stop_after: int | None = None,
) -> SearchReport:
    """Runs (or resumes) the search of `spec` and writes its results to `out_dir`.

    keras-tuner keeps the state in `out_dir/search/`; started again with the same
    `out_dir`, a killed search goes on from there: finished trials are not rerun and the
    trial that was running starts again. A trial that fails (NaN loss, an impossible
    combination, out of memory, over a deployment budget) is recorded with its reason
    and the search goes on, up to `spec.max_consecutive_failures` in a row.

    Writes `trials.csv`, `best_hyperparameters.json`, `best_model.keras`,
    `objective.png` and `search.json` (the returned report's `to_dict()`).

    Args:
        spec: A `SearchSpec` (`load_search_spec`).
        out_dir: Output folder.
        max_trials: Override the spec's `max_trials`. Defaults to `None`.
        overwrite: Start afresh instead of resuming. Defaults to `False`.
        distributed: `"chief"` (runs the oracle and waits for workers) or `"worker"`
            (runs trials), with keras-tuner's chief/worker mode. Defaults to `None`.
        oracle_address: `HOST:PORT` of the chief's oracle. Defaults to `None`.
        tuner_id: A worker's unique name. Defaults to `None`.
        tensorboard: Log each trial and its hyperparameters (TensorBoard HParams) to
            `out_dir/tensorboard/`. Defaults to `False`.
        data_path: A local file for the spec's scenario (`--data`). Defaults to `None`.
        verbose: keras-tuner's display (1) or none (0). Defaults to `1`.
        stop_after: Return after this many trials (a report with `finished=False`),
            leaving the rest to a later call (`SearchJob(trials_per_process=N)` runs one
            per process). Defaults to `None`.

    Returns:
        A `SearchReport`.

    Example:

    >>> from kerasopt.tuning import load_search_spec, run_search
    >>> report = run_search(load_search_spec("digits"), "runs/tune_digits")  # doctest: +SKIP
    >>> print(report.summary_text())  # doctest: +SKIP
    """
    import keras

    from kerasopt.tuning.spec_hypermodel import SpecHyperModel

    spec = spec.with_max_trials(max_trials)
    out = Path(out_dir)
    environment = distributed_environment(distributed, oracle_address, tuner_id)
    out.mkdir(parents=True, exist_ok=True)
    if distributed != "worker":
        _check_resume(spec, out, overwrite)
    data = load_search_data(spec, data_path)
    callbacks = [keras.callbacks.TensorBoard(str(out / "tensorboard"))] if tensorboard else []
    # TensorFlow's import leaves millions of long-lived objects; freezing them keeps every
    # garbage collection between trials short.
    gc.freeze()

    started = time.perf_counter()
    with _environment(environment), crash_safe_state():
        tuner = build_tuner(
            spec, SpecHyperModel(spec, data), out, project_name=PROJECT_NAME, overwrite=overwrite
        )
        finished_before = _finished_ids(tuner.oracle) if distributed is None else set()
        tuner.stop_after = stop_after
        try:
            tuner.search(epochs=spec.epochs, callbacks=callbacks, verbose=verbose)
        except ProcessBudgetReached:
            ran = tuple(tuner.trials_run)
            timing = RunTiming(len(ran), time.perf_counter() - started, None, None)
            return _report(spec, out, finished=False, trials_run=ran, this_run=timing)
    wall = time.perf_counter() - started
    if distributed == "worker":
        ran = tuple(getattr(tuner, "trials_run", []))
        record = {"tuner_id": tuner_id, "trials": list(ran), "seconds": wall}
        write_text_atomic(out / "workers" / f"{tuner_id}.json", json.dumps(record) + "\n")
        timing = RunTiming(len(ran), wall, None, None)
        return _report(spec, out, tuner_id=tuner_id, trials_run=ran, this_run=timing)
    return write_search_results(tuner, spec, data, out, wall, finished_before)


def write_search_results(
    tuner, spec, data, out: Path, wall: float, finished_before=()
) -> SearchReport:
    """Writes the files of a finished search; returns its report."""
    rows = trial_rows(tuner.oracle.trials.values(), spec)
    write_trials_csv(rows, out / "trials.csv")
    plot_objective(rows, spec, out / "objective.png")
    ran_now = [r for r in rows if r["trial_id"] not in finished_before]
    workers = sorted((out / "workers").glob("*.json"))
    best = None
    best_trials = tuner.oracle.get_best_trials(1)
    if best_trials and str(best_trials[0].status) == "COMPLETED":
        trial = best_trials[0]
        write_best_hyperparameters(trial.hyperparameters.values, out / "best_hyperparameters.json")
        best = BestTrial(
            trial_id=trial.trial_id,
            objective=trial.score,
            hyperparameters={
                k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")
            },
            **_save_best_model(tuner, trial, spec, data, out),
        )
    report = _report(
        spec,
        out,
        trials=len(rows),
        completed=sum(r["status"] == "COMPLETED" for r in rows),
        failed=sum(r["status"] in ("FAILED", "INVALID") for r in rows),
        stopped_by_median_rule=sum(bool(r["note"]) for r in rows),
        this_run=RunTiming.of(ran_now, wall),
        best=best,
        rss_mb=tuple(r["rss_mb"] for r in rows if r["rss_mb"] != ""),
        workers={p.stem: json.loads(p.read_text())["trials"] for p in workers} or None,
        trials_run=tuple(r["trial_id"] for r in ran_now),
        rows=tuple(rows),
    )
    report.write()
    return report


def _report(spec, out: Path, **values) -> SearchReport:
    return SearchReport(
        spec=spec.name,
        engine="keras-tuner",
        out=str(out),
        tuner=spec.tuner,
        objective=spec.oracle_objective,
        direction=spec.direction,
        hyperparameters=tuple(hp.name for hp in spec.space),
        **values,
    )


def _save_best_model(tuner, trial, spec, data, out: Path) -> dict:
    """Saves the best trial's model and measures it on the test split."""
    import numpy as np

    result = {}
    checkpoint = Path(tuner._get_checkpoint_fname(trial.trial_id))
    if data is not None and spec.final_epochs:
        # Hyperband ranks configurations on short budgets: train the winner in full.
        model, result = _retrain(tuner.hypermodel, trial, spec.final_epochs)
    elif data is None or not checkpoint.exists():
        logger.warning(
            "best_model.keras not written: trial %s's weights are not in %s (a worker on "
            "another machine holds them; share --out).",
            trial.trial_id,
            checkpoint.parent,
        )
        return {}
    else:
        model = tuner.load_model(trial)
    hypermodel = tuner.hypermodel
    model = hypermodel.for_export(model, hypermodel.values(trial.hyperparameters))
    with atomic_path(out / "best_model.keras") as tmp:
        model.save(tmp)
    probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
    result["test_accuracy"] = float(np.mean(probabilities.argmax(-1) == data.y_test))
    if spec.deployment:
        result["int8"] = measure_int8(model, data, seed=spec.seed, split="test")
    return result


def _retrain(hypermodel, trial, epochs: int):
    """The best configuration trained from scratch for `epochs` (the spec's
    `final_epochs`) on the whole training split, also when trials ranked on
    `train_samples` of it: returns the model and what its fit measured on validation."""
    import keras

    keras.backend.clear_session()
    logger.info("Retraining trial %s's configuration for %d epochs.", trial.trial_id, epochs)
    start = time.perf_counter()
    model = hypermodel.build(trial.hyperparameters)
    metrics = hypermodel.fit(
        trial.hyperparameters, model, epochs=epochs, verbose=1, all_samples=True
    )
    retrained = {
        "final_epochs": epochs,
        "final_val_accuracy": metrics.get("val_accuracy"),
        "final_fit_seconds": time.perf_counter() - start,
    }
    return model, retrained


def load_search_data(spec, data_path=None):
    """The `DatasetSplits` a search trains on: its scenario's loader with the spec's
    `[data]` options (`data_path` is `--data`), or the spec's `.npz`."""
    scenario = spec.scenario
    if scenario is None:
        return load_dataset_or_file(spec.data, data_path)
    return scenario.load_data(data_path, seed=spec.seed, **spec.data_options).splits


def _finished_ids(oracle) -> set:
    return {t.trial_id for t in oracle.trials.values() if str(t.status) != "RUNNING"}


def _check_resume(spec, out: Path, overwrite: bool) -> None:
    """Refuses to resume a search made from another spec; records this spec."""
    copy = out / SPEC_COPY
    if copy.exists() and not overwrite and (out / PROJECT_NAME).exists():
        if copy.read_text() != spec.source:
            raise SpecError(
                f"{out}/ holds a search started from a different spec (its copy is "
                f"{copy}). Pass --overwrite to start afresh, or another --out."
            )
    write_text_atomic(copy, spec.source)


def distributed_environment(role, address, tuner_id) -> dict:
    """keras-tuner's KERASTUNER_* variables for a chief or a worker."""
    if role is None:
        if address or tuner_id:
            raise SpecError("--oracle and --tuner-id need --distributed chief|worker.")
        return {}
    if role not in ROLES:
        raise SpecError(f"--distributed {role!r} is unknown. Expected one of {list(ROLES)}.")
    host, _, port = (address or "").rpartition(":")
    if not host or not port.isdigit():
        raise SpecError(
            f"--oracle {address!r} must be HOST:PORT, e.g. 10.0.0.5:8000 (the chief's "
            "address, reachable from every worker)."
        )
    if role == "chief":
        tuner_id = "chief"
    elif not tuner_id or "chief" in tuner_id:
        raise SpecError(
            f"A worker needs --tuner-id, a unique name without 'chief' (e.g. worker0). "
            f"Received: {tuner_id!r}."
        )
    return {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": host,
        "KERASTUNER_ORACLE_PORT": port,
    }


@contextlib.contextmanager
def _environment(values: dict):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
