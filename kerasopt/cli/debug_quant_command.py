"""`kerasopt debug-quant MODEL.keras`: which layers int8 hurts, and what each fix costs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kerasopt.cli.arguments import add_dataset_flags, add_out_flag, add_seed_flag, positive_int
from kerasopt.core.locking import output_lock

DESCRIPTION = (
    "Run TFLite's quantization debugger on MODEL.keras (int8, calibrated on --data's "
    "training split), rank its quantized layers by rmse/scale, and measure on LiteRT, on "
    "the test split: float32, full-integer int8, int8 with the --keep-float worst layers "
    "left float, int16x8, and AI Edge Quantizer's int8 weight-only and int4 blockwise "
    "recipes (skipped without `pip install ai-edge-quantizer==0.10.0`). Writes "
    "quant_debug.json, quant_debug.md, quant_debug.png and one .tflite per option to --out."
)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def add_parser(commands) -> None:
    """Adds `kerasopt debug-quant`."""
    parser = commands.add_parser(
        "debug-quant",
        help="per-layer int8 error, and float32/int8/keep-float/int16x8/AEQ side by side",
        description=DESCRIPTION,
    )
    parser.add_argument("model", metavar="MODEL.keras")
    add_dataset_flags(parser, "dataset", files=True)
    parser.add_argument(
        "--keep-float",
        type=non_negative_int,
        default=3,
        metavar="N",
        help="leave the N worst layers float in the selective int8 file; 0 skips it (default: 3)",
    )
    parser.add_argument(
        "--keep-float-ops",
        type=non_negative_int,
        default=4,
        metavar="K",
        help="leave every op of the K worst op types float in a second selective file; "
        "0 skips it (default: 4)",
    )
    parser.add_argument(
        "--int16x8",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure int16 activations with int8 weights (default: on; its kernels are "
        "slower on CPU)",
    )
    parser.add_argument(
        "--debug-samples",
        type=positive_int,
        default=100,
        metavar="N",
        help="training samples the debugger runs (default: 100)",
    )
    add_seed_flag(parser, 0, "seed of the calibration and debug samples (default: 0)")
    add_out_flag(parser, "output folder (default: MODEL_quant_debug beside MODEL)")
    parser.set_defaults(handler=debug_quant_command)


def debug_quant_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt debug-quant`; returns the exit code."""
    source = Path(args.model)
    out = Path(args.out) if args.out else source.with_name(f"{source.stem}_quant_debug")
    with output_lock(out, args.invocation):
        from kerasopt.core.atomic import write_bytes_atomic, write_text_atomic
        from kerasopt.data import load_dataset_or_file
        from kerasopt.export.quantization_debug import (
            debug_quantization,
            plot_quantization_debug,
        )
        from kerasopt.export.quantization_options import QUANTIZATION_OPTIONS
        from kerasopt.models import load_model_safely

        model = load_model_safely(source)
        data = load_dataset_or_file(args.data, args.data_path)
        options = [name for name in QUANTIZATION_OPTIONS if args.int16x8 or name != "int16x8"]
        report = debug_quantization(
            model,
            data.x_train,
            data.x_test,
            data.y_test,
            keep_float=args.keep_float,
            keep_float_ops=args.keep_float_ops,
            options=options,
            seed=args.seed,
            debug_samples=args.debug_samples,
        )
        for option in report.options:
            if option.content is not None:
                write_bytes_atomic(out / f"{option.name}.tflite", option.content)
        write_text_atomic(out / "quant_debug.json", json.dumps(report.to_dict(), indent=2) + "\n")
        write_text_atomic(out / "quant_debug.md", report.to_markdown())
        plot_quantization_debug(report, out / "quant_debug.png")
    print(report.summary_table())
    worst = ", ".join(f"{layer.op_name} {layer.rmse_over_scale:.2f}" for layer in report.layers[:3])
    print(f"worst layers (rmse/scale): {worst}")
    print(f"wrote {out}/quant_debug.json, quant_debug.md, quant_debug.png and the .tflite files")
    return 0
