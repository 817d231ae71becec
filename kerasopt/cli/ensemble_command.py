"""`kerasopt ensemble --data SCENARIO|PATH`: train members, combine into one model, measure."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerasopt.cli.arguments import (
    add_dataset_flags,
    add_out_flag,
    add_seed_flag,
    positive_int,
    width_multiplier,
)
from kerasopt.core.locking import output_lock

DESCRIPTION = (
    "Train an ensemble of classifiers and combine it into ONE Keras model with one input "
    "and one output: bagging (each member on a bootstrap sample), adaboost (SAMME, sample "
    "weights, alpha-weighted probabilities) or snapshot (one model, cosine restarts, a "
    "member per cycle). Members are the scenario's model (build_cnn for a .npz). Every "
    "member and the ensemble are exported to full-integer int8 TFLite and measured on "
    "LiteRT; ensemble.keras, ensemble_int8.tflite, report.json and report.md go to --out. "
    "--distill W then distils the ensemble into ONE student: its best member (by "
    "validation accuracy) at width W, started from that member's strongest channels, "
    "through keras.distillation, beside the same student trained on labels only, in "
    "--out/student/."
)


def add_parser(commands) -> None:
    """Adds `kerasopt ensemble`."""
    parser = commands.add_parser(
        "ensemble",
        help="train a bagging/AdaBoost/snapshot ensemble as one model, measure it as int8",
        description=DESCRIPTION,
    )
    add_dataset_flags(parser, "dataset", files=True)
    parser.add_argument(
        "--method",
        default="bagging",
        metavar="bagging|adaboost|snapshot",
        help="how members are trained and combined (default: bagging)",
    )
    parser.add_argument(
        "--members", type=int, default=5, metavar="N", help="number of members >= 2 (default: 5)"
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=10,
        metavar="E",
        help="epochs per member, per cycle for snapshot (default: 10)",
    )
    parser.add_argument(
        "--distill",
        type=width_multiplier,
        default=None,
        metavar="W",
        help="then distil the ensemble into one student: its best member's architecture at "
        "width W in (0, 1] (1 for a member's size), started from that member's strongest "
        "channels; written to OUT/student/",
    )
    parser.add_argument(
        "--distill-epochs",
        type=positive_int,
        default=None,
        metavar="E",
        help="epochs of the student and of its labels-only twin (default: --epochs)",
    )
    add_seed_flag(parser, 0, "random seed (default: 0)")
    add_out_flag(parser, "output folder", required=True)
    parser.set_defaults(handler=ensemble_command)


def member_builder(name: str, data):
    """The registered scenario's default model for `--data NAME`, or `None` (a file)."""
    from kerasopt.scenarios import get_scenario
    from kerasopt.scenarios.scenario import ScenarioData

    try:
        scenario = get_scenario(name)
    except (KeyError, ValueError):
        return None
    return lambda: scenario.build_model(ScenarioData(data), scenario.models[0])


def ensemble_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt ensemble`; returns the exit code."""
    from kerasopt.data import load_dataset_or_file
    from kerasopt.strategies import check_members, ensemble

    check_members(args.method, args.members, 2**31)  # before loading anything
    data = load_dataset_or_file(args.data, args.data_path)
    check_members(args.method, args.members, len(data.y_train))  # before --out exists
    build_model = member_builder(args.data, data)
    with output_lock(args.out, args.invocation):
        report = ensemble(
            data,
            method=args.method,
            members=args.members,
            build_model=build_model,
            epochs=args.epochs,
            seed=args.seed,
            out_dir=args.out,
            verbose=2,  # Keras' line per epoch: members train for minutes on real data
        )
    print(report.table())
    print(f"\n{report.summary()}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"Wrote ensemble.keras, ensemble_int8.tflite, report.json and report.md to {args.out}/")
    if args.distill is not None:
        _distill_ensemble(args, report.model, data)
    return 0


def _distill_ensemble(args: argparse.Namespace, teacher, data) -> None:
    """`--distill W`: the ensemble as teacher; the student is its best member at width W,
    started from that member's strongest channels."""
    from kerasopt.compress.distill_student import distill
    from kerasopt.compress.member_student import member_student

    start = member_student(teacher, data, args.distill)
    print(f"\nThe student starts from {start.describe()}.")
    out = Path(args.out) / "student"
    report = distill(
        teacher,
        data,
        student=start.model,
        epochs=args.distill_epochs or args.epochs,
        out_dir=out,
        seed=args.seed,
        verbose=2,
    )
    print(f"\nEnsemble distilled into one student (width {args.distill:g}):")
    print(report.table())
    print(f"\n{report.summary()}")
    print(f"Wrote student.keras, student_int8.tflite, report.json and report.md to {out}/")
