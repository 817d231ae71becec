"""`Hyperparameter`: one entry of a spec's `[space]` table, declared on keras-tuner."""

from __future__ import annotations

import dataclasses
from typing import Any

from kerasopt.core.suggestions import did_you_mean
from kerasopt.training.config import ConfigError

HYPERPARAMETER_TYPES = ("int", "float", "choice", "boolean")
SAMPLINGS = ("linear", "log", "reverse_log")
_KEYS = {
    "int": {"type", "min", "max", "step", "sampling", "default", "when"},
    "float": {"type", "min", "max", "step", "sampling", "default", "when"},
    "choice": {"type", "values", "ordered", "default", "when"},
    "boolean": {"type", "default", "when"},
}


class SpecError(ConfigError):
    """Raised for an unknown key or a bad value in a search spec."""


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    """One searched value: its type, range or choices, and an optional condition.

    In TOML a hyperparameter is a table (`[space.learning_rate]` with `type = "float"`,
    `min`, `max`, `sampling = "log"`), a list (shorthand for a choice) or a scalar (a
    fixed value, not searched). `when = {optimizer = ["sgd"]}` makes it active only when
    the parent choice takes one of those values.

    Example:

    >>> from kerasopt.tuning import Hyperparameter
    >>> hp = Hyperparameter.from_toml("dropout", {"type": "float", "min": 0.0, "max": 0.5})
    >>> hp.kind
    'float'
    """

    name: str
    kind: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"
    values: tuple = ()
    ordered: bool | None = None
    default: Any = None
    parent: str | None = None
    parent_values: tuple = ()

    @classmethod
    def from_toml(cls, name: str, entry: Any) -> Hyperparameter:
        """Parses one `[space]` entry, naming the key at fault in every error."""
        where = f"[space.{name}]"
        if isinstance(entry, list):
            entry = {"type": "choice", "values": entry}
        elif not isinstance(entry, dict):
            entry = {"type": "choice", "values": [entry]}
        kind = entry.get("type")
        if kind not in HYPERPARAMETER_TYPES:
            raise SpecError(
                f"{where} type={kind!r} is unknown. Expected one of {list(HYPERPARAMETER_TYPES)}."
            )
        for key in entry:
            if key not in _KEYS[kind]:
                hint = did_you_mean(key, sorted(_KEYS[kind]))
                raise SpecError(
                    f"{where} has unknown key {key!r} for type={kind!r}.{hint} Valid keys: "
                    f"{sorted(_KEYS[kind])}."
                )
        parent, parent_values = _parse_condition(where, entry.get("when"))
        common = {"name": name, "kind": kind, "default": entry.get("default")}
        common.update(parent=parent, parent_values=parent_values)
        if kind == "boolean":
            return cls(**common)
        if kind == "choice":
            values = entry.get("values")
            if not isinstance(values, list) or not values:
                raise SpecError(f"{where} needs a non-empty list `values`. Received: {values!r}.")
            types = {type(value) for value in values}
            if len(types) > 1 and types != {int, float}:
                raise SpecError(
                    f"{where} values must share one type (int/float, str or bool). "
                    f"Received: {values!r}."
                )
            return cls(**common, values=tuple(values), ordered=entry.get("ordered"))
        for key in ("min", "max"):
            if not isinstance(entry.get(key), (int, float)) or isinstance(entry.get(key), bool):
                raise SpecError(
                    f"{where} needs a number `{key}` for type={kind!r}. "
                    f"Received: {key}={entry.get(key)!r}."
                )
        low, high = entry["min"], entry["max"]
        if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
            raise SpecError(
                f"{where} is type='int'; min and max must be integers: {low=}, {high=}."
            )
        if not low <= high:
            raise SpecError(f"{where} needs min <= max. Received: min={low!r}, max={high!r}.")
        sampling = entry.get("sampling", "linear")
        if sampling not in SAMPLINGS:
            raise SpecError(
                f"{where} sampling={sampling!r} is unknown. Expected one of {list(SAMPLINGS)}."
            )
        if sampling != "linear" and low <= 0:
            raise SpecError(
                f"{where} sampling={sampling!r} needs min > 0. Received: min={low!r}. Use "
                "sampling='linear' or a positive min."
            )
        return cls(**common, min=low, max=high, step=entry.get("step"), sampling=sampling)

    def declare(self, hp) -> Any:
        """Declares this hyperparameter on a `keras_tuner.HyperParameters`; its value."""
        condition = {}
        if self.parent is not None:
            condition = {"parent_name": self.parent, "parent_values": list(self.parent_values)}
        try:
            if self.kind == "boolean":
                return hp.Boolean(self.name, default=bool(self.default), **condition)
            if self.kind == "choice":
                return hp.Choice(
                    self.name,
                    list(self.values),
                    ordered=self.ordered,
                    default=self.default,
                    **condition,
                )
            method = hp.Int if self.kind == "int" else hp.Float
            return method(
                self.name,
                min_value=self.min,
                max_value=self.max,
                step=self.step,
                sampling=self.sampling,
                default=self.default,
                **condition,
            )
        except ValueError as error:
            raise SpecError(
                f"[space.{self.name}] is not a valid keras-tuner range: {error}"
            ) from None

    def grid_values(self) -> list:
        """Every value of a finite grid (GridSearchCV); a range needs a `step`."""
        if self.kind == "boolean":
            return [False, True]
        if self.kind == "choice":
            return list(self.values)
        if self.step is None:
            raise SpecError(
                f"[space.{self.name}] is a {self.kind} range without `step`, which has no "
                "finite grid. Give `step`, or `values` with type='choice'."
            )
        values, value = [], self.min
        while value <= self.max + 1e-12:
            values.append(round(value, 12) if self.kind == "float" else int(value))
            value = value * self.step if self.sampling == "log" else value + self.step
        return values


def _parse_condition(where: str, when: Any) -> tuple[str | None, tuple]:
    if when is None:
        return None, ()
    if not isinstance(when, dict) or len(when) != 1:
        raise SpecError(
            f"{where} when={when!r} must name one parent: when = {{optimizer = ['sgd']}}."
        )
    ((parent, values),) = when.items()
    if not isinstance(values, list):
        values = [values]
    return parent, tuple(values)


def parse_space(table: dict, valid_names: dict[str, str]) -> list[Hyperparameter]:
    """Parses a spec's `[space]` table against the names a model family can tune.

    Args:
        table: The `[space]` table.
        valid_names: Every tunable name with a one-line description.

    Returns:
        The hyperparameters, parents before the entries that depend on them.

    Example:

    >>> from kerasopt.tuning import parse_space
    >>> space = parse_space({"dropout": [0.2, 0.5]}, {"dropout": "dropout rate"})
    >>> space[0].values
    (0.2, 0.5)
    """
    space = []
    for name, entry in table.items():
        if name not in valid_names:
            hint = did_you_mean(name, sorted(valid_names))
            raise SpecError(
                f"[space] names {name!r}, which this model family cannot tune.{hint} "
                f"Tunable names: {sorted(valid_names)}."
            )
        space.append(Hyperparameter.from_toml(name, entry))
    names = [hp.name for hp in space]
    for hp in space:
        if hp.parent is None:
            continue
        if hp.parent not in names or names.index(hp.parent) > names.index(hp.name):
            raise SpecError(
                f"[space.{hp.name}] depends on {hp.parent!r}, which must be a choice or "
                f"boolean declared above it in [space]. Declared: {names}."
            )
        parent = space[names.index(hp.parent)]
        choices = parent.grid_values() if parent.kind in ("choice", "boolean") else None
        if choices is None:
            raise SpecError(
                f"[space.{hp.name}] depends on {hp.parent!r}, a {parent.kind} range; a "
                "condition needs a choice or boolean parent."
            )
        unknown = [value for value in hp.parent_values if value not in choices]
        if unknown:
            raise SpecError(
                f"[space.{hp.name}] when={{{hp.parent} = {list(hp.parent_values)}}} names "
                f"{unknown}, which {hp.parent!r} never takes. Its values: {choices}."
            )
    return space
