"""`allocate_sparsity`: a global sparsity split across layers by their measured sensitivity.

Uniform magnitude pruning asks the same sparsity of a 72-weight stem and of an
8,000-weight hidden layer. Given the one-shot drop curves of `analyze_sensitivity`, this
gives each layer its own sparsity, meeting the global target with the least predicted
loss, for `MagnitudePruning(..., layer_sparsity=...)` and `compress_model(allocate=True)`.
"""

from __future__ import annotations

import numpy as np

from kerasopt.compress.pruning_sensitivity import SensitivityReport, drop_curve
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_float, check_fraction, check_type


def allocate_sparsity(
    report: SensitivityReport, target: float, *, max_layer_sparsity: float = 0.98
) -> dict[str, float]:
    """Per-layer sparsities meeting a global target with the least predicted accuracy loss.

    Each layer's drop curve (0 at sparsity 0, linear between the measured sparsities,
    extended past the last with its last slope) is made convex by letting no segment
    be less steep than one before it. The modelled curve thus never lies below the
    measurements: a layer whose accuracy has already collapsed to chance is not taken
    as free to prune further, and a noisy dip is not taken for a plateau. The problem
    is then: minimize the summed drop subject to
    `sum(weights_i * s_i) = target * sum(weights_i)` and `0 <= s_i <= max_layer_sparsity`.
    On convex piecewise-linear curves the greedy solution is exact (it is the
    Lagrangian one: every layer stops where its marginal drop per pruned weight reaches
    one common multiplier): the segments of all layers are taken in increasing order of
    drop per pruned weight until `target` is reached, and segments of equal cost share
    the remainder in proportion. Big, insensitive layers take most of the zeros, small
    critical ones few. The weighted mean of the result equals `target` up to float
    rounding; the drops add up as if layers were independent, which ranks allocations
    well but does not predict the accuracy after fine-tuning.

    Args:
        report: A `SensitivityReport` from `analyze_sensitivity`.
        target: Global sparsity over the kernels of `report`'s layers, in [0, 1).
        max_layer_sparsity: Highest sparsity any one layer gets, in (0, 1). Defaults
            to `0.98`.

    Returns:
        `{layer_name: sparsity}` for every layer of `report`, in its order.

    Example:

    ```python
    from kerasopt.compress.sparsity_allocation import allocate_sparsity

    layer_sparsity = allocate_sparsity(report, 0.8)  # report = analyze_sensitivity(...)
    ```
    """
    owner = "allocate_sparsity"
    check_type(owner, "report", report, SensitivityReport, expected="a SensitivityReport")
    ceiling = check_float(owner, "max_layer_sparsity", max_layer_sparsity, 0, 1, closed="neither")
    target = check_fraction(owner, "target", target, closed="left", example=0.8)
    if target > ceiling + 1e-12:
        raise InvalidValueError(
            f"allocate_sparsity cannot reach target={target} with "
            f"max_layer_sparsity={ceiling}: even with every layer at {ceiling} the global "
            f"sparsity is {ceiling}. Lower the target or raise max_layer_sparsity (below 1)."
        )
    segments = []  # (drop per pruned weight, layer index, sparsity span)
    for index, row in enumerate(report.layers):
        xs, ys = drop_curve(report, row, ceiling)
        slopes = np.maximum.accumulate(np.diff(ys) / np.diff(xs))
        for slope, span in zip(slopes.tolist(), np.diff(xs).tolist(), strict=True):
            segments.append((slope / row.weights, index, span))
    segments.sort(key=lambda segment: segment[0])  # stable: a layer's own stay in order
    sparsity = [0.0] * len(report.layers)
    weights = [row.weights for row in report.layers]
    budget = target * sum(weights)
    i = 0
    while i < len(segments) and budget > 0:
        j = i
        while j < len(segments) and np.isclose(segments[j][0], segments[i][0], rtol=1e-9, atol=0):
            j += 1
        group = segments[i:j]
        size = sum(weights[index] * span for _, index, span in group)
        share = min(1.0, budget / size)
        for _, index, span in group:
            sparsity[index] += share * span
        budget -= share * size
        i = j
    return {row.name: min(s, ceiling) for row, s in zip(report.layers, sparsity, strict=True)}
