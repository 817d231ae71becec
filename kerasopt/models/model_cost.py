"""`count_macs`: multiply-accumulates of one forward pass, from the layer shapes."""

from __future__ import annotations

import math

#: Layers whose multiply-accumulates are counted; every other layer is treated as free.
COUNTED_LAYERS = ("Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense")


def count_macs(model) -> int:
    """Multiply-accumulates of one sample's forward pass through `model`.

    Counts convolutions (plain, depthwise, separable) and dense layers from their
    output shapes, the terms that dominate a CNN's cost; pooling, BatchNorm and
    activations are left out. A training step costs about three forward passes
    (forward, and two products in the backward pass), so a step over `n` samples
    does about `6 * n * count_macs(model)` floating-point operations. Nested models
    are counted through.

    Example:

    >>> from kerasopt.models import build_residual_cnn, count_macs
    >>> count_macs(build_residual_cnn((28, 28), 10, widths=(8, 16, 32)))
    1461696
    """
    total = 0
    for layer in model._flatten_layers(include_self=False):
        kind = type(layer).__name__
        if kind not in COUNTED_LAYERS:
            continue
        inputs = int(layer.input.shape[-1])
        outputs = layer.output.shape
        positions = math.prod(int(d) for d in outputs[1:-1])
        if kind == "Dense":
            total += positions * inputs * int(layer.units)
            continue
        window = math.prod(int(k) for k in layer.kernel_size)
        if kind == "DepthwiseConv2D":
            total += positions * window * inputs * int(layer.depth_multiplier)
        elif kind == "SeparableConv2D":
            depth = inputs * int(layer.depth_multiplier)
            total += positions * (window * depth + depth * int(layer.filters))
        else:
            total += positions * window * inputs // int(layer.groups) * int(layer.filters)
    return total
