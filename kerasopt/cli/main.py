"""The `kerasopt` command line: `run`, `evaluate`, `export`, `compress`, `distill`, `tune`, `bench`.

Each command is one module with `add_parser(commands)`, which registers its handler with
`set_defaults(handler=...)`; `main` parses, calls the handler and turns a `KerasoptError`
(a mistake in what was asked) into one line on stderr and exit code 2. Any other exception
is a bug or an error of Keras or TensorFlow and shows its traceback; `--traceback` shows
it for a `KerasoptError` too. Only this package prints; the library logs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback

from kerasopt import __version__
from kerasopt.cli import (
    bench_command,
    bundle_command,
    compress_command,
    debug_quant_command,
    distill_command,
    ensemble_command,
    federated_command,
    fewshot_command,
    inspect_command,
    model_commands,
    run_command,
    transfer_command,
    tune_command,
)
from kerasopt.core.errors import KerasoptError

DESCRIPTION = """\
Train, compress, export and verify Keras 3 models for phones.

  kerasopt run digits                      train, export to TFLite, verify on LiteRT, report
  kerasopt evaluate saved_models/digits/model_int8.tflite --data digits
  kerasopt export saved_models/digits/model.keras --quantize int8 --data digits
  kerasopt compress saved_models/digits/model.keras --data digits --prune 0.8 --out small/
  kerasopt distill saved_models/digits/model.keras --data digits --student 0.25 --out student/
  kerasopt ensemble --data digits --method bagging --members 5 --out ensemble/
  kerasopt federated --data digits --clients 10 --strategy fedprox --out federated/
  kerasopt fewshot --data digits --ways 5 --shots 1 --method reptile --out fewshot/
  kerasopt transfer source.keras --data fashion_mnist --cut stage2_relu --classes 5-9 --out tl/
  kerasopt bundle saved_models/digits/model.keras --data digits --out phone/
  kerasopt inspect saved_models/digits/model_int8.tflite   ops, dtypes, memory, metadata, Flex ops
  kerasopt debug-quant saved_models/digits/model.keras --data digits   per-layer int8 error
  kerasopt tune tuning/digits.toml         Hyperband search from a TOML spec, resumable
  kerasopt bench augment                   batched tf.data augmentation vs a per-image loop
"""
_TRACEBACK_HELP = "show the full traceback of an error (a user error prints one line)"


def build_parser() -> argparse.ArgumentParser:
    """The `kerasopt` parser; every subcommand sets `handler` (cheap: no TensorFlow)."""
    parser = argparse.ArgumentParser(
        prog="kerasopt",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kerasopt {__version__}")
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    commands = _SubcommandsWithTraceback(
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    )
    run_command.add_parser(commands)
    model_commands.add_parsers(commands)
    compress_command.add_parser(commands)
    distill_command.add_parser(commands)
    ensemble_command.add_parser(commands)
    federated_command.add_parser(commands)
    fewshot_command.add_parser(commands)
    transfer_command.add_parser(commands)
    tune_command.add_parser(commands)
    bench_command.add_parser(commands)
    debug_quant_command.add_parser(commands)
    bundle_command.add_parser(commands)
    inspect_command.add_parser(commands)
    return parser


class _SubcommandsWithTraceback:
    """Adds `--traceback` to every subcommand too, so it works after the command name.

    Its default is `SUPPRESS`, so an absent flag leaves the top-level value alone.
    """

    def __init__(self, subparsers):
        self._subparsers = subparsers

    def add_parser(self, name, **kwargs):
        parser = self._subparsers.add_parser(name, **kwargs)
        parser.add_argument(
            "--traceback", action="store_true", default=argparse.SUPPRESS, help=_TRACEBACK_HELP
        )
        return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one `kerasopt` command; returns its exit code (2 for a user error).

    Example:

    >>> from kerasopt.cli import main
    >>> main(["evaluate", "model_int8.tflite", "--data", "digits"])  # doctest: +SKIP
    0
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.invocation = " ".join(["kerasopt", *argv])
    _configure_logging()
    try:
        return args.handler(args)
    except KerasoptError as error:
        if args.traceback:
            traceback.print_exc()
        print(f"kerasopt {args.command}: error: {error}", file=sys.stderr)
        return 2


def _configure_logging() -> None:
    """Shows the library's log lines (`kerasopt.*`, INFO and up) as plain messages.

    Other libraries keep their WARNING threshold, so their INFO chatter stays out.
    """
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("kerasopt").setLevel(logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
