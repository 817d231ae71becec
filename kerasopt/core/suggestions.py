"""`did_you_mean`: the one "did you mean" hint of every kerasopt error message."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(received: object, choices: Iterable[object], cutoff: float = 0.6) -> str:
    """`" Did you mean 'x'?"` for the closest of `choices`, or `""` when none is close.

    The leading space lets callers append it to a sentence as it is.

    Example:

    >>> did_you_mean("epohcs", ["epochs", "seed"])
    " Did you mean 'epochs'?"
    >>> did_you_mean("zzz", ["epochs"])
    ''
    """
    names = [str(choice) for choice in choices]
    close = difflib.get_close_matches(str(received), names, n=1, cutoff=cutoff)
    if not close and isinstance(received, str):
        close = difflib.get_close_matches(received.lower(), names, n=1, cutoff=cutoff)
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown_name_message(what: str, received: object, choices: Iterable[object]) -> str:
    """The message for a name that is not one of `choices`.

    Example:

    >>> unknown_name_message("scenario", "digit", ["digits", "mnist"])
    "Unknown scenario 'digit'. Expected one of: digits, mnist. Did you mean 'digits'?"
    """
    choices = list(choices)
    return (
        f"Unknown {what} {received!r}. Expected one of: {', '.join(map(str, choices))}."
        + did_you_mean(received, choices)
    )
