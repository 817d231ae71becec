"""`KerasoptError`: the base of every error meant for the person running kerasopt.

The command line prints a `KerasoptError` as one line and exits with code 2; any other
exception (a bug, or Keras' and TensorFlow's own errors) shows its traceback. Each
message says what was received, what was expected, and the fix.

The subclasses also derive from the built-in exception a caller would expect, so
`except ValueError` keeps working.

Example:

>>> from kerasopt.core.errors import InvalidValueError, KerasoptError
>>> try:
...     raise InvalidValueError("epochs must be >= 1. Received: epochs=0. Pass epochs=10.")
... except KerasoptError as error:
...     print(error)
epochs must be >= 1. Received: epochs=0. Pass epochs=10.
"""

from __future__ import annotations


class KerasoptError(Exception):
    """An error in what the user asked for: printed as one line by the CLI (exit 2)."""


class InvalidValueError(KerasoptError, ValueError):
    """An argument, config value or file content outside what kerasopt accepts."""


class InvalidTypeError(KerasoptError, TypeError):
    """An argument of the wrong type."""


class InvalidNumberError(InvalidTypeError, InvalidValueError):
    """A number argument of the wrong type (a string, a bool, a float for an integer).

    Both a `TypeError` and a `ValueError`: the checks this module replaced raised one or
    the other for the same mistake, and callers catch either.
    """


class MissingFileError(KerasoptError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class OutputLockedError(KerasoptError, RuntimeError):
    """Another kerasopt process is writing to the same output folder."""


class MissingDependencyError(KerasoptError, ImportError):
    """An optional package a feature needs is not installed; the message names the install."""
