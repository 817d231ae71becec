"""`MedianStoppingRule`: stops a trial that is already worse than most finished ones."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.tuning.spec_checks import check_choice, check_keys, check_positive

CURVE_PREFIX = "curve"
_MEDIAN_KEYS = ("enabled", "metric", "min_trials", "grace_epochs")
#: Objectives read from the Keras logs of each epoch.
KERAS_OBJECTIVES = ("val_accuracy", "val_loss", "accuracy", "loss")


@dataclasses.dataclass(frozen=True)
class MedianStop:
    """A spec's `[median_stop]` table: stop a trial whose `metric` at epoch e is worse
    than the median of the completed trials at epoch e (with `min_trials` of them, after
    `grace_epochs` epochs). `MedianStoppingRule` applies it.

    Example:

    >>> from kerasopt.tuning import MedianStop
    >>> MedianStop(min_trials=4).metric
    'val_accuracy'
    """

    metric: str = "val_accuracy"
    min_trials: int = 3
    grace_epochs: int = 1


def parse_median_stop(table: dict | None) -> MedianStop | None:
    """The `MedianStop` of a `[median_stop]` table; `None` without one or when disabled."""
    if table is None:
        return None
    check_keys("[median_stop]", table, _MEDIAN_KEYS)
    if not table.get("enabled", True):
        return None
    metric = check_choice(
        "[median_stop] metric", table.get("metric", "val_accuracy"), KERAS_OBJECTIVES
    )
    return MedianStop(
        metric=metric,
        min_trials=check_positive("[median_stop] min_trials", table.get("min_trials", 3)),
        grace_epochs=check_positive("[median_stop] grace_epochs", table.get("grace_epochs", 1)),
    )


def curve_metric_name(metric: str, epoch: int) -> str:
    """The trial metric holding `metric` at (0-based, absolute) `epoch`."""
    return f"{CURVE_PREFIX}/{metric}/{epoch:04d}"


def curve_metrics(history: dict, metric: str, initial_epoch: int = 0) -> dict[str, float]:
    """Per-epoch values of `metric` as trial metrics, so the oracle keeps the curve.

    keras-tuner records one value per metric and trial; naming each epoch's value
    separately lets every worker read the curves of finished trials from the oracle,
    over gRPC too.
    """
    return {
        curve_metric_name(metric, initial_epoch + index): float(value)
        for index, value in enumerate(history.get(metric, []))
    }


def reference_curves(trials, metric: str) -> list[dict[int, float]]:
    """The `metric` curve (epoch -> value) of each completed trial."""
    prefix = f"{CURVE_PREFIX}/{metric}/"
    curves = []
    for trial in trials:
        if str(trial.status) != "COMPLETED":
            continue
        names = [name for name in trial.metrics.metrics if name.startswith(prefix)]
        curve = {int(name[len(prefix) :]): trial.metrics.get_last_value(name) for name in names}
        if curve:
            curves.append(curve)
    return curves


@keras.saving.register_keras_serializable(package="kerasopt")
class MedianStoppingRule(keras.callbacks.Callback):
    """Stops `fit` when `metric` at epoch e is worse than the median at e of finished trials.

    The rule of Google Vizier (Golovin et al., 2017): a trial whose objective at epoch e
    is below (for `direction="max"`) the median of the completed trials' values at
    epoch e stops there. It waits for `grace_epochs` epochs and for `min_trials`
    completed trials that reached epoch e. `stopped_epoch` and `reason` say what happened.

    Args:
        reference_curves: One `{epoch: value}` dict per completed trial (0-based epochs).
        metric: The Keras log to compare. Defaults to `"val_accuracy"`.
        direction: `"max"` or `"min"`. Defaults to `"max"`.
        min_trials: Completed trials needed at an epoch to judge it. Defaults to `3`.
        grace_epochs: Epochs always trained before the rule may stop. Defaults to `1`.

    Example:

    >>> from kerasopt.tuning import MedianStoppingRule
    >>> curves = [{0: 0.9, 1: 0.95}, {0: 0.8, 1: 0.9}, {0: 0.85, 1: 0.93}]
    >>> rule = MedianStoppingRule(curves, grace_epochs=1)
    >>> # model.fit(..., callbacks=[rule]) stops after epoch 1 if val_accuracy < 0.93
    """

    def __init__(
        self,
        reference_curves=(),
        metric: str = "val_accuracy",
        direction: str = "max",
        min_trials: int = 3,
        grace_epochs: int = 1,
    ):
        super().__init__()
        if direction not in ("max", "min"):
            raise InvalidValueError(
                f"MedianStoppingRule expects direction 'max' or 'min'. Received: {direction=}."
            )
        if min_trials < 1 or grace_epochs < 0:
            raise InvalidValueError(
                "MedianStoppingRule needs min_trials >= 1 and grace_epochs >= 0. Received: "
                f"{min_trials=}, {grace_epochs=}."
            )
        self.reference_curves = [
            {int(epoch): float(value) for epoch, value in curve.items()}
            for curve in reference_curves
        ]
        self.metric = metric
        self.direction = direction
        self.min_trials = min_trials
        self.grace_epochs = grace_epochs
        self.stopped_epoch: int | None = None
        self.reason: str | None = None

    def median_at(self, epoch: int) -> float | None:
        """The median of the completed trials at `epoch`, or None with too few of them."""
        peers = [curve[epoch] for curve in self.reference_curves if epoch in curve]
        return float(np.median(peers)) if len(peers) >= self.min_trials else None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.metric)
        if value is None or epoch + 1 <= self.grace_epochs:
            return
        median = self.median_at(epoch)
        if median is None:
            return
        worse = value < median if self.direction == "max" else value > median
        if worse:
            self.stopped_epoch = epoch
            self.reason = (
                f"median stopping rule: {self.metric}={float(value):.4f} at epoch {epoch + 1} "
                f"is worse than the median {median:.4f} of the finished trials"
            )
            self.model.stop_training = True

    def get_config(self):
        return {
            "reference_curves": [
                {str(k): v for k, v in curve.items()} for curve in self.reference_curves
            ],
            "metric": self.metric,
            "direction": self.direction,
            "min_trials": self.min_trials,
            "grace_epochs": self.grace_epochs,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
