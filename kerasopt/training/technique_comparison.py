"""`compare_techniques`: one model recipe, trained with and without each technique."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.tables import text_table
from kerasopt.data.splits import DatasetSplits
from kerasopt.training.config import TrainConfig


@dataclasses.dataclass
class Technique:
    """One training technique to compare against the baseline.

    Args:
        name: Row label in the comparison table.
        config: `TrainConfig` fields this technique changes (`{"label_smoothing": 0.1}`).
            Defaults to `{}`.
        transform_model: Rewrites the freshly built model before training, e.g.
            `lambda m: apply_regularization(m, kernel_regularizer="l2(1e-4)")`.
            Defaults to `None`.
        callbacks: Builds extra Keras callbacks from the data and the run's
            `TrainConfig` (e.g. SWA over the last epochs, with batch-norm data).
            Defaults to `None`.

    Example:

    >>> from kerasopt.training import Technique
    >>> Technique("label smoothing", config={"label_smoothing": 0.1}).name
    'label smoothing'
    """

    name: str
    config: dict = dataclasses.field(default_factory=dict)
    transform_model: Callable | None = None
    callbacks: Callable[[DatasetSplits, TrainConfig], list] | None = None


def compare_techniques(
    data: DatasetSplits,
    techniques: Sequence[Technique],
    build_model: Callable[[], object],
    base_config: TrainConfig,
    *,
    seeds: Sequence[int] = (0,),
    attack_epsilon: float | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
) -> list[dict]:
    """Trains `build_model()` once per technique and seed; measures each on the test split.

    Every run starts from `base_config` with only the technique's changes, the same
    seed and the same epochs, so a row differs from the baseline by one thing. A row is
    the mean over `seeds`; `accuracy_std` shows the seed-to-seed spread, which is the
    noise any difference must beat.

    Args:
        data: Dataset splits; the test split is only used for the measurements.
        techniques: What to compare; include a `Technique("baseline")`.
        build_model: Returns a fresh, uncompiled model.
        base_config: The shared recipe.
        seeds: Seeds to average over. Defaults to `(0,)`.
        attack_epsilon: Also measure FGSM accuracy at this epsilon (a fraction of
            `input_range`), or `None`. Defaults to `None`.
        input_range: The model's raw input range, for the attack. Defaults to `(0, 1)`.

    Returns:
        One dict per technique: `technique`, `accuracy`, `accuracy_std`, `loss`, `ece`,
        (`fgsm_accuracy`), `diverged` (share of runs whose predictions went NaN; they
        count as accuracy 0), `epochs`, `seconds`, `runs`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training import Technique, TrainConfig, compare_techniques
    >>> data = load_dataset("digits")
    >>> rows = compare_techniques(
    ...     data,
    ...     [Technique("baseline"), Technique("smoothing", {"label_smoothing": 0.1})],
    ...     lambda: build_cnn(data.input_shape, 10, input_max=16),
    ...     TrainConfig(epochs=5, augment=None),
    ... )  # doctest: +SKIP
    """
    names = [technique.name for technique in techniques]
    if len(set(names)) != len(names):
        raise InvalidValueError(
            f"compare_techniques needs distinct technique names. Received: {names}."
        )
    if not seeds:
        raise InvalidValueError("compare_techniques needs at least one seed. Received: seeds=().")
    rows = []
    for technique in techniques:
        runs = [
            _measure(data, technique, build_model, base_config, seed, attack_epsilon, input_range)
            for seed in seeds
        ]
        row = {"technique": technique.name}
        for key in runs[0]:
            row[key] = statistics.fmean(run[key] for run in runs)
        row["accuracy_std"] = statistics.pstdev(run["accuracy"] for run in runs)
        row["runs"] = len(runs)
        rows.append(row)
    return rows


def _measure(data, technique, build_model, base_config, seed, attack_epsilon, input_range):
    import keras
    import numpy as np

    from kerasopt.analysis import calibration
    from kerasopt.training.train import train

    config = base_config.replace(**{**technique.config, "seed": seed, "checkpoint": False})
    keras.utils.set_random_seed(seed)
    model = build_model()
    if technique.transform_model is not None:
        model = technique.transform_model(model)
    callbacks = technique.callbacks(data, config) if technique.callbacks else None
    start = time.perf_counter()
    result = train(model, data, config, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
    if not np.isfinite(probabilities).all():
        # A diverged run classifies nothing; it is counted, not allowed to stop the rest.
        nan = float("nan")
        measured = {"accuracy": 0.0, "loss": nan, "ece": nan, "diverged": 1.0}
        measured.update(epochs=float(result.epochs_run), seconds=seconds)
        if attack_epsilon is not None:
            measured["fgsm_accuracy"] = 0.0
        return measured
    true_probability = probabilities[range(len(data.y_test)), data.y_test]
    measured = {
        "accuracy": float((probabilities.argmax(-1) == data.y_test).mean()),
        "loss": float(-np.log(true_probability + 1e-7).mean()),
        "ece": float(calibration(probabilities, data.y_test)["ece"]),
        "diverged": 0.0,
        "epochs": float(result.epochs_run),
        "seconds": seconds,
    }
    if attack_epsilon is not None:
        from kerasopt.adversarial import robustness_curve

        curve = robustness_curve(
            model, data.x_test, data.y_test, epsilons=(attack_epsilon,), input_range=input_range
        )
        measured["fgsm_accuracy"] = float(curve[0]["accuracy"])
    return measured


def format_comparison(rows: list[dict]) -> str:
    """A plain-text table of `compare_techniques` rows, with the change vs the first row.

    Example:

    >>> print(format_comparison([{"technique": "baseline", "accuracy": 0.95,
    ...     "accuracy_std": 0.0, "ece": 0.03, "seconds": 4.2, "runs": 1}]))  # doctest: +SKIP
    """
    header = ["technique", "accuracy", "± seeds", "vs first", "ECE", "seconds"]
    has_attack = any("fgsm_accuracy" in row for row in rows)
    if has_attack:
        header.insert(5, "FGSM acc")
    base = rows[0]["accuracy"] if rows else 0.0
    table = []
    for row in rows:
        cells = [
            row["technique"],
            f"{row['accuracy']:.4f}",
            f"{row['accuracy_std']:.4f}",
            f"{(row['accuracy'] - base) * 100:+.2f} pts",
            f"{row['ece']:.4f}" if row.get("diverged", 0) == 0 else f"{row['diverged']:.0%} NaN",
            f"{row['seconds']:.1f}",
        ]
        if has_attack:
            cells.insert(5, f"{row.get('fgsm_accuracy', float('nan')):.4f}")
        table.append(cells)
    return text_table(header, table)
