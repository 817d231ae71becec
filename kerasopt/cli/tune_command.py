"""`kerasopt tune SPEC.toml`: a keras-tuner search (or GridSearchCV) from a TOML spec."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerasopt.core.errors import InvalidValueError

DESCRIPTION = """\
Run the hyperparameter search a TOML spec describes (specs live in tuning/). Writes
trials.csv, best_hyperparameters.json, best_model.keras, objective.png and search.json to
--out. Started again with the same --out, a killed search resumes: finished trials are
kept, the interrupted one runs again. --overwrite starts afresh.

Distributed (keras-tuner's chief/worker mode over gRPC), on any number of machines that
share --out (e.g. NFS) and reach the chief's HOST:PORT:
  kerasopt tune tuning/digits.toml --out runs/d --distributed chief --oracle 10.0.0.5:8000
  kerasopt tune tuning/digits.toml --out runs/d --distributed worker --oracle 10.0.0.5:8000 \\
      --tuner-id worker0
"""


def add_tune_parser(commands, positive_int) -> None:
    """Adds the `tune` subcommand to the `kerasopt` parser."""
    tune = commands.add_parser(
        "tune",
        help="hyperparameter search from a TOML spec (keras-tuner or scikit-learn)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("spec", metavar="SPEC.toml", help="search spec, e.g. tuning/digits.toml")
    tune.add_argument(
        "--out", metavar="DIR", help="output folder (default: saved_models/tune_SPEC/)"
    )
    tune.add_argument(
        "--max-trials", type=positive_int, metavar="N", help="override the spec's max_trials"
    )
    tune.add_argument("--overwrite", action="store_true", help="start afresh, do not resume")
    tune.add_argument(
        "--engine",
        choices=["keras-tuner", "sklearn"],
        default="keras-tuner",
        help="keras-tuner (default) or scikit-learn GridSearchCV with SKLearnClassifier",
    )
    tune.add_argument("--data", metavar="PATH", help="local .npz for the spec's dataset")
    tune.add_argument("--distributed", choices=["chief", "worker"], help="keras-tuner role")
    tune.add_argument("--oracle", metavar="HOST:PORT", help="the chief's address")
    tune.add_argument("--tuner-id", metavar="NAME", help="a worker's unique name")
    tune.add_argument(
        "--tensorboard", action="store_true", help="TensorBoard logs with HParams in --out"
    )
    tune.add_argument(
        "--trials-per-process",
        type=positive_int,
        metavar="N",
        help="run N trials per child process, so memory stays flat (TF keeps ~17 MB a fit)",
    )
    tune.add_argument("--stop-after", type=positive_int, help=argparse.SUPPRESS)


def run_tune(args) -> int:
    """Runs `kerasopt tune`; returns the exit code."""
    from kerasopt.tuning import load_search_spec, run_search, sklearn_grid_search

    spec = load_search_spec(args.spec)
    out = Path(args.out) if args.out else Path("saved_models") / f"tune_{spec.name}"
    if args.engine == "sklearn":
        if args.distributed or args.tensorboard:
            raise InvalidValueError("--distributed and --tensorboard need --engine keras-tuner.")
        sklearn_grid_search(spec.with_max_trials(args.max_trials), out, data_path=args.data)
        return 0
    if args.trials_per_process:
        if args.distributed:
            raise InvalidValueError("--trials-per-process runs a local search; drop --distributed.")
        from kerasopt.tuning.process_recycling import run_in_fresh_processes

        passthrough = ["--overwrite"] if args.overwrite else []
        passthrough += ["--max-trials", str(args.max_trials)] if args.max_trials else []
        passthrough += ["--data", args.data] if args.data else []
        passthrough += ["--tensorboard"] if args.tensorboard else []
        run_in_fresh_processes(
            args.spec, out, trials_per_process=args.trials_per_process, arguments=passthrough
        )
        return 0
    summary = run_search(
        spec,
        out,
        max_trials=args.max_trials,
        overwrite=args.overwrite,
        distributed=args.distributed,
        oracle_address=args.oracle,
        tuner_id=args.tuner_id,
        tensorboard=args.tensorboard,
        data_path=args.data,
        stop_after=args.stop_after,
    )
    if summary.get("recycled"):
        from kerasopt.tuning.process_recycling import RECYCLE_EXIT_CODE

        return RECYCLE_EXIT_CODE
    return 0
