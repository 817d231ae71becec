"""`kerasopt inspect MODEL.tflite`: what a TFLite file holds, and its latency per thread."""

from __future__ import annotations

import argparse
import json
import os

from kerasopt.data.loaders import DATASETS

THREADS = (1, 2, 4)


def add_parser(commands) -> None:
    """Adds `kerasopt inspect`."""
    inspect = commands.add_parser(
        "inspect",
        help="list a .tflite file's ops, dtypes, memory, inputs, metadata and Flex ops",
        description=(
            "Reads MODEL.tflite: ops with their dtypes, constant and activation bytes, "
            "inputs and outputs with quantization, signatures, metadata and an appended "
            "zip of associated files, and Flex ops, which MediaPipe Tasks and plain "
            "LiteRT cannot run. With --data, adds LiteRT latency at 1, 2 and 4 threads."
        ),
    )
    inspect.add_argument("model", metavar="MODEL.tflite")
    # Not add_dataset_flags: there --data is required, here it is optional.
    inspect.add_argument(
        "--data",
        metavar="SCENARIO|PATH",
        help=f"time the model on this dataset's test samples: {', '.join(DATASETS)}, or a "
        ".npz with x_train, y_train, x_test, y_test",
    )
    inspect.add_argument(
        "--data-path", metavar="PATH", help="local idx folder or .npz for a Keras dataset"
    )
    inspect.add_argument("--json", action="store_true", help="print JSON instead of tables")
    inspect.set_defaults(handler=inspect_command)


def inspect_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt inspect`; returns the exit code."""
    from kerasopt.core.tables import text_table
    from kerasopt.export.tflite_inspection import inspect_tflite

    inspection = inspect_tflite(args.model)
    latency = None
    if args.data:
        from kerasopt.data import load_dataset_or_file
        from kerasopt.export.thread_latency import measure_latency_by_threads

        data = load_dataset_or_file(args.data, args.data_path)
        latency = measure_latency_by_threads(args.model, data.x_test, THREADS)
    if args.json:
        report = inspection.to_dict()
        if latency is not None:
            report["latency_us_by_threads"] = {str(t): us for t, us in latency.items()}
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(inspection.to_text())
    if latency is not None:
        rows = [[str(t), f"{us:.0f}"] for t, us in latency.items()]
        print(
            f"\nLiteRT latency (batch 1, median; this machine has {os.cpu_count()} CPU cores)\n"
            + text_table(["threads", "µs"], rows)
        )
    return 0
