"""Follows the channels a Conv/Dense layer produces through a Keras model's layer graph.

`prune_channels` needs, for every prunable layer, the layers that see its output channels
one-to-one (BatchNormalization, activations, pooling, Flatten) up to the layer that
consumes them (the next Conv/Dense). This module finds that path, or says why there is
none, without touching any weight.
"""

from __future__ import annotations

import dataclasses
import math

from kerasopt.core.errors import InvalidTypeError, InvalidValueError

#: Softmax mixes the units it normalizes, so removing one changes all the others.
_CHANNEL_MIXING_ACTIVATIONS = ("softmax", "log_softmax")


@dataclasses.dataclass(frozen=True)
class ChannelStep:
    """One layer on a channel path whose weights or indices the pruning has to follow.

    `kind` is `"batch_norm"` (slice gamma, beta and moving statistics), `"depthwise"`
    (slice the depthwise kernel; each channel becomes `repeat` channels), `"flatten"`
    (each channel appears at `repeat` spatial positions), `"kernel_input"` (slice the
    consumer's kernel input axis; the path ends) or `"separable_input"` (slice a
    separable conv's depthwise kernel and `repeat`-expanded pointwise input; ends).
    """

    layer: object
    kind: str
    repeat: int = 1


class LayerGraph:
    """Producers, consumers and input shapes of the layers of a Sequential/Functional model.

    Args:
        model: A built `keras.Sequential` or Functional `keras.Model`.
    """

    def __init__(self, model):
        import keras

        functional = model
        if isinstance(model, keras.Sequential):
            functional = getattr(model, "_functional", None)
            if functional is None:
                raise InvalidValueError(
                    f"prune_channels needs a built model; Sequential {model.name!r} is not "
                    "built. Start it with `keras.Input(shape)` or call `model.build(shape)`."
                )
        if not hasattr(functional, "_nodes_by_depth"):
            raise InvalidTypeError(
                "prune_channels supports Sequential and Functional models, whose layer graph "
                f"it can read. Received: {type(model).__name__} {model.name!r} (a subclassed "
                "model). Rebuild it with `keras.Model(inputs, outputs)`."
            )
        self.layers = []
        self._inputs, self._consumers, self._shapes, self._calls = {}, {}, {}, {}
        for depth in sorted(functional._nodes_by_depth, reverse=True):
            for node in functional._nodes_by_depth[depth]:
                layer = node.operation
                if id(layer) not in self._calls:
                    self.layers.append(layer)
                self._calls[id(layer)] = self._calls.get(id(layer), 0) + 1
                tensors = node.arguments.keras_tensors
                producers = [t._keras_history.operation for t in tensors]
                self._inputs[id(layer)] = producers
                self._shapes[id(layer)] = tuple(tensors[0].shape) if tensors else None
                for producer in producers:
                    self._consumers.setdefault(id(producer), []).append(layer)
        self._outputs = {id(t._keras_history.operation) for t in functional.outputs}

    def consumers(self, layer) -> list:
        return self._consumers.get(id(layer), [])

    def input_shape(self, layer) -> tuple | None:
        return self._shapes.get(id(layer))

    def is_output(self, layer) -> bool:
        return id(layer) in self._outputs

    def upstream_producers(self, layer) -> list[str]:
        """Names of the nearest prunable layers whose channels reach `layer`'s inputs."""
        names, stack = [], list(self._inputs.get(id(layer), []))
        while stack:
            current = stack.pop()
            if is_prunable_kind(current):
                names.append(current.name)
            else:
                stack.extend(self._inputs.get(id(current), []))
        return sorted(set(names))

    def follow(self, producer) -> tuple[list[ChannelStep], bool]:
        """The steps from `producer`'s output channels to their consumer.

        Returns `(steps, reaches_output)`; `reaches_output` is true when the channels
        leave the model as an output, so they must not be pruned.

        Raises:
            ValueError: when a layer on the way does not keep channels one-to-one (a
                branch, a merge, a Reshape, LayerNormalization, ...), naming it.
        """
        if self.is_output(producer):
            return [], True
        config = producer.get_config()
        if config.get("activation") in _CHANNEL_MIXING_ACTIVATIONS:
            self._fail(producer, producer, f"its {config['activation']} mixes its units")
        self._check_channels_last_ungrouped(producer, producer, config)
        steps, current = [], producer
        while not self.is_output(current):
            consumers = self.consumers(current)
            if len(consumers) != 1:
                names = ", ".join(repr(layer.name) for layer in consumers)
                self._fail(producer, current, f"its output feeds {len(consumers)} layers ({names})")
            current = consumers[0]
            if self._calls[id(current)] > 1:
                self._fail(producer, current, "it is shared (called more than once)")
            step = self._classify(producer, current)
            if step is not None:
                steps.append(step)
                if step.kind in ("kernel_input", "separable_input"):
                    return steps, False
        return steps, True

    def _classify(self, producer, layer) -> ChannelStep | None:
        import keras

        layers = keras.layers
        config = layer.get_config()
        self._check_channels_last_ungrouped(producer, layer, config)
        if is_prunable_kind(layer):
            return ChannelStep(layer, "kernel_input")
        if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
            return ChannelStep(layer, "separable_input", config["depth_multiplier"])
        if isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
            return ChannelStep(layer, "depthwise", config["depth_multiplier"])
        if isinstance(layer, layers.BatchNormalization):
            rank = len(self.input_shape(layer))
            if layer.axis not in (-1, rank - 1):
                self._fail(producer, layer, f"it normalizes axis {layer.axis}, not the channels")
            return ChannelStep(layer, "batch_norm")
        if isinstance(layer, layers.Flatten):
            spatial = self.input_shape(layer)[1:-1]
            if any(d is None for d in spatial):
                self._fail(producer, layer, f"its input has unknown dimensions {spatial}")
            return ChannelStep(layer, "flatten", math.prod(spatial))
        if isinstance(layer, layers.Activation):
            if config["activation"] in _CHANNEL_MIXING_ACTIVATIONS:
                self._fail(producer, layer, f"its {config['activation']} mixes the channels")
            return None
        if isinstance(layer, layers.Rescaling):
            if any(isinstance(config[k], (list, tuple)) for k in ("scale", "offset")):
                self._fail(producer, layer, "it rescales each channel differently")
            return None
        if isinstance(layer, _pass_through_types()):
            return None
        if type(layer).__name__ in _MERGE_LAYERS:
            feeding = self.upstream_producers(layer)
            self._fail(producer, layer, "it merges branches", skip=feeding or [producer.name])
        self._fail(producer, layer, "it does not keep channels one-to-one")

    def _check_channels_last_ungrouped(self, producer, layer, config):
        if config.get("data_format", "channels_last") != "channels_last":
            self._fail(producer, layer, "it is channels_first")
        if config.get("groups", 1) != 1:
            self._fail(producer, layer, f"it is a grouped convolution (groups={config['groups']})")

    @staticmethod
    def _fail(producer, layer, reason: str, skip: list[str] | None = None):
        skip = skip or [producer.name]
        raise InvalidValueError(
            f"prune_channels cannot follow the channels of layer {producer.name!r} through "
            f"layer {layer.name!r} ({type(layer).__name__}): {reason}. Expected a chain of "
            "Conv/Dense layers with BatchNormalization, activation, dropout, pooling or "
            f"Flatten between them. Pass skip_layers={skip} to leave them unpruned."
        )


_MERGE_LAYERS = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")


def is_prunable_kind(layer) -> bool:
    """Whether `layer` is a Conv1D/2D/3D or Dense, whose filters/units can be removed."""
    import keras

    layers = keras.layers
    return isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.Dense))


def _pass_through_types() -> tuple:
    """Layers that act on each channel alone and keep the channel axis as it is."""
    import keras

    names = (
        "ReLU LeakyReLU ELU Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D "
        "GaussianNoise GaussianDropout AlphaDropout ActivityRegularization Identity "
        "MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D "
        "AveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D "
        "GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D "
        "ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D Cropping3D "
        "UpSampling1D UpSampling2D UpSampling3D"
    ).split()
    return tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))
