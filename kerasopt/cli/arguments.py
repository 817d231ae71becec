"""The flag groups several `kerasopt` commands share, each defined once.

Example:

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_compression_flags(parser)
>>> compression_options(parser.parse_args(["--prune", "0.5"]))["prune"]
0.5
"""

from __future__ import annotations

import argparse

from kerasopt.core.errors import InvalidValueError
from kerasopt.data.loaders import DATASETS

#: Flags of `add_compression_flags`, in the order `compress_model` takes them.
COMPRESSION_FLAGS = (
    "prune",
    "structure",
    "backend",
    "channels",
    "cluster",
    "qat",
    "max_drop",
    "max_epochs",
    "stop_early",
    "distill",
    "allocate",
)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def accuracy_points(text: str) -> float | None:
    """argparse type: accuracy points >= 0, or `none` for no budget."""
    if text.strip().lower() == "none":
        return None
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(
            f"expected accuracy points >= 0 (e.g. 1.0) or 'none', got {text!r}"
        )
    return value


def fraction(text: str) -> float:
    """argparse type: a float strictly between 0 and 1."""
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text}")
    return value


def class_ids(text: str) -> list[int]:
    """`"0-4"` -> `[0, 1, 2, 3, 4]`, `"5-7,9"` -> `[5, 6, 7, 9]`; `ValueError` otherwise.

    Example:

    >>> class_ids("5-7,9")
    [5, 6, 7, 9]
    """
    classes = []
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        classes.extend(range(int(first), int(last) + 1) if sep else [int(first)])
    return classes


def class_list(text: str) -> list[int]:
    """argparse type: `"5,6,7"` or `"5-9"` -> a list of class ids (`class_ids`)."""
    try:
        return class_ids(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected class ids such as 5,6,7 or 5-9, got {text!r}"
        ) from None


def width_multiplier(text: str) -> float:
    """argparse type: a width multiplier in (0, 1]."""
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a width multiplier in (0, 1], got {text}")
    return value


def add_compression_flags(parser: argparse.ArgumentParser) -> None:
    """`--prune --structure --backend --channels --cluster --qat` (`run` and `compress`)."""
    group = parser.add_argument_group(
        "compression", "stages of kerasopt.compress.compress_model, run in this order"
    )
    group.add_argument(
        "--channels",
        type=fraction,
        metavar="FRACTION",
        help="remove this fraction of conv filters and dense units (smaller and faster)",
    )
    group.add_argument(
        "--prune", type=fraction, metavar="SPARSITY", help="magnitude pruning, e.g. 0.8"
    )
    group.add_argument("--structure", choices=["2:4"], help="m-by-n sparsity (with --prune)")
    group.add_argument(
        "--backend",
        choices=["native", "tfmot"],
        default="native",
        help="pure Keras 3 pruning, or TF-MOT through the Keras 2 bridge (default: native)",
    )
    group.add_argument(
        "--cluster", type=positive_int, metavar="N", help="TF-MOT weight clustering, N centroids"
    )
    group.add_argument(
        "--qat", action="store_true", help="finish with quantization-aware training (TF-MOT)"
    )
    group.add_argument(
        "--max-drop",
        type=accuracy_points,
        default=1.0,
        metavar="POINTS",
        help="accuracy budget: each stage fine-tunes for --max-epochs, keeps its epoch with "
        "the lowest validation loss, and is held when that epoch's validation accuracy is "
        "within POINTS of the dense model's; 'none' runs exactly --epochs (default: 1.0)",
    )
    group.add_argument(
        "--max-epochs",
        type=positive_int,
        metavar="N",
        help="fine-tuning epoch budget per stage (default: sized to the data, about 10,000 "
        "steps, at most 30 epochs)",
    )
    group.add_argument(
        "--stop-early",
        action="store_true",
        help="let a stage that holds the budget anneal its rate and stop before "
        "--max-epochs (fewer epochs, usually a little less accuracy)",
    )
    group.add_argument(
        "--distill",
        action="store_true",
        help="fine-tune against the dense model's soft targets too (keras.distillation)",
    )
    split = group.add_mutually_exclusive_group()
    split.add_argument(
        "--uniform",
        dest="allocate",
        action="store_const",
        const=False,
        default=None,
        help="prune every layer to the same --prune sparsity, instead of splitting it by "
        "each layer's measured sensitivity (the default with native unstructured pruning)",
    )
    split.add_argument(
        "--allocate",
        dest="allocate",
        action="store_const",
        const=True,
        default=None,
        help="split --channels across layers by each layer's measured sensitivity too "
        "(as few parameters as the uniform fraction; off by default: over the zoo it "
        "helped MobileNet-style models and hurt a two-conv one)",
    )


def compression_options(args: argparse.Namespace) -> dict | None:
    """The compression flags as `compress_model` keyword arguments; `None` when none is set.

    Raises:
        InvalidValueError: `--structure` without `--prune`.
    """
    if args.prune is None and args.channels is None and args.cluster is None and not args.qat:
        if args.structure:
            raise InvalidValueError(
                f"--structure {args.structure} needs magnitude pruning. Received no --prune. "
                "Add --prune SPARSITY, e.g. --prune 0.5."
            )
        return None
    return {name: getattr(args, name) for name in COMPRESSION_FLAGS}


def add_dataset_flags(parser: argparse.ArgumentParser, help: str, *, files: bool = False) -> None:
    """`--data NAME` (required) and `--data-path PATH` (`evaluate`, `export`, `compress`).

    With `files=True`, `--data` also takes a `.npz` with `x_train, y_train, x_test, y_test`.
    """
    names = ", ".join(DATASETS)
    if files:
        parser.add_argument(
            "--data",
            required=True,
            metavar="SCENARIO|PATH",
            help=f"{names}, or a .npz with x_train, y_train, x_test, y_test",
        )
    else:
        parser.add_argument(
            "--data", required=True, choices=DATASETS, metavar="SCENARIO", help=f"{help}: {names}"
        )
    parser.add_argument(
        "--data-path", metavar="PATH", help="local idx folder or .npz for a Keras dataset"
    )


def add_data_path_flag(parser: argparse.ArgumentParser, help: str) -> None:
    """`--data PATH`: a local file instead of a download (`run`, `tune`)."""
    parser.add_argument("--data", metavar="PATH", help=help)


def add_out_flag(
    parser: argparse.ArgumentParser,
    help: str,
    *,
    required: bool = False,
    metavar: str = "DIR",
    default: str | None = None,
) -> None:
    """`--out`: where the command writes."""
    parser.add_argument("--out", required=required, metavar=metavar, default=default, help=help)


def add_seed_flag(parser: argparse.ArgumentParser, default: int | None, help: str) -> None:
    """`--seed S`."""
    parser.add_argument("--seed", type=int, default=default, metavar="S", help=help)
