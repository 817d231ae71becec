"""`kerasopt compress MODEL.keras`: compress in stages, export int8, measure every stage."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerasopt.cli.arguments import (
    add_compression_flags,
    add_dataset_flags,
    add_out_flag,
    add_seed_flag,
    compression_options,
    positive_int,
)
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.locking import output_lock

#: Exit code of `kerasopt compress --strict` when the accuracy budget was not held.
BUDGET_NOT_HELD = 3

DESCRIPTION = (
    "Compress a trained .keras classifier in stages (channel pruning, then magnitude "
    "pruning, clustering, QAT), fine-tuning after each, export full-integer int8 TFLite, "
    "verify it on LiteRT, and write model.keras, model_int8.tflite, report.json, report.md "
    "and compression.png to --out. MODEL is never modified. Each stage fine-tunes for "
    "--max-epochs and keeps its best epoch on validation; the last line says whether it "
    "stayed within --max-drop points of the dense model's accuracy, and --strict "
    f"makes a budget not held exit with code {BUDGET_NOT_HELD}."
)


def add_parser(commands) -> None:
    """Adds `kerasopt compress`."""
    compress = commands.add_parser(
        "compress",
        help="prune (unstructured, 2:4, channels), export int8 TFLite, measure every stage",
        description=DESCRIPTION,
    )
    compress.add_argument("model", metavar="MODEL.keras")
    add_dataset_flags(compress, "dataset", files=True)
    add_compression_flags(compress)
    compress.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        metavar="N",
        help="fine-tuning epochs every stage runs; the sparsity ramps over the first half "
        "(default: about 320 steps, at least 2 epochs: 8 on digits, 2 on Fashion-MNIST)",
    )
    compress.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="LR",
        help="peak fine-tuning rate (default: 1e-2; 1e-3 with --backend tfmot)",
    )
    compress.add_argument(
        "--analyze",
        action="store_true",
        help="only measure each layer's pruning sensitivity (one-shot, validation split): "
        "write sensitivity.json, sensitivity.md and sensitivity.png to --out",
    )
    compress.add_argument(
        "--strict",
        action="store_true",
        help=f"exit with code {BUDGET_NOT_HELD} when the accuracy budget (--max-drop) is not held",
    )
    add_seed_flag(compress, 0, "random seed (default: 0)")
    add_out_flag(compress, "output folder", required=True)
    compress.set_defaults(handler=compress_command)


def compress_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt compress`; returns the exit code."""
    source, out = Path(args.model).resolve(), Path(args.out).resolve()
    if source == out / "model.keras":
        raise InvalidValueError(
            f"--out {args.out} would overwrite the input model {args.model}; MODEL is never "
            "modified. Choose another --out folder."
        )
    if args.analyze:
        return _analyze(args)
    options = compression_options(args) or {}
    with output_lock(args.out, args.invocation):
        from kerasopt.compress import compress_model
        from kerasopt.data import load_dataset_or_file
        from kerasopt.models import load_model_safely

        model = load_model_safely(args.model)
        data = load_dataset_or_file(args.data, args.data_path)
        report = compress_model(
            model,
            data,
            **options,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            out_dir=args.out,
            seed=args.seed,
            verbose=0,
        )
    print(report.table())
    for layer, reason in report.left_dense.items():
        print(f"left dense: {layer}: {reason}")
    print(
        f"\ngzip(int8 of the last stage) / gzip(dense float32) = {report.gzip_vs_dense_float32:.3f}"
    )
    print(f"Wrote model.keras, model_int8.tflite, report.md and compression.png to {args.out}/")
    if report.budget is not None:
        print(report.budget.line())
        if args.strict and not report.budget.held:
            return BUDGET_NOT_HELD
    return 0


def _analyze(args: argparse.Namespace) -> int:
    """`--analyze`: the sensitivity table, plot and JSON; no compression."""
    import json

    from kerasopt.compress.pruning_sensitivity import analyze_sensitivity
    from kerasopt.core.atomic import write_text_atomic
    from kerasopt.data import load_dataset_or_file
    from kerasopt.models import load_model_safely

    out = Path(args.out)
    with output_lock(out, args.invocation):
        model = load_model_safely(args.model)
        data = load_dataset_or_file(args.data, args.data_path)
        report = analyze_sensitivity(model, data)
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "sensitivity.json", json.dumps(report.to_dict(), indent=2))
        write_text_atomic(out / "sensitivity.md", report.to_markdown())
        report.plot(out / "sensitivity.png")
    print(report.table())
    print(f"\nWrote sensitivity.json, sensitivity.md and sensitivity.png to {args.out}/")
    return 0
