"""Follows the channels Conv/Dense layers produce through a Keras model's layer graph.

Every channel a Conv/Dense layer (a *producer*) makes gets an integer id; id 0 stands for
the channels no producer owns (the model input, a SeparableConv's output). Walking the
nodes in order, each tensor gets a *layout*, the id of each of its channels: layers that
act on each channel alone pass it on, a depthwise conv repeats each id
`depth_multiplier` times, a Flatten tiles it over the positions, a channel `Concatenate`
joins the layouts, and an elementwise merge (`Add`, `Multiply`, ...) records that the ids
it lines up are one channel (`joins`). Every layer whose weights see the channels
(BatchNormalization, a depthwise conv, the next Conv/Dense) becomes a `ChannelStep`
holding its input layout, to be sliced once the ids kept are known. A layer that mixes
channels records a `Refusal`. Nested Sequential/Functional models are walked inside.
No weight is touched here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from kerasopt.core.errors import InvalidTypeError, InvalidValueError

#: The id of channels no Conv/Dense of the model produced: they are always kept.
FIXED = 0

#: Softmax mixes the units it normalizes, so removing one changes all the others.
_CHANNEL_MIXING_ACTIVATIONS = ("softmax", "log_softmax")

_ELEMENTWISE_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")


@dataclasses.dataclass(frozen=True)
class ChannelStep:
    """A layer whose weights see pruned channels, with the channel ids of its input.

    `kind` is `"batch_norm"` (slice gamma, beta and moving statistics), `"depthwise"`
    (slice the depthwise kernel's input axis and the `repeat`-expanded bias),
    `"kernel_input"` (slice a Conv/Dense kernel's input axis), `"separable_input"`
    (slice a separable conv's depthwise kernel and `repeat`-expanded pointwise input) or
    `"reshape"` (a Reshape that keeps the channel axis last: its `target_shape` shrinks).
    """

    layer: object
    kind: str
    ids: np.ndarray
    repeat: int = 1


@dataclasses.dataclass(eq=False)
class Producer:
    """A Conv/Dense layer whose filters/units can be removed; `ids` number its channels.

    `name` is the layer's path (`"backbone/conv2d"` inside a nested model), `aliases` the
    names `skip_layers` may use for it, `batch_norm` the BatchNormalization its channels
    reach through per-channel layers only (for `importance="bn_gamma"`).
    """

    layer: object
    name: str
    aliases: frozenset
    ids: np.ndarray
    batch_norm: object = None


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Channels `ids` reach `layer`, which cannot keep them one-to-one, for `reason`."""

    ids: np.ndarray
    layer: object
    reason: str


@dataclasses.dataclass(frozen=True)
class _Layout:
    ids: np.ndarray
    direct: Producer | None = None  # set while only per-channel layers follow the producer


class ChannelGraph:
    """The producers, steps, joins, pins and refusals of a Sequential/Functional model.

    Args:
        model: A built `keras.Sequential` or Functional `keras.Model`.
    """

    def __init__(self, model):
        import keras

        functional = _graph_of(model)
        if isinstance(model, keras.Sequential) and functional is None:
            raise InvalidValueError(
                f"prune_channels needs a built model; Sequential {model.name!r} is not "
                "built. Start it with `keras.Input(shape)` or call `model.build(shape)`."
            )
        if functional is None:
            raise InvalidTypeError(
                "prune_channels supports Sequential and Functional models, whose layer graph "
                f"it can read. Received: {type(model).__name__} {model.name!r} (a subclassed "
                "model). Rebuild it with `keras.Model(inputs, outputs)`."
            )
        self.producers: list[Producer] = []
        self.steps: list[ChannelStep] = []
        self.joins: list[tuple[np.ndarray, np.ndarray]] = []
        self.pins: list[tuple[np.ndarray, str]] = []
        self.refusals: list[Refusal] = []
        self.names: set[str] = set()
        self.size = FIXED + 1
        self._layouts, self._producer_of, self._step_of = {}, {}, {}
        self._walk(functional, ())
        for tensor in keras.tree.flatten(functional.outputs):
            self._pin(self._layout(tensor).ids, "output")

    def _walk(self, functional, enclosing: tuple[str, ...]):
        import keras

        for depth in sorted(functional._nodes_by_depth, reverse=True):
            for node in functional._nodes_by_depth[depth]:
                operation = node.operation
                if isinstance(operation, keras.layers.InputLayer):
                    for tensor in node.outputs:
                        self._layouts.setdefault(id(tensor), _Layout(_fixed(tensor)))
                    continue
                self.names.update({operation.name, "/".join((*enclosing, operation.name))})
                inputs = [self._layout(t) for t in node.arguments.keras_tensors]
                outputs = self._visit(operation, node, inputs, enclosing)
                for tensor, layout in zip(node.outputs, outputs, strict=True):
                    self._layouts[id(tensor)] = layout

    def _visit(self, layer, node, inputs, enclosing) -> list[_Layout]:
        import keras

        layers = keras.layers
        inner = _graph_of(layer)
        if inner is not None:
            return self._visit_nested(layer, inner, node, inputs, enclosing)
        if isinstance(layer, keras.Model):
            return self._opaque(layer, node, inputs, "it is a model whose layers it cannot see")
        if not isinstance(layer, layers.Layer):
            return self._opaque(layer, node, inputs, "it is an operation, not a layer")
        config = layer.get_config()
        problem = _format_problem(config)
        if is_prunable_kind(layer) and len(inputs) == 1:
            return [self._produce(layer, node, inputs, config, problem, enclosing)]
        if problem or not inputs:
            return self._opaque(layer, node, inputs, problem or "it takes no tensor")
        layout = inputs[0]
        if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
            self._consume(layer, "separable_input", layout, config["depth_multiplier"])
            return [_Layout(_fixed(node.outputs[0]))]
        if isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
            self._consume(layer, "depthwise", layout, config["depth_multiplier"])
            return [_Layout(np.repeat(layout.ids, config["depth_multiplier"]))]
        if isinstance(layer, layers.BatchNormalization):
            rank = len(node.arguments.keras_tensors[0].shape)
            if layer.axis not in (-1, rank - 1):
                return self._opaque(layer, node, inputs, f"it normalizes axis {layer.axis}")
            self._consume(layer, "batch_norm", layout)
            if layout.direct is not None and layout.direct.batch_norm is None:
                layout.direct.batch_norm = layer
            return [layout]
        if isinstance(layer, layers.Flatten):
            spatial = tuple(node.arguments.keras_tensors[0].shape)[1:-1]
            if any(d is None for d in spatial):
                reason = f"its input has unknown dimensions {spatial}"
                return self._opaque(layer, node, inputs, reason)
            return [_Layout(np.tile(layout.ids, math.prod(spatial)))]
        if isinstance(layer, layers.Reshape):
            before, after = node.arguments.keras_tensors[0].shape[-1], node.outputs[0].shape[-1]
            if before is not None and before == after:  # channels_last order keeps each channel
                self._consume(layer, "reshape", layout)
                return [_Layout(layout.ids)]
            return self._opaque(layer, node, inputs, f"it reshapes {before} channels to {after}")
        if isinstance(layer, layers.Concatenate):
            rank = len(node.outputs[0].shape)
            if config["axis"] % rank == rank - 1:
                return [_Layout(np.concatenate([each.ids for each in inputs]))]
            return self._merge(layer, node, inputs)
        if isinstance(layer, tuple(getattr(layers, name) for name in _ELEMENTWISE_MERGES)):
            return self._merge(layer, node, inputs)
        mixing = _mixing_reason(layer, config)
        if mixing is None and isinstance(layer, _per_channel_types()) and len(inputs) == 1:
            return [layout]
        return self._opaque(layer, node, inputs, mixing or "it does not keep channels one-to-one")

    def _visit_nested(self, model, inner, node, inputs, enclosing) -> list[_Layout]:
        import keras

        inner_inputs = keras.tree.flatten(inner.inputs)
        inner_outputs = keras.tree.flatten(inner.outputs)
        if len(inner_inputs) != len(inputs) or len(inner_outputs) != len(node.outputs):
            return self._opaque(model, node, inputs, "its inputs or outputs could not be matched")
        for tensor, layout in zip(inner_inputs, inputs, strict=True):
            self._layouts[id(tensor)] = layout
        self._walk(inner, (*enclosing, model.name))
        return [self._layout(tensor) for tensor in inner_outputs]

    def _produce(self, layer, node, inputs, config, problem, enclosing) -> _Layout:
        if problem:
            self._opaque(layer, node, inputs, problem)
        else:
            self._consume(layer, "kernel_input", inputs[0])
        producer = self._producer_of.get(id(layer))
        if producer is None:
            width = int(config["units"] if "units" in config else config["filters"])
            ids = np.arange(self.size, self.size + width)
            self.size += width
            path = "/".join((*enclosing, layer.name))
            producer = Producer(layer, path, frozenset((layer.name, path, *enclosing)), ids)
            self._producer_of[id(layer)] = producer
            self.producers.append(producer)
            mixing = config.get("activation") in _CHANNEL_MIXING_ACTIVATIONS
            if problem or mixing:
                self._refuse(ids, layer, problem or f"its {config['activation']} mixes its units")
        if problem:  # its channels are not on the last axis: nothing downstream is sliced
            return _Layout(_fixed(node.outputs[0]))
        return _Layout(producer.ids, producer)

    def _consume(self, layer, kind, layout, repeat=1):
        earlier = self._step_of.get(id(layer))
        if earlier is None:
            self._step_of[id(layer)] = step = ChannelStep(layer, kind, layout.ids, repeat)
            self.steps.append(step)
        else:
            # A layer called twice slices one set of weights: both inputs keep the same channels.
            self._join(earlier.ids, layout.ids)

    def _merge(self, layer, node, inputs) -> list[_Layout]:
        widths = sorted({len(each.ids) for each in inputs})
        if set(widths) - {1, widths[-1]}:
            return self._opaque(layer, node, inputs, f"its inputs have {widths} channels")
        base = next(each for each in inputs if len(each.ids) == widths[-1])
        for each in inputs:
            if len(each.ids) == len(base.ids):
                self._join(base.ids, each.ids)
            else:  # one channel broadcast over all of them: keep it
                self._pin(each.ids, "fixed")
        return [_Layout(base.ids)]

    def _join(self, a, b):
        both = (a != FIXED) & (b != FIXED)
        self.joins.append((a[both], b[both]))
        # A channel added to one no producer owns must stay, like that one.
        self._pin(np.where(a == FIXED, b, a)[(a == FIXED) ^ (b == FIXED)], "fixed")

    def _pin(self, ids, reason):
        ids = ids[ids != FIXED]
        if ids.size:
            self.pins.append((ids, reason))

    def _refuse(self, ids, layer, reason):
        ids = ids[ids != FIXED]
        if ids.size:
            self.refusals.append(Refusal(np.unique(ids), layer, reason))

    def _opaque(self, layer, node, inputs, reason) -> list[_Layout]:
        for layout in inputs:
            self._refuse(layout.ids, layer, reason)
        return [_Layout(_fixed(tensor)) for tensor in node.outputs]

    def _layout(self, tensor) -> _Layout:
        return self._layouts.get(id(tensor)) or _Layout(_fixed(tensor))


def is_prunable_kind(layer) -> bool:
    """Whether `layer` is a Conv1D/2D/3D or Dense, whose filters/units can be removed."""
    import keras

    layers = keras.layers
    return isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.Dense))


def _graph_of(model):
    """The Functional graph of a Functional/Sequential model, or `None`."""
    import keras

    if isinstance(model, keras.Sequential):
        return getattr(model, "_functional", None)
    if isinstance(model, keras.Model) and hasattr(model, "_nodes_by_depth"):
        return model
    return None


def _fixed(tensor) -> np.ndarray:
    shape = tuple(tensor.shape)
    width = shape[-1] if shape and shape[-1] is not None else 1
    return np.full(width, FIXED)


def _format_problem(config) -> str | None:
    if config.get("data_format", "channels_last") != "channels_last":
        return "it is channels_first"
    if config.get("groups", 1) != 1:
        return f"it is a grouped convolution (groups={config['groups']})"
    return None


def _mixing_reason(layer, config) -> str | None:
    import keras

    if config.get("activation") in _CHANNEL_MIXING_ACTIVATIONS:
        return f"its {config['activation']} mixes the channels"
    if isinstance(layer, keras.layers.Rescaling):
        if any(np.size(config[key]) != 1 for key in ("scale", "offset")):
            return "it rescales each channel differently"
    return None


def _per_channel_types() -> tuple:
    """Layers that act on each channel alone and keep the channel axis as it is."""
    import keras

    names = (
        "Activation Rescaling ReLU LeakyReLU ELU Dropout SpatialDropout1D "
        "SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout AlphaDropout "
        "ActivityRegularization Identity MaxPooling1D MaxPooling2D MaxPooling3D "
        "AveragePooling1D AveragePooling2D AveragePooling3D GlobalMaxPooling1D "
        "GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D "
        "GlobalAveragePooling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D "
        "Cropping2D Cropping3D UpSampling1D UpSampling2D UpSampling3D"
    ).split()
    return tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))
