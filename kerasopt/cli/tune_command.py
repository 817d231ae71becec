"""`kerasopt tune SPEC.toml`: a keras-tuner search (or GridSearchCV) from a TOML spec."""

from __future__ import annotations

import argparse
import contextlib

from kerasopt.cli.arguments import add_data_path_flag, add_out_flag, positive_int
from kerasopt.core.locking import output_lock

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


def add_parser(commands) -> None:
    """Adds `kerasopt tune`."""
    tune = commands.add_parser(
        "tune",
        help="hyperparameter search from a TOML spec (keras-tuner or scikit-learn)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("spec", metavar="SPEC.toml", help="search spec, e.g. tuning/digits.toml")
    add_out_flag(tune, "output folder (default: saved_models/tune_SPEC/)")
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
    add_data_path_flag(tune, "local .npz for the spec's dataset")
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
    tune.set_defaults(handler=tune_command)


def tune_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt tune`; returns the exit code."""
    from kerasopt.tuning import SearchJob, load_search_spec

    job = SearchJob(
        spec=args.spec,
        out=args.out,
        max_trials=args.max_trials,
        overwrite=args.overwrite,
        engine=args.engine,
        data_path=args.data,
        distributed=args.distributed,
        oracle=args.oracle,
        tuner_id=args.tuner_id,
        tensorboard=args.tensorboard,
        trials_per_process=args.trials_per_process,
        stop_after=args.stop_after,
    )
    job.check()
    # Chief and workers of a distributed search share --out by design.
    lock = contextlib.nullcontext()
    if not args.distributed:
        lock = output_lock(job.out_dir(load_search_spec(args.spec).name), args.invocation)
    with lock:
        report = job.run()
    print(report.summary_text())
    return 0
