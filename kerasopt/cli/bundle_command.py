"""`kerasopt bundle MODEL.keras`: a phone-ready `.tflite` that MediaPipe Tasks takes as is."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kerasopt.cli.arguments import add_dataset_flags, add_out_flag, add_seed_flag
from kerasopt.core.errors import InvalidValueError, MissingFileError
from kerasopt.core.locking import output_lock

DESCRIPTION = (
    "Bundle a trained .keras image classifier for phones: model.tflite takes [1, H, W, 3] "
    "uint8 RGB (what a camera gives), converts it to the model's input inside the graph "
    "(gray when the model is gray, scaled to the training range), runs int8 inside, and "
    "carries TFLite metadata with the class names as labels.txt, so MediaPipe's "
    "ImageClassifier loads it as it is. The bundle is scored on the test split on LiteRT "
    "and through MediaPipe; bundle.json records both. MODEL is never modified."
)


def add_parser(commands) -> None:
    """Adds `kerasopt bundle`."""
    bundle = commands.add_parser(
        "bundle",
        help="a MediaPipe-ready .tflite with labels and metadata, checked on LiteRT and MediaPipe",
        description=DESCRIPTION,
    )
    bundle.add_argument("model", metavar="MODEL.keras")
    add_dataset_flags(bundle, "dataset", files=True)
    bundle.add_argument(
        "--labels",
        metavar="FILE",
        help="class names, one per line in output order (default: the dataset's, or 0, 1, ...)",
    )
    bundle.add_argument("--name", help="the model's name in the metadata (default: MODEL's)")
    bundle.add_argument("--description", default="", help="one sentence on what it classifies")
    bundle.add_argument("--author", default="kerasopt", help="metadata author")
    bundle.add_argument("--license", default="Apache-2.0", help="metadata license")
    bundle.add_argument("--model-version", default="1", help="metadata version (default: 1)")
    add_seed_flag(bundle, 0, "seed of the int8 calibration draw (default: 0)")
    add_out_flag(bundle, "output folder (model.tflite, labels.txt, bundle.json)", required=True)
    bundle.set_defaults(handler=bundle_command)


def read_labels(path: str | None) -> list[str] | None:
    """Class names from a text file, one per line (blank lines at the end ignored)."""
    if path is None:
        return None
    file = Path(path)
    if not file.is_file():
        raise MissingFileError(
            f"--labels {path}: no such file. Give a text file, one name per line."
        )
    names = file.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if not any(names):
        raise InvalidValueError(f"--labels {path} is empty. Give one class name per line.")
    return [n.rstrip("\r") for n in names]


def bundle_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt bundle`; returns the exit code."""
    labels = read_labels(args.labels)
    with output_lock(args.out, args.invocation):
        from kerasopt.core.atomic import write_text_atomic
        from kerasopt.data import load_dataset_or_file
        from kerasopt.export import bundle_image_classifier, convert_to_tflite
        from kerasopt.models import load_model_safely

        model = load_model_safely(args.model)
        splits = load_dataset_or_file(args.data, args.data_path)
        int8 = convert_to_tflite(model, "int8", representative_data=splits.x_train, seed=args.seed)
        check = bundle_image_classifier(
            model,
            splits,
            args.out,
            class_names=labels,
            int8_bytes=len(int8),
            seed=args.seed,
            name=args.name or model.name,
            description=args.description,
            version=args.model_version,
            author=args.author,
            license=args.license,
        )
        report = {"model": str(args.model), "data": args.data, **check.to_dict()}
        write_text_atomic(Path(args.out) / "bundle.json", json.dumps(report, indent=2) + "\n")
    print("\n".join(check.markdown()))
    print(f"\n{check.summary()}")
    print(f"Wrote {Path(args.out) / 'model.tflite'}, labels.txt and bundle.json.")
    return 0
