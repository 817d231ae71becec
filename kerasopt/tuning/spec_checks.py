"""The checks every table of a search spec goes through: keys, choices, positive counts.

Each error names the table and key at fault, the value received and the valid choices
(with a "did you mean" from `kerasopt.core.suggestions`), so a typo costs one run.
"""

from __future__ import annotations

from typing import Any

from kerasopt.core.suggestions import did_you_mean
from kerasopt.tuning.search_space import SpecError


def check_keys(where: str, table: Any, valid, what: str = "key") -> dict:
    """`table` itself, once it is a dict whose keys are all in `valid`.

    `check_keys("[search]", {"tunr": 1}, ["tuner"])` raises "[search] has unknown key
    'tunr'. Did you mean 'tuner'? Valid: ['tuner']."

    Example:

    >>> check_keys("[budget]", {"mode": "penalty"}, ["mode", "penalty"])
    {'mode': 'penalty'}
    """
    if not isinstance(table, dict):
        raise SpecError(f"{where} must be a table. Received: {table!r}.")
    for key in table:
        if key not in valid:
            raise SpecError(
                f"{where} has unknown {what} {key!r}.{did_you_mean(key, sorted(valid))} "
                f"Valid: {sorted(valid) or 'none'}."
            )
    return table


def check_choice(where: str, value: Any, choices) -> Any:
    """`value`, once it is one of `choices`.

    Example:

    >>> check_choice("[search] tuner", "random", ("random", "grid"))
    'random'
    """
    if value not in choices:
        raise SpecError(
            f"{where}={value!r} is unknown.{did_you_mean(value, choices)} Expected one of "
            f"{list(choices)}."
        )
    return value


def check_positive(where: str, value: Any) -> int:
    """`value`, once it is an integer >= 1 (not a bool).

    Example:

    >>> check_positive("[search] epochs", 3)
    3
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpecError(f"{where} must be an integer >= 1. Received: {value!r}.")
    return value
