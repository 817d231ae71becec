"""`Budget`: a spec's `[budget]` table, the limits a trial's int8 model must keep."""

from __future__ import annotations

import dataclasses

from kerasopt.tuning.search_space import SpecError
from kerasopt.tuning.spec_checks import check_choice, check_keys

BUDGET_MODES = ("infeasible", "penalty")
_BUDGET_KEYS = ("max_int8_kb", "max_latency_us", "mode", "penalty")
_UNITS = {"int8_kb": "KB", "latency_us": "µs"}
#: Opens the reason of every trial failed for being over a deployment budget.
OVER_BUDGET = "over the deployment budget"


@dataclasses.dataclass(frozen=True)
class Budget:
    """A deployment budget: trials whose int8 model is too big or slow are out.

    `mode="infeasible"` fails such a trial before it trains (size and latency do not
    depend on the weights); `mode="penalty"` trains it and subtracts `penalty` x the
    relative overshoot from the objective.

    Example:

    >>> from kerasopt.tuning import Budget
    >>> Budget(max_int8_kb=200).limits()
    {'int8_kb': 200, 'latency_us': None}
    """

    max_int8_kb: float | None = None
    max_latency_us: float | None = None
    mode: str = "infeasible"
    penalty: float = 1.0

    def limits(self) -> dict[str, float | None]:
        """The limit of each budgeted trial metric (`None`: not budgeted)."""
        return {"int8_kb": self.max_int8_kb, "latency_us": self.max_latency_us}


def parse_budget(table: dict | None) -> Budget | None:
    """The `Budget` of a spec's `[budget]` table, or `None` without one."""
    if table is None:
        return None
    check_keys("[budget]", table, _BUDGET_KEYS)
    if "max_int8_kb" not in table and "max_latency_us" not in table:
        raise SpecError("[budget] needs max_int8_kb, max_latency_us, or both.")
    for key in ("max_int8_kb", "max_latency_us", "penalty"):
        value = table.get(key)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise SpecError(f"[budget] {key} must be a number > 0. Received: {value!r}.")
    mode = check_choice("[budget] mode", table.get("mode", "infeasible"), BUDGET_MODES)
    return Budget(
        max_int8_kb=table.get("max_int8_kb"),
        max_latency_us=table.get("max_latency_us"),
        mode=mode,
        penalty=float(table.get("penalty", 1.0)),
    )


def budget_overshoot(metrics: dict, budget: Budget) -> dict[str, float]:
    """Relative overshoot of each budgeted quantity; empty when within budget.

    Example:

    >>> from kerasopt.tuning import Budget, budget_overshoot
    >>> budget_overshoot({"int8_kb": 150.0, "latency_us": 9.0}, Budget(max_int8_kb=100))
    {'int8_kb': 0.5}
    """
    return {
        key: metrics[key] / limit - 1.0
        for key, limit in budget.limits().items()
        if limit is not None and metrics[key] > limit
    }


def describe_overshoot(metrics: dict, overshoot: dict, budget: Budget) -> str:
    """One line naming each quantity over budget, with its value and the limit."""
    limits = budget.limits()
    parts = [
        f"{key}={metrics[key]:.1f} {_UNITS[key]} > max {limits[key]:g} {_UNITS[key]}"
        for key in overshoot
    ]
    return f"{OVER_BUDGET}: " + "; ".join(parts)
