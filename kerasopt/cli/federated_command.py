"""`kerasopt federated --data SCENARIO|PATH`: federated learning on Flower, int8 global model."""

from __future__ import annotations

import argparse

from kerasopt.cli.arguments import add_dataset_flags, add_out_flag, add_seed_flag, positive_int
from kerasopt.core.locking import output_lock

DESCRIPTION = (
    "Train one model by federated learning on Flower's simulation engine (Ray; started and "
    "stopped by the command): the training split is partitioned among --clients simulated "
    "clients (iid, or Dirichlet label skew), each training the scenario's Keras model (build_cnn "
    "for a .npz) on its shard; the server aggregates with Flower's FedAvg, FedProx (clients "
    "add the proximal term) or FedAdam and scores the global model on the test split after "
    "every round. The same model trained centrally on the same data gives the gap. The "
    "global model is exported to full-integer int8 and measured on LiteRT; global.keras, "
    "global_int8.tflite, report.json, report.md and rounds.png go to --out. Needs "
    'pip install "kerasopt[federated]".'
)


def add_parser(commands) -> None:
    """Adds `kerasopt federated`."""
    parser = commands.add_parser(
        "federated",
        help="federated learning on Flower (FedAvg/FedProx/FedAdam), global model as int8",
        description=DESCRIPTION,
    )
    add_dataset_flags(parser, "dataset", files=True)
    parser.add_argument(
        "--clients", type=int, default=10, metavar="N", help="simulated clients >= 2 (default: 10)"
    )
    parser.add_argument(
        "--rounds", type=int, default=30, metavar="R", help="federated rounds (default: 30)"
    )
    parser.add_argument(
        "--strategy",
        default="fedavg",
        metavar="fedavg|fedprox|fedadam",
        help="Flower's server strategy (default: fedavg)",
    )
    parser.add_argument(
        "--partition",
        default="dirichlet:0.5",
        metavar="iid|dirichlet:ALPHA",
        help="how the training split is shared: iid, or label skew with Dirichlet(ALPHA); "
        "smaller ALPHA, fewer classes per client (default: dirichlet:0.5)",
    )
    parser.add_argument(
        "--local-epochs",
        type=positive_int,
        default=2,
        metavar="E",
        help="epochs each client trains per round (default: 2)",
    )
    parser.add_argument(
        "--mu",
        type=float,
        metavar="MU",
        help="FedProx proximal weight mu (default: 0.01 with fedprox, else 0)",
    )
    parser.add_argument(
        "--fraction-fit",
        type=float,
        default=1.0,
        metavar="F",
        help="share of the clients trained each round (default: 1.0)",
    )
    parser.add_argument(
        "--no-central",
        dest="central",
        action="store_false",
        help="skip the centrally trained model (no gap in the report)",
    )
    parser.add_argument(
        "--parallel",
        type=positive_int,
        default=2,
        metavar="N",
        help="clients training at once, one Ray actor and one CPU each (default: 2)",
    )
    add_seed_flag(parser, 0, "seed of the partition, weights and shuffling (default: 0)")
    add_out_flag(parser, "output folder", required=True)
    parser.set_defaults(handler=federated_command)


def federated_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt federated`; returns the exit code."""
    from kerasopt.cli.ensemble_command import member_builder
    from kerasopt.data import load_dataset_or_file
    from kerasopt.strategies import check_federated, federated, partition, require_flower

    options = {"clients": args.clients, "rounds": args.rounds, "strategy": args.strategy}
    options |= {"local_epochs": args.local_epochs, "proximal_mu": args.mu}
    options |= {"fraction_fit": args.fraction_fit, "parallel_clients": args.parallel}
    check_federated(partition_spec=args.partition, **options)  # before loading anything
    require_flower()
    data = load_dataset_or_file(args.data, args.data_path)
    check_federated(partition_spec=args.partition, num_samples=len(data.y_train), **options)
    # A Dirichlet split that starves a client is refused here, before --out exists.
    partition(data.y_train, args.clients, args.partition, seed=args.seed)
    with output_lock(args.out, args.invocation):
        report = federated(
            data,
            clients=args.clients,
            rounds=args.rounds,
            strategy=args.strategy,
            partition=args.partition,
            local_epochs=args.local_epochs,
            proximal_mu=args.mu,
            fraction_fit=args.fraction_fit,
            central=args.central,
            seed=args.seed,
            parallel_clients=args.parallel,
            build_model=member_builder(args.data, data),
            out_dir=args.out,
        )
    print(report.table())
    print(f"\n{report.summary()}")
    for note in report.notes:
        print(f"note: {note}")
    print(
        "Wrote global.keras, global_int8.tflite, report.json, report.md and rounds.png to "
        f"{args.out}/"
    )
    return 0
