"""The bridge between Keras 3 models and `tf_keras`, the only model type TF-MOT takes.

`to_tf_keras` rebuilds a Keras 3 Sequential or Functional model in `tf_keras` from its
config and copies the weights over by layer name; `from_tf_keras` does the way back into
a fresh Keras 3 clone. Neither touches the model it is given.

The config has to be translated because the two Keras versions write it differently:
`InputLayer(batch_shape=...)` becomes `batch_input_shape`, `DTypePolicy` dicts become
dtype names, each functional node `{"args": [...], "kwargs": {...}}` becomes the old
`[[layer, node, tensor, kwargs], ...]` list, and keys the `tf_keras` class lacks are
dropped when they hold the Keras 3 default (anything else is refused, never dropped).
Only the layers in `SUPPORTED_LAYERS` are translated, because each one is checked to
predict the same after the round trip; any other layer raises `BridgeError`.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras

from kerasopt.compress._tfmot import tf_keras
from kerasopt.core.errors import InvalidTypeError, KerasoptError

#: Layers checked to predict the same in both Keras versions (Bidirectional: of LSTM/GRU).
SUPPORTED_LAYERS = tuple(
    """InputLayer Conv1D Conv2D DepthwiseConv2D SeparableConv2D Dense BatchNormalization
    Dropout MaxPooling1D MaxPooling2D AveragePooling1D AveragePooling2D GlobalAveragePooling1D
    GlobalAveragePooling2D Add Concatenate Rescaling Resizing Embedding LSTM GRU Bidirectional
    Flatten Reshape ReLU Activation""".split()
)
_WAY_OUT = "Use backend='native' (kerasopt's own Keras 3 implementation)"
# tf_keras reads these from **kwargs rather than naming them in __init__.
_KWARGS_KEYS = {"zero_output_for_mask", "batch_input_shape"}
# Keras 3 writes its resolved default where the tf_keras layer has no option at all.
_TF_KERAS_IMPLIES = {"data_format": "channels_last"}


class BridgeError(KerasoptError, ValueError):
    """Raised when a Keras 3 model cannot be carried to `tf_keras` (or back) faithfully."""


def to_tf_keras(model: keras.Model):
    """Rebuilds a Keras 3 Sequential or Functional model in `tf_keras`, weights included.

    The Keras 3 model is only read: its config is translated and its weights are copied
    layer by layer into new `tf_keras` layers, so TF-MOT can wrap and train the copy.

    Args:
        model: A built Keras 3 `Sequential` or Functional model whose layers are all in
            `SUPPORTED_LAYERS`.

    Returns:
        A `tf_keras.Model` with the same layer names, config and weights.

    Raises:
        BridgeError: if the model is subclassed or unbuilt, or has layers the bridge
            does not cover (all of them are named in one error).

    Example:

    >>> import keras
    >>> from kerasopt.compress.bridge import to_tf_keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> to_tf_keras(model).layers[0].name == model.layers[0].name
    True
    """
    _check_model(model, "to_tf_keras")
    tfk = tf_keras()
    config = model.get_config()
    layers = [_translate_layer(entry, owner=entry["config"]["name"]) for entry in config["layers"]]
    if isinstance(model, keras.Sequential):
        rebuilt = tfk.Sequential.from_config({"name": config["name"], "layers": layers})
    else:
        for layer, entry in zip(layers, config["layers"], strict=True):
            layer["name"] = entry["name"]
            layer["inbound_nodes"] = [_old_node(n, entry["name"]) for n in entry["inbound_nodes"]]
        kept = ("name", "input_layers", "output_layers")
        rebuilt = tfk.Model.from_config({"layers": layers, **{k: config[k] for k in kept}})
    targets = {layer.name: layer for layer in rebuilt.layers}
    for layer in model.layers:
        if layer.weights:
            _copy_weights(layer.get_weights(), targets[layer.name], layer.name)
    return rebuilt


def from_tf_keras(tf_keras_model, like: keras.Model) -> keras.Model:
    """Copies a `tf_keras` model's weights into a fresh Keras 3 clone of `like`.

    Layers are matched by name. TF-MOT pruning wrappers (`prune_low_magnitude_<name>`)
    are looked through to the layer they wrap, so a model that was not yet stripped
    gives the same result as its `strip_pruning` copy; other TF-MOT wrappers must be
    stripped first.

    Args:
        tf_keras_model: A `tf_keras.Model`, usually one `to_tf_keras(like)` produced and
            TF-MOT then changed.
        like: The Keras 3 model whose architecture the result takes. It is not changed.

    Returns:
        A new, uncompiled Keras 3 model with `like`'s architecture and the `tf_keras`
        weights.

    Raises:
        BridgeError: if a layer of `like` with weights has no counterpart of the same
            name and weight shapes, or the `tf_keras` model holds weights `like` lacks.

    Example:

    >>> import keras
    >>> from kerasopt.compress.bridge import from_tf_keras, to_tf_keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> back = from_tf_keras(to_tf_keras(model), like=model)
    """
    _check_model(like, "from_tf_keras")
    sources = {}
    for layer in tf_keras_model.layers:
        if type(layer).__name__ == "PruneLowMagnitude":
            layer = layer.layer
        elif type(layer).__module__.startswith("tensorflow_model_optimization"):
            raise BridgeError(
                f"from_tf_keras cannot read layer {layer.name!r}: it is still wrapped in "
                f"TF-MOT's {type(layer).__name__}, whose weights are not the layer's. "
                "Strip the wrappers first (e.g. tfmot.clustering.keras.strip_clustering)."
            )
        sources[layer.name] = layer
    clone = keras.models.clone_model(like)
    for layer in clone.layers:
        if not layer.weights:
            continue
        source = sources.pop(layer.name, None)
        if source is None:
            raise BridgeError(
                f"from_tf_keras found no layer named {layer.name!r} "
                f"({type(layer).__name__}) in the tf_keras model {tf_keras_model.name!r}. "
                "Pass as `like` the Keras 3 model the tf_keras one was made from."
            )
        _copy_weights(source.get_weights(), layer, layer.name)
    leftover = sorted(name for name, layer in sources.items() if layer.weights)
    if leftover:
        raise BridgeError(
            f"from_tf_keras: layer(s) {leftover} of the tf_keras model have weights but "
            f"no layer of that name exists in `like` ({like.name!r}). Pass as `like` the "
            "Keras 3 model the tf_keras one was made from."
        )
    return clone


def _check_model(model, caller: str) -> None:
    if not isinstance(model, keras.Model):
        raise InvalidTypeError(
            f"{caller} expects a Keras 3 keras.Model. Received: an object of type "
            f"{type(model).__module__}.{type(model).__name__}."
        )
    kind = type(model)
    if kind.__name__ not in ("Sequential", "Functional") or not kind.__module__.startswith(
        "keras."
    ):
        raise BridgeError(
            f"{caller} takes a Keras 3 Sequential or Functional model, because TF-MOT "
            f"rebuilds models from their layer graph. Received: a subclassed model "
            f"{model.name!r} of class {kind.__name__}. Rebuild it with keras.Sequential "
            f"or the functional API. {_WAY_OUT}."
        )
    if not model.built or not model.inputs:
        raise BridgeError(
            f"{caller} needs a built model; {model.name!r} has no input shape yet. Start "
            "it with keras.Input(shape) or call model.build((None, ...)) first."
        )
    unsupported = []
    for layer in model.layers:
        inner = [layer]
        if type(layer).__name__ == "Bidirectional":
            inner += [layer.forward_layer, layer.backward_layer]
        for item in inner:
            kind = type(item)
            wanted = ("LSTM", "GRU") if item is not layer else SUPPORTED_LAYERS
            if kind.__name__ not in wanted or not kind.__module__.startswith("keras.src."):
                unsupported.append(f"{item.name!r} ({kind.__name__})")
    if unsupported:
        raise BridgeError(
            f"The tf_keras bridge cannot carry layer(s) {', '.join(unsupported)} of model "
            f"{model.name!r}: it covers only these built-in Keras layers: "
            f"{', '.join(SUPPORTED_LAYERS[1:])} (Bidirectional of LSTM or GRU). "
            f"{_WAY_OUT}, or replace the layer(s) with supported ones."
        )


def _translate_layer(entry: dict, owner: str) -> dict:
    """Turns one Keras 3 serialized layer into the `{"class_name", "config"}` tf_keras reads."""
    class_name = entry["class_name"]
    target = getattr(tf_keras().layers, class_name)
    accepted = _init_signature(target)
    defaults = {
        name: default
        for name, default in _init_signature(getattr(keras.layers, class_name)).items()
        if default is not inspect.Parameter.empty
    }
    config = {}
    for key, value in entry["config"].items():
        if key == "dtype":
            value = _dtype_name(value, owner)
        elif key == "batch_shape" and class_name == "InputLayer":
            key = "batch_input_shape"
        elif key in ("layer", "backward_layer") and isinstance(value, dict):
            value = _translate_layer(value, owner)
        elif isinstance(value, dict) and "class_name" in value:
            value = _translate_object(key, value, owner, class_name)
        if key in accepted or key in _KWARGS_KEYS:
            config[key] = value
        elif _TF_KERAS_IMPLIES.get(key) == value:
            continue
        elif key not in defaults or _differs(value, defaults[key]):
            raise BridgeError(
                f"Layer {owner!r} ({class_name}) sets {key}={value!r}, which tf_keras's "
                f"{class_name} does not have, so TF-MOT cannot reproduce it. {_WAY_OUT}, "
                f"or leave {key} at its default ({defaults.get(key, 'unset')!r})."
            )
    return {"class_name": class_name, "config": config}


def _translate_object(key: str, value: dict, owner: str, class_name: str) -> dict:
    """Translates a nested initializer, regularizer or constraint."""
    kind = key.rsplit("_", 1)[-1] + "s"
    module = getattr(tf_keras(), kind, None)
    target = getattr(module, value["class_name"], None)
    if (
        kind not in ("initializers", "regularizers", "constraints")
        or target is None
        or not str(value.get("module", "keras")).startswith("keras")
    ):
        raise BridgeError(
            f"Layer {owner!r} ({class_name}) has {key}={value['class_name']}, which has no "
            f"tf_keras equivalent. {_WAY_OUT}, or use a built-in Keras {kind[:-1]}."
        )
    accepted = _init_signature(target)
    config = {}
    for name, item in value.get("config", {}).items():
        # An initializer only seeds weights that are overwritten right after, so its
        # Keras-3-only options (seed axes and the like) cannot change the result.
        if name in accepted:
            config[name] = item
        elif item is not None and kind != "initializers":
            raise BridgeError(
                f"Layer {owner!r} ({class_name}) has {key}={value['class_name']} with "
                f"{name}={item!r}, which tf_keras's {value['class_name']} lacks. {_WAY_OUT}."
            )
    return {"class_name": value["class_name"], "config": config}


def _dtype_name(value: Any, owner: str) -> Any:
    if not isinstance(value, dict):
        return value
    if value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
        return value["config"]["name"]
    raise BridgeError(
        f"Layer {owner!r} has dtype policy {value.get('class_name')}, which tf_keras "
        f"cannot load. {_WAY_OUT}, or compress the float model before quantizing it."
    )


def _old_node(node: dict, owner: str) -> list:
    """Turns a Keras 3 node `{"args", "kwargs"}` into tf_keras's list of inbound tensors."""
    kwargs = {k: v for k, v in node.get("kwargs", {}).items() if v is not None}
    args = node.get("args", [])
    inputs = args[0] if len(args) == 1 else None
    tensors = [inputs] if _is_tensor(inputs) else inputs
    if (
        not isinstance(tensors, list)
        or not all(_is_tensor(t) for t in tensors)
        or any(_is_tensor(v) or isinstance(v, (list, dict)) for v in kwargs.values())
    ):
        raise BridgeError(
            f"Layer {owner!r} is called with inputs the tf_keras bridge cannot express "
            "(several positional tensors, or tensors as keyword arguments). "
            f"{_WAY_OUT}, or call the layer on one tensor or one list of tensors."
        )
    return [[*t["config"]["keras_history"], kwargs] for t in tensors]


def _is_tensor(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _copy_weights(weights: list, target, name: str) -> None:
    expected = [tuple(w.shape) for w in target.weights]
    received = [tuple(w.shape) for w in weights]
    if expected != received:
        raise BridgeError(
            f"Layer {name!r}: the weight shapes differ between the two models, so the "
            f"weights cannot be copied. Expected: {expected}. Received: {received}. "
            "Both models must come from the same architecture."
        )
    target.set_weights(weights)


def _init_signature(cls: type) -> dict[str, Any]:
    """Every `__init__` parameter along the class's MRO, mapped to its default."""
    parameters = {}
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass):
            for name, parameter in inspect.signature(klass.__init__).parameters.items():
                parameters[name] = parameter.default
    for name in ("self", "args", "kwargs"):
        parameters.pop(name, None)
    return parameters


def _differs(value: Any, default: Any) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) != list(default)
    return value != default
