"""`kerasopt evaluate MODEL` and `kerasopt export MODEL.keras`: one file, measured on LiteRT."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerasopt.cli.arguments import add_dataset_flags, add_out_flag
from kerasopt.core.errors import MissingFileError


def add_parsers(commands) -> None:
    """Adds `kerasopt evaluate` and `kerasopt export`."""
    from kerasopt.export.tflite_converter import TFLITE_VARIANTS

    evaluate = commands.add_parser(
        "evaluate",
        help="measure a .tflite or .keras model on a dataset's test split",
        description="Accuracy on the test split; for .tflite also sizes and LiteRT latency.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a .tflite or .keras file")
    add_dataset_flags(evaluate, "dataset whose test split is used")
    evaluate.set_defaults(handler=evaluate_command)

    export = commands.add_parser(
        "export",
        help="convert a .keras model to TFLite and verify it on LiteRT",
        description="Convert MODEL.keras to TFLite (int8 calibrates on --data) and verify it.",
    )
    export.add_argument("model", metavar="MODEL.keras")
    export.add_argument(
        "--quantize",
        choices=[*TFLITE_VARIANTS[1:], "none"],
        default="int8",
        help="int8 (full-integer), float16, dynamic (int8 weights), none (float32)",
    )
    add_dataset_flags(export, "dataset for calibration and verification")
    add_out_flag(export, "output .tflite (default: beside MODEL)", metavar="FILE")
    export.set_defaults(handler=export_command)


def evaluate_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt evaluate`; returns the exit code."""
    from kerasopt.data import load_dataset
    from kerasopt.export import measure_tflite
    from kerasopt.models import load_model_safely

    data = load_dataset(args.data, args.data_path)
    path = Path(args.model)
    if path.suffix == ".tflite":
        if not path.is_file():
            raise MissingFileError(
                f"No TFLite file at {str(path)!r}. Pass the path of a .tflite file, e.g. "
                "saved_models/digits/model_int8.tflite."
            )
        metrics = measure_tflite(path.read_bytes(), data.x_test, data.y_test)
        print(
            f"{path.name}: accuracy {metrics.accuracy:.4f} on {metrics.samples} test samples, "
            f"{metrics.bytes:,} bytes ({metrics.gzip_bytes:,} gzip), "
            f"latency {metrics.latency_us:.0f} µs (batch 1, one thread)"
        )
    else:
        model = load_model_safely(path)
        probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
        accuracy = float((probabilities.argmax(-1) == data.y_test).mean())
        print(f"{path.name}: accuracy {accuracy:.4f} on {len(data.y_test)} test samples")
    return 0


def export_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt export`; returns the exit code."""
    from kerasopt.core.atomic import write_bytes_atomic
    from kerasopt.data import load_dataset
    from kerasopt.export import convert_to_tflite, measure_tflite
    from kerasopt.export.tensor_names import deployable_bytes
    from kerasopt.models import load_model_safely

    variant = "float32" if args.quantize == "none" else args.quantize
    model = load_model_safely(args.model)
    data = load_dataset(args.data, args.data_path)
    content = convert_to_tflite(model, variant, representative_data=data.x_train)
    content = deployable_bytes(content, variant)
    source = Path(args.model)
    out = Path(args.out) if args.out else source.with_name(f"{source.stem}_{variant}.tflite")
    metrics = measure_tflite(
        content,
        data.x_test,
        data.y_test,
        variant=variant,
        reference_probabilities=model.predict(data.x_test, batch_size=256, verbose=0),
        require_full_integer=variant == "int8",
    )
    write_bytes_atomic(out, content)
    print(
        f"wrote {out} ({variant}): accuracy {metrics.accuracy:.4f}, agreement with Keras "
        f"{metrics.agreement:.2%}, {metrics.bytes:,} bytes ({metrics.gzip_bytes:,} gzip), "
        f"latency {metrics.latency_us:.0f} µs"
    )
    return 0
