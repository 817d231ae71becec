"""`build_tuner`: keras-tuner's four algorithms with kerasopt's trial bookkeeping."""

from __future__ import annotations

import contextlib
import json
import time

import keras
import keras_tuner
from keras_tuner.src import utils as keras_tuner_utils

from kerasopt.core.atomic import write_text_atomic
from kerasopt.tuning.deployment_budget import OVER_BUDGET
from kerasopt.tuning.median_stopping import MedianStoppingRule, reference_curves

#: Every trial of a search: the largest count `get_best_trials` is asked for.
_ALL_TRIALS = 10**6


class ProcessBudgetReached(Exception):
    """Raised by a tuner with `stop_after` set once it has run that many trials; the
    search state is on disk, and a later run resumes it."""


class _TrialBookkeeping:
    """Mixed into each keras-tuner algorithm: what kerasopt adds to a trial.

    - the whole space is declared from the spec, so the chief needs no data and no
      model is built just to discover conditional hyperparameters;
    - the median stopping rule gets the curves of finished trials from the oracle
      (works over gRPC, so distributed workers see each other's trials);
    - `trial_seconds` (build + fit + export) joins the trial's metrics;
    - before each trial the Keras session is cleared once (`clear_session` collects
      garbage itself; keras-tuner's extra `gc.collect` doubled a cost that grows with
      the heap: 0.27 s a call, measured, on the digits search).
    """

    def _populate_initial_space(self):
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def run_trial(self, trial, *args, **kwargs):
        start = time.perf_counter()
        median = self.hypermodel.spec.median_stop
        if median is not None:
            finished = self.oracle.get_best_trials(_ALL_TRIALS)
            rule = MedianStoppingRule(
                reference_curves(finished, median.metric),
                metric=median.metric,
                direction="min" if median.metric.endswith("loss") else "max",
                min_trials=median.min_trials,
                grace_epochs=median.grace_epochs,
            )
            kwargs["callbacks"] = [*kwargs.get("callbacks", []), rule]
        results = super().run_trial(trial, *args, **kwargs)
        seconds = time.perf_counter() - start
        for result in results if isinstance(results, list) else [results]:
            if isinstance(result, dict):
                result["trial_seconds"] = seconds
        return results

    def _try_build(self, hp):
        keras.backend.clear_session()  # free_memory=True: includes gc.collect()
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(
                f"SpecHyperModel.build must return a Keras model. Received: {type(model).__name__}."
            )
        return model

    def on_trial_end(self, trial):
        super().on_trial_end(trial)  # the oracle records the trial and saves its state
        self.__dict__.setdefault("trials_run", []).append(trial.trial_id)
        stop_after = getattr(self, "stop_after", None)
        if stop_after and len(self.trials_run) >= stop_after:
            raise ProcessBudgetReached(f"ran {len(self.trials_run)} trials in this process")


class RandomSearchTuner(_TrialBookkeeping, keras_tuner.RandomSearch):
    """keras-tuner's `RandomSearch` with kerasopt's trial bookkeeping."""


class GridSearchTuner(_TrialBookkeeping, keras_tuner.GridSearch):
    """keras-tuner's `GridSearch` with kerasopt's trial bookkeeping."""


class BayesianTuner(_TrialBookkeeping, keras_tuner.BayesianOptimization):
    """keras-tuner's `BayesianOptimization` with kerasopt's trial bookkeeping."""


class HyperbandTuner(_TrialBookkeeping, keras_tuner.Hyperband):
    """keras-tuner's `Hyperband` with kerasopt's trial bookkeeping."""


TUNER_CLASSES = {
    "random": RandomSearchTuner,
    "grid": GridSearchTuner,
    "bayesian": BayesianTuner,
    "hyperband": HyperbandTuner,
}


def oracle_seed(seed: int) -> int:
    """The seed kerasopt gives keras-tuner's oracle for a spec's `seed`: `seed + 1`.

    keras-tuner 1.4 reads a seed of 0 as none (`seed or random.randint(1, 10000)`), so a
    spec with `seed = 0`, the default, sampled different trials on every run. Shifting
    every seed by one keeps each spec seed distinct and repeatable.

    >>> oracle_seed(0)
    1
    """
    return int(seed) + 1


def build_tuner(spec, hypermodel, directory, *, project_name: str = "search", overwrite=False):
    """The keras-tuner tuner of `spec`, keeping its state in `directory/project_name`.

    With `overwrite=False` an existing project is reloaded: finished trials are kept and
    a trial that was running when the process died runs again.

    Example:

    >>> from kerasopt.tuning import SpecHyperModel, build_tuner, load_search_spec
    >>> spec = load_search_spec("tuning/digits.toml")
    >>> tuner = build_tuner(spec, SpecHyperModel(spec), "saved_models/tune")  # doctest: +SKIP
    """
    objective = keras_tuner.Objective(spec.oracle_objective, direction=spec.direction)
    common = dict(
        hypermodel=hypermodel,
        objective=objective,
        seed=oracle_seed(spec.seed),
        directory=str(directory),
        project_name=project_name,
        overwrite=overwrite,
        max_consecutive_failed_trials=spec.max_consecutive_failures,
        executions_per_trial=spec.executions_per_trial,
    )
    if spec.tuner == "hyperband":
        tuner = HyperbandTuner(max_epochs=spec.epochs, **spec.tuner_options, **common)
        # Hyperband sizes itself from max_epochs and factor; max_trials caps it.
        tuner.oracle.max_trials = spec.max_trials
    else:
        tuner = TUNER_CLASSES[spec.tuner](
            max_trials=spec.max_trials, **spec.tuner_options, **common
        )
    _count_crashes_only(tuner.oracle)
    if not overwrite:
        reconcile_interrupted_trials(tuner.oracle)
    return tuner


def reconcile_interrupted_trials(oracle) -> list[str]:
    """Mends the two states a kill between keras-tuner's two state files leaves.

    keras-tuner writes a trial's `trial.json`, then `oracle.json`. Killed between the
    two, a resume (a) never runs a trial whose `trial.json` says RUNNING but that
    `oracle.json` does not know yet: it counts toward `max_trials` and stays RUNNING
    for good; or (b) runs again a trial whose `trial.json` already says COMPLETED.
    Here (a) goes to the retry queue and (b) leaves it. Returns the ids requeued.

    Example:

    >>> reconcile_interrupted_trials(tuner.oracle)  # doctest: +SKIP
    ['3']
    """
    queue = getattr(oracle, "_retry_queue", None)
    if queue is None:  # a worker's OracleClient: the chief owns the state
        return []
    for trial_id in list(queue):
        if str(oracle.trials[trial_id].status) in ("COMPLETED", "FAILED"):
            queue.remove(trial_id)
            if trial_id not in oracle.end_order:
                oracle.end_order.append(trial_id)
    orphans = [
        trial_id
        for trial_id, trial in oracle.trials.items()
        if str(trial.status) == "RUNNING" and trial_id not in queue
    ]
    for trial_id in orphans:
        queue.append(trial_id)
        if trial_id not in oracle.start_order:
            oracle.start_order.append(trial_id)
    return orphans


def _count_crashes_only(oracle) -> None:
    """Keeps trials failed for being over budget out of the consecutive-failure limit.

    keras-tuner stops a search after `max_consecutive_failed_trials` FAILED trials in a
    row, which guards against a broken setup. A trial over a deployment budget is a
    result, not a crash: with a tight budget many in a row are normal (4 of 6 on
    `tuning/mnist.toml`), and counting them would end the search.
    """

    def check_consecutive_failures():
        consecutive = 0
        for trial_id in oracle.end_order:
            trial = oracle.trials[trial_id]
            if trial.status != "FAILED":
                consecutive = 0
            elif OVER_BUDGET not in (trial.message or ""):
                consecutive += 1
            if consecutive == oracle.max_consecutive_failed_trials:
                raise RuntimeError(
                    "Number of consecutive failures exceeded the limit of "
                    f"{oracle.max_consecutive_failed_trials}.\n{trial.message or ''}"
                )

    oracle._check_consecutive_failures = check_consecutive_failures


@contextlib.contextmanager
def crash_safe_state():
    """keras-tuner's state files (`trial.json`, `oracle.json`, `tuner0.json`) written
    atomically while the block runs.

    keras-tuner writes them in place through `keras_tuner.src.utils.save_json`; a process
    killed during a write leaves an empty file, and the resume then fails on it
    (`JSONDecodeError`; seen once in four kill -9 tests). Writing a temporary file and
    renaming it leaves either the old state or the new one.
    """
    original = keras_tuner_utils.save_json

    def save_json(path, obj):
        text = json.dumps(obj)
        write_text_atomic(path, text)
        return text

    keras_tuner_utils.save_json = save_json
    try:
        yield
    finally:
        keras_tuner_utils.save_json = original
