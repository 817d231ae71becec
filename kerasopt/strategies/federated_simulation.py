"""`simulate`: one run of Flower's simulation engine (Ray) with a message-API strategy.

The `ServerApp` runs in a thread of this process and drives Flower's own strategy
(`flwr.serverapp.strategy.FedAvg`, `FedProx` or `FedAdam`) with `Strategy.start`; its
`evaluate_fn` scores the global model on the held-out split after every round, so each
round's accuracy is the global model's. The `ClientApp`s run in Ray actors
(`federated_client`). The strategy is subclassed to count the bytes of the
`ArrayRecord`s it sends and receives (`ArrayRecord.count_bytes()`, Flower's own count)
and, for FedAdam only, to give BatchNorm's running statistics the FedAvg mean and to
keep the clients' float32 (Flower's FedAdam steps every array and returns float64).

Ray is started here, small and quiet: `parallel_clients` CPUs, one per actor, no
dashboard, workers at the caller's priority (not Ray's niceness 15), every actor limited
to one TensorFlow thread (the variables reach the actors through Ray's `runtime_env`),
then shut down whatever happens, so no Ray process outlives the call (as Flower's own
backend does, a Ray the caller had started is shut down too). Flower's telemetry is off
unless the user set `FLWR_TELEMETRY_ENABLED`.

`flwr.simulation.run_simulation` is the Python entry to the simulation engine; Flower
1.42 marks it deprecated in favour of `flwr run`, which needs a packaged Flower app
and a SuperLink process. A library call that returns a report needs the in-process
entry, so this module uses it and silences the deprecation line with Flower's logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import time
import warnings

from kerasopt.core.errors import MissingDependencyError

#: The server strategies `federated` runs, each Flower's own class.
FEDERATED_STRATEGIES = ("fedavg", "fedprox", "fedadam")
#: FedAdam's server learning rate (Reddi et al., 2020 tune it in [1e-3, 1]).
FEDADAM_ETA = 1e-2
INSTALL_FIX = 'Install Flower\'s simulation engine: pip install "kerasopt[federated]".'
logger = logging.getLogger(__name__)
_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """What `simulate` returns.

    Attributes:
        weights: The final global weights.
        accuracy: Held-out accuracy of the global model after round `r` (`[0]`: the
            initial model).
        bytes_down: `ArrayRecord` bytes sent to the clients in each round.
        bytes_up: `ArrayRecord` bytes received from the clients in each round.
        sampled: Clients trained in each round.
        train_loss: Clients' mean final training loss in each round (weighted by
            samples).
        seconds: Wall time of `run_simulation`, Ray's start and stop included.
        round_ends: Seconds from the call until each round's replies were in (the first
            includes starting Ray, the actors' TensorFlow import and first trace).
    """

    weights: list
    accuracy: list[float]
    bytes_down: list[int]
    bytes_up: list[int]
    sampled: list[int]
    train_loss: list[float]
    seconds: float
    round_ends: list[float]


def require_flower():
    """Imports Flower's simulation engine, or raises `MissingDependencyError` with the fix."""
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # read once, at Flower's import
    try:
        import flwr.simulation  # noqa: F401
        import ray  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            f"federated: expected the packages flwr and ray. Received: {error}. {INSTALL_FIX}"
        ) from error


def _strategy(name: str, clients: int, sampled: int, mu: float, counts: dict, averaged):
    import numpy as np
    from flwr.app import Array
    from flwr.serverapp.strategy import FedAdam, FedAvg, FedProx

    base = {"fedavg": FedAvg, "fedprox": FedProx, "fedadam": FedAdam}[name]

    class Counting(base):
        """Flower's strategy, counting the bytes each round moves."""

        def configure_train(self, server_round, arrays, config, grid):
            messages = list(super().configure_train(server_round, arrays, config, grid))
            counts["down"].append(arrays.count_bytes() * len(messages))
            counts["sampled"].append(len(messages))
            return messages

        def aggregate_train(self, server_round, replies):
            replies = list(replies)
            counts["up"].append(
                sum(r.content["arrays"].count_bytes() for r in replies if not r.has_error())
            )
            errors = [r.error.reason for r in replies if r.has_error()]
            if errors:
                counts["errors"].extend(errors)
            counts["ends"].append(time.perf_counter())
            arrays, metrics = super().aggregate_train(server_round, replies)
            if name == "fedadam" and arrays is not None:
                mean, _ = FedAvg.aggregate_train(self, server_round, replies)
                sent = next(r.content["arrays"] for r in replies if not r.has_error())
                for key in mean:
                    # Running statistics (BatchNorm's moving mean and variance) are
                    # averages, not parameters: FedAdam's step of about eta per round
                    # left them near their initial values, and the global model's
                    # accuracy fell from 0.89 to 0.24 on digits. They take the FedAvg
                    # mean. FedAdam's NumPy update also returns float64: cast back to
                    # the clients' dtype, or every download doubles in size.
                    value = mean[key] if key in averaged else arrays[key]
                    dtype = np.dtype(sent[key].dtype)
                    arrays[key] = Array(np.asarray(value.numpy(), dtype=dtype))
            return arrays, metrics

    options = {
        "fraction_train": sampled / clients,
        "fraction_evaluate": 0.0,  # the server evaluates the global model itself
        "min_train_nodes": sampled,
        "min_evaluate_nodes": 0,
        "min_available_nodes": clients,
    }
    if name == "fedprox":
        options["proximal_mu"] = mu
    if name == "fedadam":
        options["eta"] = FEDADAM_ETA
    return Counting(**options)


@contextlib.contextmanager
def _flower_logs(verbose: int):
    logger = logging.getLogger("flwr")
    level = logger.level
    logger.setLevel(logging.INFO if verbose else logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _start_ray(parallel_clients: int, verbose: int) -> None:
    import ray

    if ray.is_initialized():
        return
    # The actors import kerasopt and the pickled builder's modules from the caller's path.
    paths = [*sys.path, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    pythonpath = os.pathsep.join(p for p in paths if p)
    env = {**_THREAD_ENV, "PYTHONPATH": pythonpath, "FLWR_TELEMETRY_ENABLED": "0"}
    with warnings.catch_warnings():  # Ray's FutureWarning about accelerator variables
        warnings.simplefilter("ignore", FutureWarning)
        ray.init(
            num_cpus=parallel_clients,
            include_dashboard=False,
            logging_level=logging.INFO if verbose else logging.ERROR,
            log_to_driver=bool(verbose),
            configure_logging=True,
            runtime_env={"env_vars": env},
            # Ray starts its workers at niceness 15: on a busy machine the clients then
            # starve behind every other process while the server waits for them.
            _system_config={"worker_niceness": 0},
        )


def simulate(
    *,
    folder: str,
    initial_weights: list,
    evaluate,
    clients: int,
    rounds: int,
    strategy: str,
    sampled: int,
    train_config: dict,
    proximal_mu: float,
    statistics: tuple[int, ...] = (),
    parallel_clients: int = 2,
    verbose: int = 0,
) -> SimulationResult:
    """Runs `rounds` rounds of `strategy` over `clients` simulated clients.

    Args:
        folder: Where `federated_client.write_client_files` wrote the shards and builder.
        initial_weights: The global model's starting weights.
        evaluate: `weights -> held-out accuracy`, called in this process every round.
        clients: Number of simulated clients (Flower SuperNodes).
        rounds: Federated rounds.
        strategy: One of `FEDERATED_STRATEGIES`.
        sampled: Clients trained per round.
        train_config: Sent to the clients each round (`local-epochs`, `batch-size`,
            `learning-rate`, `seed`).
        proximal_mu: FedProx's `mu` (sent by Flower's `FedProx` as `proximal-mu`).
        statistics: Indices (in `initial_weights`) of non-trainable running statistics,
            which FedAdam averages instead of stepping. Defaults to `()`.
        parallel_clients: Ray actors, one CPU each. Defaults to `2`.
        verbose: Flower's and Ray's logs when `> 0`. Defaults to `0`.
    """
    require_flower()
    import ray
    from flwr.app import ArrayRecord, ConfigRecord, MetricRecord
    from flwr.serverapp import ServerApp
    from flwr.simulation import run_simulation

    from kerasopt.strategies.federated_client import make_client_app

    statistics = [str(i) for i in statistics]  # ArrayRecord's keys for a list of arrays
    counts = {"down": [], "up": [], "sampled": [], "errors": [], "ends": []}
    outcome: dict = {}
    server_app = ServerApp()

    @server_app.main()
    def main(grid, context) -> None:
        def evaluate_fn(server_round, arrays):
            accuracy = evaluate(arrays.to_numpy_ndarrays())
            logger.info("round %d/%d: global test accuracy %.4f", server_round, rounds, accuracy)
            return MetricRecord({"accuracy": accuracy})

        flower_strategy = _strategy(
            strategy, clients, sampled, proximal_mu, counts, averaged=statistics
        )
        outcome["result"] = flower_strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord(list(initial_weights)),
            num_rounds=rounds,
            train_config=ConfigRecord(dict(train_config)),
            evaluate_fn=evaluate_fn,
        )

    backend_config = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {"num_cpus": parallel_clients, "include_dashboard": False},
    }
    started = time.perf_counter()
    try:
        with _flower_logs(verbose):
            _start_ray(parallel_clients, verbose)
            run_simulation(
                server_app=server_app,
                client_app=make_client_app(folder),
                num_supernodes=clients,
                backend_config=backend_config,
            )
    finally:
        if ray.is_initialized():
            ray.shutdown()
    seconds = time.perf_counter() - started
    if counts["errors"] or "result" not in outcome:
        reason = counts["errors"][0] if counts["errors"] else "the ServerApp did not finish"
        raise RuntimeError(f"federated: a Flower client failed: {reason}")
    result = outcome["result"]
    history = result.evaluate_metrics_serverapp
    losses = result.train_metrics_clientapp
    return SimulationResult(
        weights=result.arrays.to_numpy_ndarrays(),
        accuracy=[float(history[r]["accuracy"]) for r in range(rounds + 1)],
        bytes_down=counts["down"],
        bytes_up=counts["up"],
        sampled=counts["sampled"],
        train_loss=[float(losses[r]["train-loss"]) for r in range(1, rounds + 1)],
        seconds=seconds,
        round_ends=[end - started for end in counts["ends"]],
    )
