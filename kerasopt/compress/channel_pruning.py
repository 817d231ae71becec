"""`prune_channels`: structured pruning that removes whole filters and units.

Magnitude pruning zeroes single weights and leaves the shapes alone, so a phone runs
the same dense kernels as before. Removing whole Conv filters and Dense units instead
builds a model with smaller layers, which is both smaller and faster on any runtime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np

from kerasopt.compress._channel_groups import choose_channels
from kerasopt.compress._graph_walk import ChannelGraph
from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.suggestions import did_you_mean

IMPORTANCE_CRITERIA = ("l1", "l2", "bn_gamma")


@dataclasses.dataclass(frozen=True)
class PrunedLayer:
    """What `prune_channels` did to one Conv/Dense layer.

    `status` is `"pruned"`, `"skipped"` (it, or a layer in `coupled`, is named in
    `skip_layers`), `"output"` (its channels, or those of a layer in `coupled`, leave
    the model) or `"fixed"` (its channels meet, at a merge, channels no Conv/Dense
    produces, such as the model input). `kept` holds the original indices of the
    filters/units kept, in order. `coupled` names the other Conv/Dense layers whose
    channels meet this one's at an `Add`-like merge: they are pruned together and keep
    the same channels. Layers inside a nested model are named by their path
    (`"backbone/conv2d"`).
    """

    name: str
    before: int
    after: int
    kept: tuple[int, ...]
    status: str
    coupled: tuple[str, ...] = ()


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
            coupled = f" (with {', '.join(row.coupled)})" if row.coupled else ""
            lines.append(f"{row.name:<24}{row.before:>8}{row.after:>8}  {row.status}{coupled}")
        ratio = self.params_before / max(self.params_after, 1)
        lines.append(f"params {self.params_before} -> {self.params_after} ({ratio:.2f}x fewer)")
        return "\n".join(lines)


def prune_channels(
    model,
    fraction: float = 0.5,
    *,
    layer_fractions: Mapping[str, float] | None = None,
    importance: str = "l1",
    skip_layers: Iterable[str] = (),
    min_channels: int = 1,
) -> ChannelPruningResult:
    """Removes the least important filters of Conv layers and units of Dense layers.

    For every Conv1D/Conv2D/Conv3D and Dense layer, the `fraction` of filters/units with
    the lowest importance is removed, together with the matching slices of every layer
    that sees those channels: BatchNormalization (gamma, beta, moving mean and
    variance), DepthwiseConv and SeparableConv inputs, and the input axis of each
    Conv/Dense kernel they reach, across a Flatten too (whose output interleaves the
    channels at every position). Activations, dropout, pooling, padding, scalar
    Rescaling and a Reshape that keeps the channel axis last (a squeeze-and-excitation
    gate) are passed through; a tensor that feeds several layers is followed along each
    of them.

    Residual models work: layers whose channels meet at an elementwise merge (`Add`,
    `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`), directly or through the
    per-channel layers above, form a group that keeps the same channel indices (a
    residual stage and its shortcut). Each channel of a group is scored by the summed
    importance of its layers (each layer's divided by its mean), and the group loses the
    `fraction` of its channels with the lowest score. A `Concatenate` along the channels
    is followed too, each input at its offset. Layers inside a nested
    Sequential/Functional model (a backbone) are pruned like the others.

    A new, smaller model is built from the model's config with fewer `filters` /
    `units` and the sliced weights; `model` itself is not changed. The new model is not
    compiled: fine-tune it for a few epochs to recover the accuracy lost.

    A group is kept whole when its channels leave the model (the classifier), when it
    holds a layer named in `skip_layers`, or when they meet channels no Conv/Dense makes
    (the model input added to a conv's output). A group whose channels reach a layer
    that mixes channels (a `Reshape` of the channel axis, `LayerNormalization`, softmax,
    an unknown layer)
    raises a `ValueError` naming both layers and the `skip_layers` that avoid it.

    Args:
        model: A built Sequential or Functional Keras model (channels_last).
        fraction: Fraction of the filters/units of each layer (or group) to remove, in
            `[0, 1)`; `round(fraction * n)` are removed. Defaults to `0.5`.
        layer_fractions: `{layer name: fraction}` for layers (or nested models) that
            lose another share than `fraction`, such as `allocate_channels` chooses; a
            coupled group takes the smallest share named among its layers. Defaults to
            `None`.
        importance: How filters/units are ranked: `"l1"` (sum of absolute kernel
            weights), `"l2"` (their Euclidean norm) or `"bn_gamma"` (absolute gamma of
            the BatchNormalization that follows; layers without one use `"l1"`).
            Defaults to `"l1"`.
        skip_layers: Names of Conv/Dense layers (or of a nested model) to leave whole,
            with every layer coupled to them. Defaults to `()`.
        min_channels: Fewest filters/units any layer keeps. Defaults to `1`.

    Returns:
        A `ChannelPruningResult` with the new `model`, a `PrunedLayer` row per Conv/Dense
        layer, and the parameter counts before and after.

    Example:

    >>> from kerasopt.compress.channel_pruning import prune_channels
    >>> from kerasopt.models import build_residual_cnn
    >>> model = build_residual_cnn((8, 8), 10, input_max=16, widths=(8, 16))
    >>> result = prune_channels(model, 0.5)
    >>> [(row.name, row.after) for row in result.layers][:3]
    [('stem0_conv', 4), ('stage1_a_conv', 8), ('stage1_b_conv', 8)]
    >>> result.layers[2].coupled
    ('stage1_projection_conv',)
    """
    planner = ChannelPruningPlanner(
        model, importance=importance, skip_layers=skip_layers, min_channels=min_channels
    )
    return planner.prune(fraction, layer_fractions)


class ChannelPruningPlanner:
    """Walks a model once, then sizes or builds its channel-pruned versions.

    `prune_channels` is `ChannelPruningPlanner(model, ...).prune(fraction)`. Searching
    per-layer fractions (`allocate_channels`) asks for the parameter count of many
    candidates: `params` slices the weights without building a model, so one candidate
    costs milliseconds. The weights are read once, when the planner is made: make a new
    one after training the model further.

    Args:
        model: A built Sequential or Functional Keras model (channels_last).
        importance: `"l1"`, `"l2"` or `"bn_gamma"`, as in `prune_channels`.
        skip_layers: Conv/Dense layers (or nested models) to leave whole.
        min_channels: Fewest filters/units any layer keeps.

    Example:

    >>> from kerasopt.compress.channel_pruning import ChannelPruningPlanner
    >>> from kerasopt.models import build_residual_cnn
    >>> model = build_residual_cnn((8, 8), 10, input_max=16, widths=(8, 16))
    >>> planner = ChannelPruningPlanner(model)
    >>> planner.params(0.5) == planner.prune(0.5).model.count_params()
    True
    """

    def __init__(self, model, *, importance="l1", skip_layers=(), min_channels=1):
        importance, min_channels = _check_arguments(importance, min_channels)
        self.model, self.min_channels = model, min_channels
        self.graph = ChannelGraph(model)
        self.skip = _check_skip_layers(model, self.graph, skip_layers)
        self._originals = {}
        weights = _PlanWeights(self._originals)
        self.scores = [_importance(weights, p, importance) for p in self.graph.producers]
        self.params_before = model.count_params()

    def params(self, fraction: float = 0.5, layer_fractions: Mapping | None = None) -> int:
        """Parameters (trainable or not) of the model `prune` would build, without building it."""
        weights, _, _ = self._plan(fraction, layer_fractions)
        change = 0
        for key, pairs in weights.items():
            change += sum(a.size for _, a in pairs) - sum(a.size for _, a in self._originals[key])
        return self.params_before + change

    def layers(self, fraction: float = 0.5, layer_fractions: Mapping | None = None):
        """The `PrunedLayer` rows `prune` would report, without building the model."""
        return self._plan(fraction, layer_fractions)[2]

    def prune(self, fraction: float = 0.5, layer_fractions: Mapping | None = None):
        """The smaller model and a `PrunedLayer` row per Conv/Dense layer (see `prune_channels`)."""
        weights, new_configs, rows = self._plan(fraction, layer_fractions)
        pruned = _rebuild(self.model, new_configs, weights)
        return ChannelPruningResult(pruned, rows, self.params_before, pruned.count_params())

    def _plan(self, fraction, layer_fractions):
        fraction = _check_fraction("fraction", fraction)
        shares = self._check_layer_fractions(layer_fractions)
        graph = self.graph
        choice = choose_channels(graph, self.scores, fraction, self.skip, self.min_channels, shares)
        weights, rows, new_configs = _PlanWeights(self._originals), [], {}
        for index, producer in enumerate(graph.producers):
            kept = np.flatnonzero(choice.keep[producer.ids])
            size = len(producer.ids)
            if len(kept) < size:
                _take(weights, producer.layer, "kernel", kept, -1)
                _take(weights, producer.layer, "bias", kept, 0)
                key = "units" if "units" in producer.layer.get_config() else "filters"
                new_configs[id(producer.layer)] = {key: len(kept)}
            rows.append(
                PrunedLayer(
                    producer.name,
                    size,
                    len(kept),
                    tuple(int(i) for i in kept),
                    choice.statuses[index],
                    choice.coupled[index],
                )
            )
        for step in graph.steps:
            _slice_step(weights, new_configs, step, choice.keep[step.ids])
        return weights, new_configs, rows

    def _check_layer_fractions(self, layer_fractions) -> dict[str, float]:
        if layer_fractions is None:
            return {}
        if not isinstance(layer_fractions, Mapping):
            raise InvalidTypeError(
                "prune_channels expects layer_fractions as a mapping {layer name: fraction}. "
                f"Received: {type(layer_fractions).__name__}."
            )
        _check_skip_layers(self.model, self.graph, layer_fractions, argument="layer_fractions")
        return {
            name: _check_fraction(f"layer_fractions[{name!r}]", value)
            for name, value in layer_fractions.items()
        }


class _PlanWeights(dict):
    """`id(layer)` -> `[variable name, array]` pairs of one plan; arrays are read once per
    planner (`originals`) and replaced, never changed in place, when sliced."""

    def __init__(self, originals: dict):
        super().__init__()
        self.originals = originals


def _check_fraction(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1:
        raise InvalidValueError(
            f"prune_channels needs 0 <= {name} < 1 (the share of filters/units to remove). "
            f"Received: {name}={value!r}."
        )
    return float(value)


def _check_arguments(importance, min_channels):
    if importance not in IMPORTANCE_CRITERIA:
        raise InvalidValueError(
            f"prune_channels got unknown {importance=}. Expected one of "
            f"{list(IMPORTANCE_CRITERIA)}."
        )
    if not isinstance(min_channels, int) or isinstance(min_channels, bool) or min_channels < 1:
        raise InvalidValueError(
            f"prune_channels needs an integer min_channels >= 1. Received: {min_channels=}."
        )
    return importance, min_channels


def _check_skip_layers(model, graph, skip_layers, argument="skip_layers") -> set[str]:
    skip = {skip_layers} if isinstance(skip_layers, str) else set(skip_layers)
    names = [layer.name for layer in model.layers]
    known = graph.names | set(names)
    for name in sorted(skip):
        if name not in known:
            raise InvalidValueError(
                f"{argument} names {name!r}, which is not a layer of model "
                f"{model.name!r}.{did_you_mean(name, sorted(known))} Its layers are {names}."
            )
    return skip


def _arrays(weights: _PlanWeights, layer) -> list[list]:
    """`[variable name, array]` pairs in the layer's own weight order, read once."""
    key = id(layer)
    if key not in weights.originals:
        pairs = zip(layer.weights, layer.get_weights(), strict=True)
        weights.originals[key] = [(variable.name, array) for variable, array in pairs]
    if key not in weights:
        weights[key] = [[name, array] for name, array in weights.originals[key]]
    return weights[key]


def _weight(weights, layer, name):
    for variable_name, array in _arrays(weights, layer):
        if variable_name == name:
            return array
    return None


def _take(weights, layer, name, indices, axis):
    for pair in _arrays(weights, layer):
        if pair[0] == name:
            pair[1] = np.take(pair[1], indices, axis=axis)


def _importance(weights, producer, importance) -> np.ndarray:
    if importance == "bn_gamma" and producer.batch_norm is not None:
        gamma = _weight(weights, producer.batch_norm, "gamma")
        if gamma is not None:
            return np.abs(gamma)
    kernel = _weight(weights, producer.layer, "kernel")
    per_unit = kernel.reshape(-1, kernel.shape[-1])
    if importance == "l2":
        return np.sqrt(np.sum(np.square(per_unit), axis=0))
    return np.sum(np.abs(per_unit), axis=0)


def _slice_step(weights, new_configs, step, mask):
    if mask.all():
        return
    kept, layer = np.flatnonzero(mask), step.layer
    if step.kind == "reshape":
        target = list(layer.get_config()["target_shape"])
        if target[-1] != -1:
            new_configs[id(layer)] = {"target_shape": (*target[:-1], len(kept))}
    elif step.kind == "batch_norm":
        for name in ("gamma", "beta", "moving_mean", "moving_variance"):
            _take(weights, layer, name, kept, 0)
    elif step.kind == "depthwise":
        _take(weights, layer, "kernel", kept, -2)
        _take(weights, layer, "bias", np.flatnonzero(np.repeat(mask, step.repeat)), 0)
    elif step.kind == "kernel_input":
        _take(weights, layer, "kernel", kept, -2)
    elif step.kind == "separable_input":
        _take(weights, layer, "depthwise_kernel", kept, -2)
        pointwise = np.flatnonzero(np.repeat(mask, step.repeat))
        _take(weights, layer, "pointwise_kernel", pointwise, -2)


def _rebuild(model, new_configs, weights):
    import keras

    clones = []

    def clone_layer(layer):
        config = {**layer.get_config(), **new_configs.get(id(layer), {})}
        clone = layer.__class__.from_config(config)
        clones.append((layer, clone))
        return clone

    pruned = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    for layer, clone in clones:
        if id(layer) in weights:
            arrays = [array for _, array in weights[id(layer)]]
        else:
            arrays = layer.get_weights()
        if arrays:
            clone.set_weights(arrays)
    return pruned
