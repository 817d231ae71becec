"""`kerasopt transfer SOURCE.keras --data ... --cut LAYER`: fine-tune a backbone, vs scratch."""

from __future__ import annotations

import argparse

from kerasopt.cli.arguments import (
    add_dataset_flags,
    add_out_flag,
    add_seed_flag,
    class_list,
    positive_int,
)

DESCRIPTION = (
    "Transfer learning: cut a trained .keras model at --cut LAYER, put a new head on it "
    "(flattening or pooling, dropout, softmax), train the head with the backbone frozen "
    "(BatchNormalization kept in inference mode), then fine-tune the top --unfreeze "
    "weighted layers at a tenth of the rate. The same architecture trained from scratch on "
    "the same images for the same epochs is the baseline (--no-scratch skips it). Both are "
    "exported to full-integer int8 TFLite and measured on LiteRT; transfer.keras, "
    "transfer_int8.tflite, report.json and report.md go to --out."
)


def add_parser(commands) -> None:
    """Adds `kerasopt transfer`."""
    parser = commands.add_parser(
        "transfer",
        help="fine-tune a trained model's backbone on a new task, measure it vs scratch as int8",
        description=DESCRIPTION,
    )
    parser.add_argument("source", metavar="SOURCE.keras", help="the trained source model")
    add_dataset_flags(parser, "dataset", files=True)
    parser.add_argument("--cut", required=True, metavar="LAYER", help="last source layer kept")
    parser.add_argument(
        "--classes",
        type=class_list,
        metavar="5,6,7|5-9",
        help="class ids of --data forming the target task (default: all)",
    )
    parser.add_argument(
        "--per-class",
        type=positive_int,
        metavar="N",
        help="labelled training images per class, seeded (default: all)",
    )
    for flag, default, help in (
        ("--epochs", 20, "head epochs, backbone frozen (default: 20)"),
        ("--fine-tune-epochs", 10, "fine-tuning epochs, 0 skips them (default: 10)"),
        ("--unfreeze", 2, "weighted backbone layers fine-tuned, from the top (default: 2)"),
    ):
        parser.add_argument(flag, type=int, default=default, metavar="N", help=help)
    parser.add_argument(
        "--lr",
        type=float,
        default=3e-3,
        metavar="RATE",
        help="head and scratch learning rate; fine-tuning uses a tenth (default: 3e-3)",
    )
    parser.add_argument(
        "--head",
        default="flatten",
        metavar="flatten|pool",
        help="how the head reduces a 4-D cut output (default: flatten)",
    )
    parser.add_argument(
        "--head-init",
        default="probe",
        metavar="probe|random",
        help="start the head from a logistic regression on the frozen features (probe), "
        "or at random (default: probe)",
    )
    parser.add_argument(
        "--no-scratch",
        dest="scratch",
        action="store_false",
        help="skip the from-scratch baseline",
    )
    add_seed_flag(parser, 0, "random seed (default: 0)")
    add_out_flag(parser, "output folder", required=True)
    parser.set_defaults(handler=transfer_command)


def transfer_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt transfer`; returns the exit code."""
    from kerasopt.data import load_dataset_or_file
    from kerasopt.strategies import transfer

    data = load_dataset_or_file(args.data, args.data_path)
    # `transfer` checks every argument before it takes the --out lock, so a mistake
    # leaves no folder behind.
    report = transfer(
        args.source,
        data,
        cut=args.cut,
        classes=args.classes,
        per_class=args.per_class,
        head_epochs=args.epochs,
        fine_tune_epochs=args.fine_tune_epochs,
        unfreeze=args.unfreeze,
        learning_rate=args.lr,
        head=args.head,
        head_init=args.head_init,
        compare_scratch=args.scratch,
        seed=args.seed,
        out_dir=args.out,
        verbose=0 if args.per_class else 2,  # a line per epoch on a whole dataset
    )
    print(report.table())
    print(f"\n{report.summary()}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"Wrote transfer.keras, transfer_int8.tflite, report.json and report.md to {args.out}/")
    return 0
