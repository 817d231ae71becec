"""`allocate_channels`: per-layer channel fractions that shrink a model as much as a uniform one.

Removing half the filters of every layer takes as much from a 16-filter stem that every
later layer depends on as from a wide, redundant head. Given the one-shot channel drops of
`analyze_sensitivity`, this gives each layer (or residual group) its own fraction so the
pruned model has no more parameters than the uniform fraction leaves, with the least
predicted accuracy loss, for `prune_channels(..., layer_fractions=...)` and
`compress_model(channels=..., allocate=True)`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from kerasopt.compress.channel_pruning import ChannelPruningPlanner
from kerasopt.compress.pruning_sensitivity import SensitivityReport, drop_curve
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_float, check_fraction, check_positive_int, check_type


@dataclasses.dataclass(frozen=True)
class _Unit:
    """Layers pruned as one (a residual group, or one layer), with its drop curve."""

    names: tuple[str, ...]
    xs: np.ndarray
    ys: np.ndarray

    def drop(self, fraction: float) -> float:
        return float(np.interp(fraction, self.xs, self.ys))


def allocate_channels(
    report: SensitivityReport,
    model,
    fraction: float,
    *,
    steps: int = 8,
    max_fraction: float = 0.75,
    spread: float | None = None,
    min_channels: int = 1,
) -> dict[str, float]:
    """Per-layer channel fractions as small as the uniform `fraction`, with the least loss.

    The budget is the parameter count `prune_channels(model, fraction)` leaves. Each
    layer (a residual group counts once) has a drop curve: 0 at fraction 0, linear
    through its measured `report.channel_fractions`, extended with its last slope, and
    made convex (no segment less steep than one before it, so a noisy dip is not taken
    for a plateau). Starting with every layer whole, the layer whose next step of
    `1 / steps` costs the least predicted drop per parameter removed takes that step,
    until the model is within the budget, then gives back single steps that save
    predicted drop while it stays within; the parameters of each candidate are counted
    on the real pruned shapes (`ChannelPruningPlanner.params`), so a conv feeding a
    Flatten -> Dense head is credited with the head's rows too. The drops add up as if
    layers were independent: this ranks allocations, it does not predict the accuracy
    after fine-tuning.

    Args:
        report: `analyze_sensitivity(model, data, channel_fractions=...)` of `model`.
        model: The model `report` measured.
        fraction: The uniform fraction whose parameter count is the budget, in (0, 1).
        steps: Fractions are multiples of `1 / steps`. Defaults to `8`.
        max_fraction: Highest fraction any layer loses, in (0, 1). Defaults to `0.75`.
        spread: Keep every layer within `spread` of `fraction` (0.25: between 0.25 and
            0.75 for 0.5), or `None` for anywhere in `[0, max_fraction]`. Defaults to
            `None`.
        min_channels: Fewest filters/units any layer keeps, as in `prune_channels`.
            Defaults to `1`.

    Returns:
        `{layer name: fraction}` for every layer `report` measured channel drops of
        (each member of a group gets the group's), for `layer_fractions`.

    Example:

    ```python
    from kerasopt.compress import allocate_channels, analyze_sensitivity, prune_channels

    report = analyze_sensitivity(model, data, channel_fractions=(0.25, 0.5, 0.75))
    shares = allocate_channels(report, model, 0.5)
    smaller = prune_channels(model, 0.0, layer_fractions=shares).model
    ```
    """
    owner = "allocate_channels"
    check_type(owner, "report", report, SensitivityReport, expected="a SensitivityReport")
    fraction = check_fraction(owner, "fraction", fraction, closed="neither", example=0.5)
    ceiling = check_fraction(owner, "max_fraction", max_fraction, closed="neither", example=0.75)
    steps = check_positive_int(owner, "steps", steps)
    if fraction > ceiling:
        raise InvalidValueError(
            f"allocate_channels cannot match fraction={fraction} with max_fraction={ceiling}: "
            "no layer may lose more than max_fraction. Raise max_fraction (below 1) or lower "
            "fraction."
        )
    units = _units(report, ceiling)
    if not units:
        raise InvalidValueError(
            "allocate_channels needs channel drops: the report measured none. Run "
            "analyze_sensitivity(model, data, channel_fractions=(0.25, 0.5, 0.75)) on a "
            "model with Conv/Dense layers whose filters prune_channels can remove."
        )
    planner = ChannelPruningPlanner(model, min_channels=min_channels)
    budget = planner.params(fraction)
    levels = [step / steps for step in range(int(ceiling * steps + 1e-9) + 1)]
    lowest, highest = 0, len(levels) - 1
    if spread is not None:
        spread = check_float(owner, "spread", spread, 0, 1, closed="left")
        lowest = max(0, math.ceil((fraction - spread) * steps - 1e-9))
        highest = min(highest, math.floor((fraction + spread) * steps + 1e-9))
    chosen = [lowest] * len(units)  # index into levels, per unit

    def shares(choice):
        return {
            name: levels[i] for unit, i in zip(units, choice, strict=True) for name in unit.names
        }

    params = planner.params(0.0, shares(chosen))
    while params > budget:
        best = None  # (drop per parameter, -parameters removed, unit, level, params after)
        for k, unit in enumerate(units):
            for level in range(chosen[k] + 1, highest + 1):
                trial = chosen.copy()
                trial[k] = level
                after = planner.params(0.0, shares(trial))
                if after < params:  # a step too small to remove a channel is skipped
                    cost = (unit.drop(levels[level]) - unit.drop(levels[chosen[k]])) / (
                        params - after
                    )
                    candidate = (cost, after - params, k, level, after)
                    best = candidate if best is None or candidate < best else best
                    break
        if best is None:  # every unit at its highest level: as close as the bounds allow
            break
        _, _, k, level, params = best
        chosen[k] = level
    # The last step may overshoot the budget: give back the steps that save the most
    # predicted drop, one level at a time, while the model stays within it.
    while True:
        back = None  # (-drop saved, unit)
        for k, unit in enumerate(units):
            if chosen[k] > lowest:
                trial = chosen.copy()
                trial[k] -= 1
                if planner.params(0.0, shares(trial)) <= budget:
                    saved = unit.drop(levels[chosen[k]]) - unit.drop(levels[chosen[k] - 1])
                    back = min(back or (math.inf,), (-saved, k))
        if back is None or back[0] >= 0:
            return shares(chosen)
        chosen[back[1]] -= 1


def _units(report: SensitivityReport, ceiling: float) -> list[_Unit]:
    units, seen = [], set()
    for row in report.layers:
        if not row.channel_drops or any(drop is None for drop in row.channel_drops):
            continue
        names = tuple(sorted({row.name, *row.channel_group}))
        if names in seen:
            continue
        seen.add(names)
        xs, ys = drop_curve(report, row, ceiling, channels=True)
        slopes = np.maximum.accumulate(np.diff(ys) / np.diff(xs))
        ys = np.concatenate([[0.0], np.cumsum(slopes * np.diff(xs))])
        units.append(_Unit(names, xs, ys))
    return units
