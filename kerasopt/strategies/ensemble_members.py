"""`train_members`: the members of a bagging, AdaBoost (SAMME) or snapshot ensemble.

- **bagging**: member `i` trains on a bootstrap sample (`n` draws with replacement,
  seeded by `seed + i`) of the training split.
- **adaboost**: SAMME for `K` classes. Member `m` trains on the whole training split with
  `fit(sample_weight=n * w)`; its weighted training error `err` gives its weight
  `alpha = log((1 - err) / err) + log(K - 1)`, and the misclassified samples' weights are
  multiplied by `exp(alpha)`. A member no better than chance (`err >= 1 - 1/K`) is
  dropped and boosting stops, as in scikit-learn's `AdaBoostClassifier`; a member that
  fits its weighted split perfectly has `err` floored at `1 / (2n)` (half a sample).
- **snapshot**: ONE model trained for `members * epochs` epochs with
  `keras.optimizers.schedules.CosineDecayRestarts` (a cycle of `epochs` epochs, every
  restart at the full rate); a copy of the weights at the end of each cycle is a member.

Every member trains through `model.fit` on the arrays, with Adam and the same batch size:
`kerasopt.training.train` takes neither sample weights nor a schedule object, and going
through it for bagging only would give the three methods different recipes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import keras
import numpy as np

from kerasopt.core.validation import check_option, check_positive_int, invalid_value
from kerasopt.data.splits import DatasetSplits
from kerasopt.schedules import WarmupCosine
from kerasopt.training.fit_state import build_fit_state

#: The ensemble methods `train_members` knows.
ENSEMBLE_METHODS = ("bagging", "adaboost", "snapshot")
#: Share of the steps spent warming up (bagging and AdaBoost members).
WARMUP_FRACTION = 0.1
logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainedMembers:
    """What `train_members` returns.

    Attributes:
        method: `"bagging"`, `"adaboost"` or `"snapshot"`.
        models: The trained members, in training order.
        weights: Each member's SAMME alpha (AdaBoost), or `None`.
        errors: Each member's weighted training error (AdaBoost), or `None`.
        notes: What happened that a reader should know (a member dropped, an error floored).
        seconds: Training time of all members.
    """

    method: str
    models: list
    weights: list[float] | None
    errors: list[float] | None
    notes: list[str]
    seconds: float


def samme_alpha(error: float, num_classes: int) -> float:
    """SAMME's member weight `log((1 - error) / error) + log(K - 1)`.

    Args:
        error: The member's weighted training error, in `(0, 1)`.
        num_classes: `K`, at least 2.

    Example:

    >>> round(samme_alpha(0.2, 10), 4)  # log(4) + log(9)
    3.5835
    """
    return math.log((1.0 - error) / error) + math.log(num_classes - 1)


def check_members(method: str, members: int, num_samples: int) -> None:
    """Checks `method` and `members` against the training split; raises before any work.

    Raises:
        InvalidValueError: An unknown method, fewer than 2 members, or more members than
            training samples.

    Example:

    >>> check_members("bagging", 5, 1293)
    """
    owner = "ensemble"
    check_option(owner, "method", method, ENSEMBLE_METHODS)
    check_positive_int(owner, "members", members, fix="Pass e.g. members=5.")
    if members < 2:
        raise invalid_value(
            owner,
            "members >= 2 (an ensemble of one model is that model)",
            f"members={members}",
            "Pass e.g. members=5.",
        )
    if members > num_samples:
        raise invalid_value(
            owner,
            f"members <= the {num_samples} training samples",
            f"members={members}",
            f"Pass members <= {num_samples}, or more training data.",
        )


def train_members(
    data: DatasetSplits,
    build_model: Callable[[], keras.Model],
    *,
    method: str,
    members: int,
    epochs: int = 10,
    learning_rate: float = 3e-3,
    batch_size: int = 32,
    seed: int = 0,
    verbose: int = 0,
) -> TrainedMembers:
    """Trains the members of an ensemble (see the module docstring for each method).

    Args:
        data: Dataset splits; members train on `x_train` and validate on `x_val`.
        build_model: Returns a fresh, uncompiled classifier with softmax outputs.
        method: `"bagging"`, `"adaboost"` or `"snapshot"`.
        members: Number of members, at least 2.
        epochs: Epochs per member (per cycle for snapshot). Defaults to `10`.
        learning_rate: Peak learning rate of Adam. Defaults to `3e-3`.
        batch_size: Samples per step. Defaults to `32`.
        seed: Seed of weights, bootstrap draws and shuffling. Defaults to `0`.
        verbose: Keras verbosity. Defaults to `0`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> data = load_dataset("digits")
    >>> trained = train_members(
    ...     data, lambda: build_cnn((8, 8), 10, input_max=16), method="bagging", members=3
    ... )  # doctest: +SKIP
    """
    check_members(method, members, len(data.y_train))
    epochs = check_positive_int("ensemble", "epochs", epochs)
    settings = {"epochs": epochs, "lr": learning_rate, "batch": batch_size, "verbose": verbose}
    start = time.perf_counter()
    if method == "snapshot":
        models, weights, errors, notes = _snapshot(data, build_model, members, seed, settings)
    elif method == "bagging":
        models, weights, errors, notes = _bagging(data, build_model, members, seed, settings)
    else:
        models, weights, errors, notes = _adaboost(data, build_model, members, seed, settings)
    for note in notes:
        logger.info("%s", note)
    return TrainedMembers(method, models, weights, errors, notes, time.perf_counter() - start)


def _fit(model, x, y, data, settings, seed, *, sample_weight=None, schedule=None, callbacks=()):
    steps = settings["epochs"] * math.ceil(len(y) / settings["batch"])
    if schedule is None:
        warmup = int(steps * WARMUP_FRACTION)
        schedule = WarmupCosine(settings["lr"], total_steps=steps, warmup_steps=warmup)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    build_fit_state(model, (x, y))
    keras.utils.set_random_seed(seed)
    model.fit(
        x,
        y,
        sample_weight=sample_weight,
        batch_size=settings["batch"],
        epochs=settings["epochs"],
        validation_data=(data.x_val, data.y_val),
        callbacks=list(callbacks),
        verbose=settings["verbose"],
    )
    return model


def _new_model(build_model, seed):
    keras.utils.set_random_seed(seed)
    return build_model()


def _bagging(data, build_model, members, seed, settings):
    n = len(data.y_train)
    models = []
    for i in range(members):
        rows = np.random.default_rng(seed + i).integers(0, n, size=n)
        model = _new_model(build_model, seed + i)
        models.append(_fit(model, data.x_train[rows], data.y_train[rows], data, settings, seed + i))
    return models, None, None, []


def _adaboost(data, build_model, members, seed, settings):
    x, y = data.x_train, np.asarray(data.y_train)
    n, k = len(y), int(data.num_classes)
    weights = np.full(n, 1.0 / n)
    models, alphas, errors, notes = [], [], [], []
    for i in range(members):
        model = _new_model(build_model, seed + i)
        _fit(model, x, y, data, settings, seed + i, sample_weight=(weights * n).astype("float32"))
        predicted = np.argmax(model.predict(x, batch_size=256, verbose=0), axis=-1)
        wrong = predicted != y
        error = float(np.sum(weights[wrong]) / np.sum(weights))
        if error >= 1.0 - 1.0 / k:
            notes.append(
                f"AdaBoost member {i}: weighted training error {error:.4f} >= 1 - 1/K = "
                f"{1.0 - 1.0 / k:.4f} (no better than chance); dropped, boosting stopped."
            )
            break
        if error < 0.5 / n:
            notes.append(
                f"AdaBoost member {i}: fit its weighted training split perfectly; error "
                f"floored at 1/(2n) = {0.5 / n:.2e}, weights unchanged for the next member."
            )
            error = 0.5 / n
        alpha = samme_alpha(error, k)
        models.append(model)
        alphas.append(alpha)
        errors.append(error)
        weights = weights * np.exp(alpha * wrong)
        weights /= weights.sum()
    if len(models) < 2:
        raise invalid_value(
            "ensemble",
            "at least 2 AdaBoost members better than chance",
            f"{len(models)} kept of members={members} ({'; '.join(notes)})",
            "Train each member longer (epochs) or use method='bagging'.",
        )
    return models, alphas, errors, notes


class _Snapshots(keras.callbacks.Callback):
    """Copies the model at the end of every cycle of `cycle_epochs` epochs."""

    def __init__(self, build_model, cycle_epochs):
        super().__init__()
        self.build_model = build_model
        self.cycle_epochs = cycle_epochs
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.cycle_epochs == 0:
            copy = self.build_model()
            copy.set_weights(self.model.get_weights())
            self.snapshots.append(copy)


def _snapshot(data, build_model, members, seed, settings):
    cycle_steps = settings["epochs"] * math.ceil(len(data.y_train) / settings["batch"])
    schedule = keras.optimizers.schedules.CosineDecayRestarts(
        settings["lr"], first_decay_steps=cycle_steps, t_mul=1.0, m_mul=1.0
    )
    snapshots = _Snapshots(build_model, settings["epochs"])
    model = _new_model(build_model, seed)
    _fit(
        model,
        data.x_train,
        data.y_train,
        data,
        {**settings, "epochs": settings["epochs"] * members},
        seed,
        schedule=schedule,
        callbacks=[snapshots],
    )
    return snapshots.snapshots, None, None, []
