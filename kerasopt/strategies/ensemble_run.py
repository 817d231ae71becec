"""`ensemble`: train the members, combine them into one model, export and measure all."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from contextlib import nullcontext

import keras
import numpy as np

from kerasopt.core.locking import output_lock
from kerasopt.core.validation import check_seed, check_type
from kerasopt.data.splits import DatasetSplits
from kerasopt.export import measure_int8
from kerasopt.export.model_files import write_model_files
from kerasopt.strategies.default_model import default_builder
from kerasopt.strategies.ensemble_members import check_members, train_members
from kerasopt.strategies.ensemble_model import WeightedVote, combine_members
from kerasopt.strategies.ensemble_report import EnsembleReport, MemberRow


def ensemble(
    data: DatasetSplits,
    *,
    method: str = "bagging",
    members: int = 5,
    build_model: Callable[[], keras.Model] | None = None,
    epochs: int = 10,
    learning_rate: float = 3e-3,
    batch_size: int = 32,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    latency_runs: int = 100,
    verbose: int = 0,
) -> EnsembleReport:
    """Trains an ensemble, combines it into ONE Keras model and measures it as int8.

    Members train with `train_members`; `combine_members` joins them: the mean of
    probabilities for bagging and snapshot, the alpha-weighted mean (`WeightedAverage`)
    for AdaBoost, whose SAMME vote (`WeightedVote`) is reported as Keras accuracy only
    because it leaves float ops in an int8 file. Each member and the combined model are
    converted to full-integer int8 and measured on LiteRT (`measure_int8`). With
    `out_dir`, `ensemble.keras`, `ensemble_int8.tflite`, `report.json` and `report.md`
    are written atomically under the folder's output lock. Every argument is checked
    before anything trains or is written.

    Args:
        data: Dataset splits.
        method: `"bagging"`, `"adaboost"` or `"snapshot"`. Defaults to `"bagging"`.
        members: Number of members, at least 2. Defaults to `5`.
        build_model: Returns a fresh uncompiled classifier; `None` means `build_cnn`
            for `data`. Defaults to `None`.
        epochs: Epochs per member (per cycle for snapshot). Defaults to `10`.
        learning_rate: Peak learning rate. Defaults to `3e-3`.
        batch_size: Samples per step. Defaults to `32`.
        seed: Seed of weights, draws and shuffling. Defaults to `0`.
        out_dir: Folder for the artifacts, or `None`. Defaults to `None`.
        latency_runs: Single-sample LiteRT runs timed per model. Defaults to `100`.
        verbose: Keras verbosity. Defaults to `0`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.strategies import ensemble
    >>> data = load_dataset("digits")
    >>> report = ensemble(data, method="snapshot", members=3, epochs=5)  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """
    check_type("ensemble", "data", data, DatasetSplits, expected="DatasetSplits (load_dataset)")
    check_members(method, members, len(data.y_train))
    seed = check_seed("ensemble", seed)
    data.check()
    build_model = build_model or default_builder(data)
    settings = {"method": method, "members": members, "epochs": epochs}
    settings |= {"learning_rate": learning_rate, "batch_size": batch_size, "seed": seed}
    lock = output_lock(out_dir, "ensemble") if out_dir is not None else nullcontext()
    with lock:
        trained = train_members(
            data,
            build_model,
            method=method,
            members=members,
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            verbose=verbose,
        )
        weights = trained.weights
        combiner = "average" if weights is None else "weighted_average"
        model = combine_members(trained.models, combiner=combiner, weights=weights)
        notes = list(trained.notes)
        vote = None
        if weights is not None:
            vote_model = combine_members(trained.models, combiner="weighted_vote", weights=weights)
            vote = _accuracy(vote_model, data)
            notes.append(
                f"The exported model averages probabilities weighted by alpha; the SAMME "
                f"vote ({WeightedVote.__name__}) scores {vote:.4f} in Keras but leaves a "
                "float CAST per member in an int8 file."
            )
        rows = []
        for i, member in enumerate(trained.models):
            row, _ = _measure(f"member {i}", member, data, latency_runs, seed)
            rows.append(dataclasses.replace(row, weight=None if weights is None else weights[i]))
        combined, content = _measure("ensemble", model, data, latency_runs, seed)
        report = EnsembleReport(
            settings=settings,
            dataset=data.describe(),
            members=rows,
            ensemble=combined,
            combiner=combiner,
            notes=notes,
            vote_keras_accuracy=vote,
            train_seconds=trained.seconds,
            model=model,
        )
        if out_dir is not None:
            write_model_files(
                out_dir,
                model,
                content,
                model_file="ensemble.keras",
                int8_file="ensemble_int8.tflite",
            )
            report.write(out_dir)
    return report


def _accuracy(model, data) -> float:
    probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probabilities, -1) == np.asarray(data.y_test)))


def _measure(role, model, data, latency_runs, seed) -> tuple[MemberRow, bytes]:
    measured = measure_int8(
        model, data.x_train, data.x_test, data.y_test, seed=seed, latency_runs=latency_runs
    )
    row = MemberRow(role, int(model.count_params()), measured.keras_accuracy, measured.tflite)
    return row, measured.content
