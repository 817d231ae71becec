"""`kerasopt run SCENARIO`: train, export, verify on LiteRT, report (and maybe compress)."""

from __future__ import annotations

import argparse
import contextlib

from kerasopt.cli.arguments import (
    add_compression_flags,
    add_data_path_flag,
    add_out_flag,
    add_seed_flag,
    compression_options,
    positive_int,
)
from kerasopt.core.locking import output_lock
from kerasopt.training.fused_batch_norm import BATCH_NORM_KERNELS
from kerasopt.training.mixed_precision import PRECISIONS

DESCRIPTION = (
    "Train a scenario's model, export its TFLite files (images: float32, dynamic, float16 "
    "and int8), verify each on the LiteRT interpreter against Keras, and write model.keras, "
    "*.tflite, report.json, report.md and PNG plots. A killed run started again with the "
    "same --out resumes from its last finished epoch."
)


class ScenarioNames:
    """argparse `choices` for SCENARIO, read from the registry only when help is shown.

    Listing the names imports the built-in scenarios (and with them Keras), which
    `kerasopt --help` must not pay for; a name is checked by `get_scenario`, whose error
    lists the registered names (user scenarios included) and the closest one.
    """

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self):
        from kerasopt.scenarios import scenario_names

        return iter(scenario_names())


def add_parser(commands) -> None:
    """Adds `kerasopt run`."""
    run = commands.add_parser(
        "run",
        help="train, export every TFLite variant, verify on LiteRT, write the report",
        description=DESCRIPTION,
    )
    run.add_argument(
        "scenario",
        metavar="SCENARIO",
        choices=ScenarioNames(),
        help="what to train: %(choices)s, or one registered with "
        "kerasopt.scenarios.register_scenario ('digits' needs no network)",
    )
    add_data_path_flag(
        run,
        "a local file instead of the download (.npz with x_train, y_train, x_test, "
        "y_test; for imdb an aclImdb folder)",
    )
    run.add_argument("--model", metavar="NAME", help="one of the scenario's models")
    add_out_flag(run, "output folder (default: saved_models/SCENARIO/)")
    run.add_argument(
        "--epochs", type=positive_int, metavar="N", help="override the scenario's epochs"
    )
    add_seed_flag(run, None, "random seed (default: 0)")
    run.add_argument("--quick", action="store_true", help="a few epochs only: a smoke run")
    run.add_argument(
        "--strategy",
        metavar="mirrored|multiworker",
        help="train data-parallel under tf.distribute: 'mirrored' over every GPU of this "
        "machine (the recipe's batch size is per replica); 'multiworker' is refused, "
        "Keras 3 breaks it (keras-team/keras#20585)",
    )
    run.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="compute dtype of training: 'mixed_bfloat16' computes in bfloat16 with "
        "float32 weights (the saved model stays float32); 'auto' uses it where the CPU "
        "has bfloat16 units (AMX, AVX512-BF16). Default: the scenario's recipe",
    )
    run.add_argument(
        "--batch-norm",
        choices=BATCH_NORM_KERNELS,
        help="how BatchNormalization trains: 'fused' (TensorFlow's fused kernel; the "
        "saved model is unchanged) or 'keras' (Keras' own ops, as measurements before "
        "the fused kernel ran). Default: the scenario's recipe",
    )
    run.add_argument(
        "--train-on-validation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fit on the training and validation splits together, the final fit of a "
        "recipe chosen on validation (no early stopping then); --no-train-on-validation "
        "holds validation out, as compression needs. Default: the scenario's recipe",
    )
    run.add_argument(
        "--mirror-average",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="save and export the trained image classifier averaged over each image and its "
        "left-right mirror (test-time augmentation inside the model: no new weights, twice "
        "the inference arithmetic), for classes that stay the same mirrored. Default: the "
        "scenario's (on for fashion_mnist's residual model)",
    )
    add_compression_flags(run)
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt run`; returns the exit code."""
    from kerasopt.scenarios import get_scenario
    from kerasopt.training import check_strategy

    check_strategy(args.strategy)  # before the lock creates --out
    scenario = get_scenario(args.scenario)
    compress = compression_options(args)  # the scenario refuses them if not compressible
    lock = output_lock(args.out, args.invocation) if args.out else contextlib.nullcontext()
    with lock:
        from kerasopt.pipeline import run_scenario

        report = run_scenario(
            scenario.name,
            out_dir=args.out,
            data_path=args.data,
            model=args.model,
            epochs=args.epochs,
            seed=args.seed,
            quick=args.quick,
            compress=compress,
            strategy=args.strategy,
            precision=args.precision,
            batch_norm=args.batch_norm,
            train_on_validation=args.train_on_validation,
            mirror_average=args.mirror_average,
        )
    print()
    print(report.summary_table())
    return 0
