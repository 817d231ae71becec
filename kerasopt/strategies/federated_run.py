"""`federated`: federated learning on Flower's simulation engine, each client a Keras 3 model.

The training split is partitioned among the clients (`federated_partition`), Flower runs
the rounds (`federated_simulation`: Flower's own FedAvg, FedProx or FedAdam, clients in
Ray actors, the server scoring the global model on the test split after every round),
and the same model trained centrally on the union of the shards, for the same number
of passes over the data (`rounds * local_epochs` epochs) from the same initial weights,
gives the gap. Both models are exported to full-integer int8 and measured on LiteRT
(`measure_int8`).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import keras
import numpy as np

from kerasopt.core.locking import output_lock
from kerasopt.core.validation import (
    check_float,
    check_fraction,
    check_int,
    check_option,
    check_positive_int,
    check_type,
)
from kerasopt.data.splits import DatasetSplits
from kerasopt.export.model_files import write_model_files
from kerasopt.strategies.default_model import default_builder
from kerasopt.strategies.ensemble_report import MemberRow
from kerasopt.strategies.federated_partition import (
    check_clients,
    class_histograms,
    label_skew,
    parse_partition,
)
from kerasopt.strategies.federated_partition import partition as _partition
from kerasopt.strategies.federated_report import FederatedReport, RoundRow
from kerasopt.strategies.federated_simulation import FEDERATED_STRATEGIES
from kerasopt.training.batch_norm_recalibration import batch_norm_layers
from kerasopt.training.fit_state import build_fit_state

_OWNER = "federated"
#: FedProx's `mu` when none is given (Li et al. try 0.001 to 1; 0.01 suits small CNNs).
DEFAULT_MU = 0.01


def check_federated(
    *,
    clients,
    rounds,
    strategy,
    partition_spec,
    local_epochs=2,
    batch_size=32,
    learning_rate=3e-3,
    proximal_mu=None,
    fraction_fit=1.0,
    parallel_clients=2,
    num_samples: int | None = None,
) -> None:
    """Checks `federated`'s arguments (the sample count too, when given); raises first.

    Raises:
        InvalidValueError: An unknown strategy, a bad partition spec, fewer than 2 or
            too many clients for the samples, or a number out of range.

    Example:

    >>> check_federated(clients=10, rounds=30, strategy="fedprox", partition_spec="iid")
    """
    check_option(_OWNER, "strategy", strategy, FEDERATED_STRATEGIES)
    parse_partition(partition_spec)
    check_clients(clients, num_samples if num_samples is not None else 2**31)
    check_positive_int(_OWNER, "rounds", rounds, fix="Pass e.g. rounds=30.")
    check_positive_int(_OWNER, "local_epochs", local_epochs, fix="Pass e.g. local_epochs=1.")
    check_positive_int(_OWNER, "batch_size", batch_size, fix="Pass e.g. batch_size=32.")
    check_float(_OWNER, "learning_rate", learning_rate, 0, closed="neither", example=3e-3)
    if proximal_mu is not None:
        check_float(_OWNER, "proximal_mu", proximal_mu, 0, example=DEFAULT_MU)
    check_fraction(_OWNER, "fraction_fit", fraction_fit, closed="right", example=1.0)
    check_positive_int(_OWNER, "parallel_clients", parallel_clients, fix="Pass e.g. 2.")


def federated(
    data: DatasetSplits,
    *,
    clients: int = 10,
    rounds: int = 30,
    strategy: str = "fedavg",
    partition: str = "dirichlet:0.5",
    local_epochs: int = 2,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    proximal_mu: float | None = None,
    fraction_fit: float = 1.0,
    central: bool = True,
    seed: int = 0,
    build_model: Callable[[], keras.Model] | None = None,
    parallel_clients: int = 2,
    out_dir: str | os.PathLike | None = None,
    latency_runs: int = 100,
    verbose: int = 0,
) -> FederatedReport:
    """Trains one model by federated learning on Flower's simulation engine and measures it.

    Every argument is checked before anything trains or is written. With `out_dir`,
    `global.keras`, `global_int8.tflite`, `report.json`, `report.md` and `rounds.png`
    are written atomically under the folder's output lock. Flower is an optional
    dependency: without it a `MissingDependencyError` names
    `pip install "kerasopt[federated]"`.

    Args:
        data: Dataset splits; the training split is partitioned among the clients.
        clients: Simulated clients, at least 2. Defaults to `10`.
        rounds: Federated rounds. Defaults to `30`.
        strategy: `"fedavg"`, `"fedprox"` or `"fedadam"` (Flower's classes). Defaults
            to `"fedavg"`.
        partition: `"iid"` or `"dirichlet:ALPHA"` label skew. Defaults to
            `"dirichlet:0.5"`.
        local_epochs: Epochs each client trains per round. Defaults to `2`.
        batch_size: Client batch size. Defaults to `32`.
        learning_rate: Client Adam learning rate. Defaults to `3e-3`.
        proximal_mu: FedProx's `mu`; `None` means `0.01` for FedProx and `0` otherwise
            (another strategy with `mu > 0` adds the term to its clients too).
            Defaults to `None`.
        fraction_fit: Share of the clients trained each round (at least one).
            Defaults to `1.0`.
        central: Also train the model centrally for the gap. Defaults to `True`.
        seed: Seed of the partition, the initial weights and the clients' shuffling.
            Defaults to `0`.
        build_model: Returns a fresh uncompiled classifier; `None` means `build_cnn`
            for `data`. It is pickled (cloudpickle) to the clients. Defaults to `None`.
        parallel_clients: Ray actors training clients at once, one CPU each.
            Defaults to `2`.
        out_dir: Folder for the artifacts, or `None`. Defaults to `None`.
        latency_runs: Single-sample LiteRT runs timed per model. Defaults to `100`.
        verbose: Flower's, Ray's and Keras' logs when `> 0`. Defaults to `0`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.strategies import federated
    >>> data = load_dataset("digits")
    >>> report = federated(data, clients=10, rounds=30, strategy="fedprox")  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    """
    from kerasopt.strategies.federated_simulation import require_flower, simulate

    check_type(_OWNER, "data", data, DatasetSplits, expected="DatasetSplits (load_dataset)")
    options = {"local_epochs": local_epochs, "batch_size": batch_size}
    options |= {"learning_rate": learning_rate, "proximal_mu": proximal_mu}
    options |= {"fraction_fit": fraction_fit, "parallel_clients": parallel_clients}
    check_federated(
        clients=clients,
        rounds=rounds,
        strategy=strategy,
        partition_spec=partition,
        num_samples=len(data.y_train),
        **options,
    )
    # An int, never None: the partition, the weights and every client derive from it.
    seed = check_int(_OWNER, "seed", seed, 0, 2**31 - 1, example=0)
    data.check()
    scheme = parse_partition(partition)
    if proximal_mu is None:
        proximal_mu = DEFAULT_MU if strategy == "fedprox" else 0.0
    proximal_mu = float(proximal_mu)
    parts = _partition(data.y_train, clients, scheme, seed=seed)  # may refuse: before writing
    require_flower()
    build_model = build_model or default_builder(data)
    sampled = max(1, math.floor(fraction_fit * clients + 1e-9))
    settings = {"strategy": strategy, "clients": clients, "rounds": rounds}
    settings |= {"partition": str(scheme), **options, "proximal_mu": proximal_mu}
    settings |= {"clients_per_round": sampled, "seed": seed}
    lock = output_lock(out_dir, _OWNER) if out_dir is not None else nullcontext()
    with lock:
        keras.utils.set_random_seed(seed)
        model = build_model()
        initial = model.get_weights()
        with tempfile.TemporaryDirectory(prefix="kerasopt-federated-") as folder:
            from kerasopt.strategies.federated_client import write_client_files

            shards = [(data.x_train[p], data.y_train[p]) for p in parts]
            write_client_files(Path(folder), shards, build_model)
            result = simulate(
                folder=folder,
                initial_weights=initial,
                evaluate=_evaluator(model, data),
                clients=clients,
                rounds=rounds,
                strategy=strategy,
                sampled=sampled,
                train_config=_train_config(options, strategy, proximal_mu, seed),
                proximal_mu=proximal_mu,
                statistics=tuple(i for i, w in enumerate(model.weights) if not w.trainable),
                parallel_clients=min(parallel_clients, sampled),
                verbose=verbose,
            )
        model.set_weights(result.weights)
        federated_row, content = _measure("federated", model, data, latency_runs, seed)
        central_row, central_seconds = None, 0.0
        if central:
            started = time.perf_counter()
            union = np.concatenate(parts)
            central_model = _train_central(
                build_model, initial, data, union, rounds * local_epochs, options, seed, verbose
            )
            central_seconds = time.perf_counter() - started
            central_row, _ = _measure("central", central_model, data, latency_runs, seed)
        histograms = class_histograms(data.y_train, parts, data.num_classes)
        report = FederatedReport(
            settings=settings,
            dataset=data.describe(),
            clients=[{"samples": int(h.sum()), "classes": h.tolist()} for h in histograms],
            label_skew=label_skew(histograms),
            initial_accuracy=result.accuracy[0],
            rounds=[RoundRow.from_result(result, r) for r in range(1, rounds + 1)],
            federated=federated_row,
            central=central_row,
            seconds={
                "simulation": result.seconds,
                "first_round": result.round_ends[0],
                "later_rounds_mean": float(np.mean(np.diff(result.round_ends)))
                if rounds > 1
                else None,
                "central": central_seconds,
            },
            notes=_notes(strategy, proximal_mu, sampled, clients, batch_norm_layers(model)),
            model=model,
        )
        if out_dir is not None:
            write_model_files(
                out_dir, model, content, model_file="global.keras", int8_file="global_int8.tflite"
            )
            report.write(out_dir)
    return report


def _train_config(options, strategy, mu, seed) -> dict:
    """What each client gets in its `ConfigRecord` every round."""
    config = {
        "local-epochs": options["local_epochs"],
        "batch-size": options["batch_size"],
        "learning-rate": float(options["learning_rate"]),
        "seed": seed,
    }
    if strategy != "fedprox":  # Flower's FedProx sends its own `proximal-mu`
        config["proximal-mu"] = float(mu)
    return config


def _evaluator(model, data) -> Callable[[list], float]:
    x, y = data.x_test, np.asarray(data.y_test)

    def evaluate(weights) -> float:
        model.set_weights(weights)
        probabilities = model.predict(x, batch_size=256, verbose=0)
        return float(np.mean(np.argmax(probabilities, -1) == y))

    return evaluate


def _train_central(build_model, initial, data, indices, epochs, options, seed, verbose):
    keras.utils.set_random_seed(seed)
    model = build_model()
    model.set_weights(initial)
    model.compile(
        optimizer=keras.optimizers.Adam(options["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    build_fit_state(model, (data.x_train[:1], data.y_train[:1]))
    model.fit(
        data.x_train[indices],
        data.y_train[indices],
        epochs=epochs,
        batch_size=options["batch_size"],
        shuffle=True,
        verbose=2 if verbose else 0,
    )
    return model


def _measure(role, model, data, latency_runs, seed) -> tuple[MemberRow, bytes]:
    from kerasopt.export import measure_int8

    measured = measure_int8(
        model, data.x_train, data.x_test, data.y_test, seed=seed, latency_runs=latency_runs
    )
    row = MemberRow(role, int(model.count_params()), measured.keras_accuracy, measured.tflite)
    return row, measured.content


def _notes(strategy, mu, sampled, clients, batch_norms) -> list[str]:
    notes = []
    if batch_norms:
        notes.append(
            f"Clients re-estimate the {len(batch_norms)} BatchNormalization layers' moving "
            "statistics on their own images after local training, before sending them."
        )
    if strategy == "fedprox":
        notes.append(f"FedProx: clients add mu/2 * ||w - w_global||^2 with mu={mu:g}.")
    elif mu > 0:
        notes.append(f"{strategy} clients add FedProx's proximal term too (mu={mu:g}).")
    if strategy == "fedadam":
        from kerasopt.strategies.federated_simulation import FEDADAM_ETA

        notes.append(
            f"FedAdam: server learning rate eta={FEDADAM_ETA:g}, tau=1e-3; BatchNorm's "
            "running statistics take the FedAvg mean, not the Adam step."
        )
    if sampled < clients:
        notes.append(f"{sampled} of {clients} clients train each round (fraction_fit).")
    notes.append(
        "The central model trains on the union of the shards for rounds x local_epochs "
        "epochs from the same initial weights, with the clients' optimizer and batch size."
    )
    return notes
