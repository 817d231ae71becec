"""The `kerasopt` command line."""

from kerasopt.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
