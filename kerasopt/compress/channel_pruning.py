"""`prune_channels`: structured pruning that removes whole filters and units.

Magnitude pruning zeroes single weights and leaves the shapes alone, so a phone runs
the same dense kernels as before. Removing whole Conv filters and Dense units instead
builds a model with smaller layers, which is both smaller and faster on any runtime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from kerasopt.compress._graph_walk import LayerGraph, is_prunable_kind
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.suggestions import did_you_mean

IMPORTANCE_CRITERIA = ("l1", "l2", "bn_gamma")


@dataclasses.dataclass(frozen=True)
class PrunedLayer:
    """What `prune_channels` did to one Conv/Dense layer.

    `status` is `"pruned"`, `"skipped"` (named in `skip_layers`) or `"output"` (its
    channels leave the model, so they are kept). `kept` holds the original indices of
    the filters/units kept, in order.
    """

    name: str
    before: int
    after: int
    kept: tuple[int, ...]
    status: str


@dataclasses.dataclass
class ChannelPruningResult:
    """The smaller model and, for each Conv/Dense layer, the filters/units it kept."""

    model: object
    layers: list[PrunedLayer]
    params_before: int
    params_after: int

    def summary(self) -> str:
        """A text table: layer, filters/units before and after, status."""
        lines = [f"{'layer':<24}{'before':>8}{'after':>8}  status"]
        for row in self.layers:
            lines.append(f"{row.name:<24}{row.before:>8}{row.after:>8}  {row.status}")
        ratio = self.params_before / max(self.params_after, 1)
        lines.append(f"params {self.params_before} -> {self.params_after} ({ratio:.2f}x fewer)")
        return "\n".join(lines)


def prune_channels(
    model,
    fraction: float = 0.5,
    *,
    importance: str = "l1",
    skip_layers: Iterable[str] = (),
    min_channels: int = 1,
) -> ChannelPruningResult:
    """Removes the least important filters of Conv layers and units of Dense layers.

    For every Conv1D/Conv2D/Conv3D and Dense layer, the `fraction` of filters/units with
    the lowest importance is removed, together with the matching slices of the layers
    that see those channels: the following BatchNormalization (gamma, beta, moving mean
    and variance), a DepthwiseConv, and the input axis of the next Conv/Dense kernel,
    across a Flatten too (whose output interleaves the channels at every position).
    Activations, dropout, pooling, padding and scalar Rescaling are passed through.

    A new, smaller dense model is built from the model's config with fewer `filters` /
    `units` and the sliced weights; `model` itself is not changed. The new model is not
    compiled: fine-tune it for a few epochs to recover the accuracy lost.

    Layers whose channels are model outputs (the classifier) are never pruned. A layer
    whose channels reach a branch, a merge (`Add`, `Concatenate`) or a layer that mixes
    channels (`Reshape`, `LayerNormalization`, softmax) raises a `ValueError` naming both
    layers; list the layers it names in `skip_layers` to keep them whole.

    Args:
        model: A built Sequential or Functional Keras model (channels_last).
        fraction: Fraction of the filters/units of each layer to remove, in `[0, 1)`;
            `round(fraction * n)` are removed. Defaults to `0.5`.
        importance: How filters/units are ranked: `"l1"` (sum of absolute kernel
            weights), `"l2"` (their Euclidean norm) or `"bn_gamma"` (absolute gamma of
            the BatchNormalization that follows; layers without one use `"l1"`).
            Defaults to `"l1"`.
        skip_layers: Names of Conv/Dense layers to leave whole. Defaults to `()`.
        min_channels: Fewest filters/units any layer keeps. Defaults to `1`.

    Returns:
        A `ChannelPruningResult` with the new `model`, a `PrunedLayer` row per Conv/Dense
        layer, and the parameter counts before and after.

    Example:

    >>> from kerasopt.compress.channel_pruning import prune_channels
    >>> from kerasopt.models import build_cnn
    >>> model = build_cnn((8, 8), 10, input_max=16, filters=(8, 16), dense_units=32)
    >>> result = prune_channels(model, 0.5)
    >>> [row.after for row in result.layers]
    [4, 4, 8, 8, 16, 10]
    """
    fraction, importance, skip, min_channels = _check_arguments(
        model, fraction, importance, skip_layers, min_channels
    )
    graph = LayerGraph(model)
    weights = {layer.name: _named_weights(layer) for layer in graph.layers}
    rows, new_sizes = [], {}
    for layer in graph.layers:
        if not is_prunable_kind(layer):
            continue
        size = int(layer.units if hasattr(layer, "units") else layer.filters)
        everything = tuple(range(size))
        if layer.name in skip:
            rows.append(PrunedLayer(layer.name, size, size, everything, "skipped"))
            continue
        steps, reaches_output = graph.follow(layer)
        if reaches_output:
            rows.append(PrunedLayer(layer.name, size, size, everything, "output"))
            continue
        scores = _importance(weights, layer, steps, importance)
        keep = min(size, max(min_channels, size - int(round(fraction * size))))
        kept = np.sort(np.argsort(-scores, kind="stable")[:keep])
        _slice_path(weights, layer, steps, kept, size)
        new_sizes[layer.name] = keep
        rows.append(PrunedLayer(layer.name, size, keep, tuple(int(i) for i in kept), "pruned"))
    pruned = _rebuild(model, new_sizes, weights)
    return ChannelPruningResult(pruned, rows, model.count_params(), pruned.count_params())


def _check_arguments(model, fraction, importance, skip_layers, min_channels):
    if not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise InvalidValueError(
            f"prune_channels needs 0 <= fraction < 1 (the share of filters/units to remove). "
            f"Received: {fraction=}."
        )
    if importance not in IMPORTANCE_CRITERIA:
        raise InvalidValueError(
            f"prune_channels got unknown {importance=}. Expected one of "
            f"{list(IMPORTANCE_CRITERIA)}."
        )
    if not isinstance(min_channels, int) or isinstance(min_channels, bool) or min_channels < 1:
        raise InvalidValueError(
            f"prune_channels needs an integer min_channels >= 1. Received: {min_channels=}."
        )
    skip = {skip_layers} if isinstance(skip_layers, str) else set(skip_layers)
    names = [layer.name for layer in model.layers]
    for name in sorted(skip):
        if name not in names:
            raise InvalidValueError(
                f"skip_layers names {name!r}, which is not a layer of model "
                f"{model.name!r}.{did_you_mean(name, names)} Its layers are {names}."
            )
    return float(fraction), importance, skip, min_channels


def _named_weights(layer) -> list[list]:
    """`[variable name, array]` pairs in the layer's own weight order."""
    return [[v.name, w] for v, w in zip(layer.weights, layer.get_weights(), strict=True)]


def _weight(weights, layer, name):
    for variable_name, array in weights[layer.name]:
        if variable_name == name:
            return array
    return None


def _take(weights, layer, name, indices, axis):
    for pair in weights[layer.name]:
        if pair[0] == name:
            pair[1] = np.take(pair[1], indices, axis=axis)


def _importance(weights, layer, steps, importance) -> np.ndarray:
    if importance == "bn_gamma":
        for step in steps:
            if step.kind == "batch_norm" and _weight(weights, step.layer, "gamma") is not None:
                return np.abs(_weight(weights, step.layer, "gamma"))
    kernel = _weight(weights, layer, "kernel")
    per_unit = kernel.reshape(-1, kernel.shape[-1])
    if importance == "l2":
        return np.sqrt(np.sum(np.square(per_unit), axis=0))
    return np.sum(np.abs(per_unit), axis=0)


def _expand(indices, channels, repeat, *, inner):
    """Indices after each channel becomes `repeat` entries.

    `inner=True`: channel `c` becomes `c * repeat + r` (depthwise multipliers).
    `inner=False`: channel `c` sits at `p * channels + c` for each position `p` (a
    channels_last Flatten of `(..., channels)`: index `(i * w + j) * channels + c`).
    """
    offsets = np.arange(repeat)
    if inner:
        return (indices[:, None] * repeat + offsets[None, :]).ravel()
    return (offsets[:, None] * channels + indices[None, :]).ravel()


def _slice_path(weights, producer, steps, kept, size):
    _take(weights, producer, "kernel", kept, -1)
    _take(weights, producer, "bias", kept, 0)
    indices, channels = kept, size
    for step in steps:
        layer = step.layer
        if step.kind == "batch_norm":
            for name in ("gamma", "beta", "moving_mean", "moving_variance"):
                _take(weights, layer, name, indices, 0)
        elif step.kind == "depthwise":
            _take(weights, layer, "kernel", indices, -2)
            indices = _expand(indices, channels, step.repeat, inner=True)
            channels *= step.repeat
            _take(weights, layer, "bias", indices, 0)
        elif step.kind == "flatten":
            indices = _expand(indices, channels, step.repeat, inner=False)
            channels *= step.repeat
        elif step.kind == "kernel_input":
            _take(weights, layer, "kernel", indices, -2)
        elif step.kind == "separable_input":
            _take(weights, layer, "depthwise_kernel", indices, -2)
            pointwise = _expand(indices, channels, step.repeat, inner=True)
            _take(weights, layer, "pointwise_kernel", pointwise, -2)


def _rebuild(model, new_sizes, weights):
    import keras

    def clone_layer(layer):
        config = layer.get_config()
        if layer.name in new_sizes:
            config["units" if "units" in config else "filters"] = new_sizes[layer.name]
        return layer.__class__.from_config(config)

    pruned = keras.models.clone_model(model, clone_function=clone_layer)
    for layer in pruned.layers:
        if layer.name in weights and weights[layer.name]:
            layer.set_weights([array for _, array in weights[layer.name]])
    return pruned
