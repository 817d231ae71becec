"""`kerasopt fewshot --data SCENARIO|PATH --ways K --shots S`: Reptile vs scratch vs fine-tune."""

from __future__ import annotations

import argparse

from kerasopt.cli.arguments import (
    add_dataset_flags,
    add_out_flag,
    add_seed_flag,
    class_ids,
    positive_int,
)
from kerasopt.core.locking import output_lock
from kerasopt.core.validation import invalid_value

DESCRIPTION = (
    "Few-shot meta-learning: meta-train an initialisation with Reptile on some classes "
    "(by default the first half), then score K-way S-shot episodes on the held-out classes "
    "against training from scratch and against fine-tuning a model pre-trained on the "
    "meta-train classes, all adapted the same way on the same support sets. Each start is "
    "then adapted on S images per held-out class, exported to full-integer int8 and "
    "measured on LiteRT. fewshot.keras (the meta-learned init), adapted_int8.tflite, "
    "report.json and report.md go to --out."
)


def add_parser(commands) -> None:
    """Adds `kerasopt fewshot`."""
    parser = commands.add_parser(
        "fewshot",
        help="meta-learn a few-shot init (Reptile), compare on held-out classes, export int8",
        description=DESCRIPTION,
    )
    add_dataset_flags(parser, "dataset", files=True)
    parser.add_argument("--ways", type=int, default=5, metavar="K", help="classes per task")
    parser.add_argument(
        "--shots", type=int, default=1, metavar="S", help="support images per class (default: 1)"
    )
    parser.add_argument(
        "--method", default="reptile", metavar="reptile", help="meta-learner (default: reptile)"
    )
    parser.add_argument(
        "--meta-classes",
        metavar="IDS",
        help="meta-train classes, e.g. 0-4 or 0,2,4 (default: first half)",
    )
    parser.add_argument(
        "--test-classes", metavar="IDS", help="held-out classes, e.g. 5-9 (default: the rest)"
    )
    counts = [
        ("--meta-iterations", 2000, "Reptile outer steps"),
        ("--inner-steps", 5, "Adam steps per meta-training task"),
        ("--adapt-steps", 5, "adaptation steps on a support set, every method"),
        ("--long-adapt-steps", 50, "a second, longer adaptation on the same episodes"),
        ("--episodes", 100, "held-out episodes scored"),
        ("--pretrain-epochs", 10, "epochs of the pre-trained baseline"),
    ]
    for flag, default, text in counts:
        parser.add_argument(
            flag,
            type=positive_int,
            default=default,
            metavar="N",
            help=f"{text} (default: {default})",
        )
    add_seed_flag(parser, 0, "random seed (default: 0)")
    add_out_flag(parser, "output folder", required=True)
    parser.set_defaults(handler=fewshot_command)


def parse_classes(flag: str, text: str | None) -> list[int] | None:
    """`"0-4"` -> `[0, 1, 2, 3, 4]`, `"1,3,5"` -> `[1, 3, 5]`, `None` -> `None`.

    Example:

    >>> parse_classes("--test-classes", "5-7,9")
    [5, 6, 7, 9]
    """
    if text is None:
        return None
    try:
        return class_ids(text)
    except ValueError:
        raise invalid_value(
            "fewshot", f"{flag} as class ids like 0-4 or 0,2,4", f"{flag} {text}", ""
        ) from None


def fewshot_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt fewshot`; returns the exit code."""
    from kerasopt.core.validation import check_option
    from kerasopt.data import load_dataset_or_file
    from kerasopt.strategies import FEWSHOT_METHODS, check_fewshot

    check_option("fewshot", "method", args.method, FEWSHOT_METHODS)  # before loading anything
    meta = parse_classes("--meta-classes", args.meta_classes)
    test = parse_classes("--test-classes", args.test_classes)
    data = load_dataset_or_file(args.data, args.data_path)
    task = {"ways": args.ways, "shots": args.shots, "method": args.method}
    task |= {"meta_classes": meta, "test_classes": test}
    check_fewshot(data, **task)  # before --out exists, and before TensorFlow loads
    from kerasopt.strategies import fewshot

    with output_lock(args.out, args.invocation):
        report = fewshot(
            data,
            **task,
            meta_iterations=args.meta_iterations,
            inner_steps=args.inner_steps,
            adapt_steps=args.adapt_steps,
            long_adapt_steps=args.long_adapt_steps,
            episodes=args.episodes,
            pretrain_epochs=args.pretrain_epochs,
            seed=args.seed,
            out_dir=args.out,
        )
    print(report.table())
    print(f"\n{report.summary()}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"Wrote fewshot.keras, adapted_int8.tflite, report.json and report.md to {args.out}/")
    return 0
