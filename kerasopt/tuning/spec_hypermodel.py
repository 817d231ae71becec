"""`SpecHyperModel`: the keras-tuner HyperModel a `SearchSpec` describes."""

from __future__ import annotations

import time

import keras_tuner

from kerasopt.core.process_memory import resident_memory_mb
from kerasopt.tuning.deployment_budget import budget_overshoot, describe_overshoot
from kerasopt.tuning.deployment_metrics import measure_int8, trial_metrics
from kerasopt.tuning.median_stopping import MedianStoppingRule, curve_metrics
from kerasopt.tuning.model_families import ModelInputs, get_model_family

#: TrainConfig fields a trial's values set directly.
_TRAIN_FIELDS = (
    "optimizer",
    "learning_rate",
    "clipnorm",
    "lr_schedule",
    "warmup_fraction",
    "batch_size",
    "label_smoothing",
)


class SpecHyperModel(keras_tuner.HyperModel):
    """Builds and fits the model of one trial: architecture, optimizer, schedule,
    augmentation strength, batch size and pruning target all come from the spec.

    `build` returns the uncompiled model (with `PruningMask` constraints when the trial
    prunes); `fit` compiles it with `kerasopt.training.compile_for_training`, trains it
    with `TrainingHealth` (a NaN fails the trial, naming the layer) and, for deployment
    objectives, exports it to int8 TFLite and measures it on LiteRT. `fit` returns the
    trial's metrics: the Keras logs of its best epoch, the deployment metrics, its
    per-epoch curve (for the median stopping rule), `fit_seconds`, `epochs_run`,
    `stopped_early` and `rss_mb` (resident memory after the fit).

    Args:
        spec: The `SearchSpec`.
        data: The `DatasetSplits` to train on, or `None` on a chief, which only runs the
            oracle.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.tuning import SpecHyperModel, load_search_spec
    >>> spec = load_search_spec("tuning/digits.toml")
    >>> hypermodel = SpecHyperModel(spec, load_dataset("digits"))
    """

    def __init__(self, spec, data=None):
        super().__init__(name=spec.name, tunable=True)
        self.spec = spec
        self.data = data
        self.family = get_model_family(spec.model)
        self.inputs = ModelInputs.of(data) if data is not None else None
        # Trials rank on `[search] train_samples` of the training split; `fit(...,
        # all_samples=True)` (the winner's retraining) uses all of it.
        self.trial_data = data
        if data is not None and spec.train_samples:
            self.trial_data = data.subsample_train(spec.train_samples, seed=spec.seed)
        self._datasets: dict = {}  # tf.data pipelines shared by trials with equal settings

    def declare_hyperparameters(self, hp) -> None:
        """Declares the whole space, conditions included, without building a model."""
        for hyperparameter in self.spec.space:
            hyperparameter.declare(hp)

    def values(self, hp) -> dict:
        """Every value of the trial: the spec's fixed values, then the tuned ones."""
        values = dict(self.spec.fixed)
        for hyperparameter in self.spec.space:
            value = hyperparameter.declare(hp)
            if value is not None:  # None: a conditional entry whose parent is off
                values[hyperparameter.name] = value
        return values

    def build(self, hp):
        values = self.values(hp)
        if self.data is None:
            return None
        model = self.family.build(self.inputs, values)
        if float(values.get("prune_sparsity") or 0.0) > 0:
            from kerasopt.compress.native_pruning import prepare_for_pruning

            model = prepare_for_pruning(model)
        return model

    def train_config(self, values: dict, epochs: int):
        """The trial's `TrainConfig`: the spec's recipe with the trial's values."""
        changes = {name: values[name] for name in _TRAIN_FIELDS if name in values}
        changes["batch_size"] = int(changes["batch_size"])
        if values.get("weight_decay") is not None:
            kwargs = dict(self.spec.train.optimizer_kwargs)
            kwargs["weight_decay"] = float(values["weight_decay"])
            changes["optimizer_kwargs"] = kwargs
        strength = float(values.get("augment_strength", 1.0))
        augment = self.spec.train.augment
        if isinstance(augment, dict) and strength != 1.0:
            scaled = {k: v * strength if isinstance(v, float) else v for k, v in augment.items()}
            changes["augment"] = scaled if strength > 0 else None
        return self.spec.train.replace(**changes, epochs=int(epochs))

    def fit(
        self,
        hp,
        model,
        *args,
        callbacks=None,
        epochs=None,
        initial_epoch=0,
        all_samples=False,
        **kwargs,
    ):
        from kerasopt.training import compile_for_training
        from kerasopt.training.fused_batch_norm import batch_norm_kernel

        values = self.values(hp)
        self.check_budget_before_training(model, values)
        epochs = int(epochs or self.spec.epochs)
        config = self.train_config(values, epochs)
        if all_samples:
            prepared = compile_for_training(model, self.data, config)
        else:
            prepared = compile_for_training(
                model, self.trial_data, config, dataset_cache=self._datasets
            )
        prepared.start_at_epoch(model, int(initial_epoch))
        callbacks = list(callbacks or [])
        if config.health_checks:
            from kerasopt.callbacks import TrainingHealth

            callbacks.append(TrainingHealth(probe_data=prepared.probe, on_nan="raise"))
        sparsity = float(values.get("prune_sparsity") or 0.0)
        if sparsity > 0:
            from kerasopt.compress.native_magnitude_pruning import MagnitudePruning
            from kerasopt.compress.native_pruning import build_sparsity_schedule

            total = epochs * prepared.steps_per_epoch
            schedule = build_sparsity_schedule(
                "polynomial", sparsity, total, prepared.steps_per_epoch
            )
            callbacks.append(MagnitudePruning(schedule))
        start = time.perf_counter()
        with batch_norm_kernel(model, config.batch_norm):  # as `train` does
            history = model.fit(
                prepared.train_ds,
                validation_data=prepared.val_ds,
                epochs=epochs,
                initial_epoch=int(initial_epoch),
                callbacks=callbacks,
                verbose=_fit_verbosity(kwargs.get("verbose", 0)),
                shuffle=False,
            )
        fit_seconds = time.perf_counter() - start
        return self._trial_metrics(model, history.history, callbacks, values, fit_seconds, hp)

    def check_budget_before_training(self, model, values: dict) -> None:
        """Fails the trial before it trains when its int8 model is over an `infeasible`
        budget: size and latency do not depend on the trained weights."""
        budget = self.spec.budget
        if budget is None or budget.mode != "infeasible":
            return
        metrics = self.deployment_metrics(model, values, num_calibration=8, latency_runs=20)
        overshoot = budget_overshoot(metrics, budget)
        if overshoot:
            message = describe_overshoot(metrics, overshoot, budget)
            raise keras_tuner.errors.FailedTrialError(f"{message} (checked before training)")

    def _trial_metrics(self, model, history, callbacks, values, fit_seconds, hp) -> dict:
        spec = self.spec
        epochs_run = len(history["loss"])
        # keras-tuner keeps the weights of the best epoch when the oracle's objective is
        # a Keras log, and of the last epoch otherwise: report the same epoch.
        best = epochs_run - 1
        if spec.oracle_objective in history:
            series = history[spec.oracle_objective]
            best = series.index(max(series) if spec.direction == "max" else min(series))
        metrics = {name: float(series_[best]) for name, series_ in history.items()}
        stopper = next((c for c in callbacks if isinstance(c, MedianStoppingRule)), None)
        stopped = stopper is not None and stopper.stopped_epoch is not None
        metrics["stopped_at_epoch"] = float(stopper.stopped_epoch + 1) if stopped else 0.0
        if spec.median_stop is not None:
            first_epoch = int(hp.values.get("tuner/initial_epoch", 0))
            metrics.update(curve_metrics(history, spec.median_stop.metric, first_epoch))
        if spec.deployment:
            metrics.update(self.deployment_metrics(model, values))
            budget = spec.budget
            if budget is not None and budget.mode == "penalty":
                overshoot = sum(budget_overshoot(metrics, budget).values())
                sign = -1.0 if spec.direction == "max" else 1.0
                penalized = metrics[spec.objective] + sign * budget.penalty * overshoot
                metrics[spec.oracle_objective] = penalized
        metrics["fit_seconds"] = fit_seconds
        metrics["epochs_run"] = float(epochs_run)
        metrics["rss_mb"] = resident_memory_mb()
        return metrics

    def for_export(self, model, values: dict):
        """`model` as it ships: without pruning masks when the trial pruned."""
        if float(values.get("prune_sparsity") or 0.0) > 0:
            from kerasopt.compress.native_pruning import strip_pruning

            return strip_pruning(model)
        return model

    def deployment_metrics(self, model, values: dict, **measure_kwargs) -> dict:
        """int8 TFLite metrics of the trained model (pruning stripped first), on the
        validation split, under the names spec objectives use (`trial_metrics`)."""
        model = self.for_export(model, values)
        return trial_metrics(measure_int8(model, self.data, seed=self.spec.seed, **measure_kwargs))


def _fit_verbosity(verbose) -> int:
    """A progress bar in a terminal, one line per epoch in a log file, or nothing."""
    import sys

    if not verbose:
        return 0
    return 1 if sys.stdout.isatty() else 2
