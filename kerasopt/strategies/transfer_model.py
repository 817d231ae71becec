"""Transfer models: a trained backbone cut at a named layer, under a new classification head.

`cut_backbone` copies a trained model and keeps it up to one layer; `build_transfer_model`
puts a head on it (a 4-D feature map flattened or pooled, then Dropout and a softmax
Dense); `freeze_backbone` and `unfreeze_top` set what trains in each phase.

Flatten is the default head for a feature map: on Fashion-MNIST, from a residual CNN
trained on classes 0-4 to classes 5-9 with 10 labelled images each, a logistic regression
on the flattened last feature map scored 0.906, on its global average 0.728, and on the
raw pixels 0.835: where the new classes differ in shape rather than texture (shoes and
bags against shirts and coats), pooling throws away what tells them apart.

BatchNormalization in the backbone never trains: its layers keep `trainable=False` in
both phases, so they run in inference mode on the source task's moving statistics (the
pitfall of the Keras transfer-learning guide: statistics of a few new samples would
overwrite them and wreck the features). The guide's other half, calling the backbone
with `training=False`, is kept, but it is not what holds the statistics: in Keras 3.15
a functional model replaces a nested model's recorded `training=False` with the outer
call's `training=True` during `fit` (measured: the moving mean moves). A Keras 3
`BatchNormalization` with `trainable=False` runs in inference mode whatever `training`
says, which is what the tests check.
"""

from __future__ import annotations

import keras

from kerasopt.core.suggestions import did_you_mean
from kerasopt.core.validation import check_fraction, check_int, check_option, invalid_value


def cut_candidates(model: keras.Model) -> list[str]:
    """Names of the layers `model` can be cut at: single-output layers, input and output excluded.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> cut_candidates(build_residual_cnn((8, 8), 3, widths=(4, 8)))[-3:]
    ['stage1_relu', 'pool', 'dropout']
    """
    outputs = {id(layer) for layer in _output_layers(model)}
    return [
        layer.name
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
        and id(layer) not in outputs
        and _single_output(layer)
    ]


def check_cut(owner: str, model: keras.Model, cut: str) -> str:
    """Returns `cut` if `model` can be cut there; raises naming the candidates if not.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> check_cut("transfer", build_residual_cnn((8, 8), 3, widths=(4, 8)), "pool")
    'pool'
    """
    candidates = cut_candidates(model)
    if cut not in candidates:
        hint = did_you_mean(cut, candidates).strip()
        listed = ", ".join(candidates[-8:])
        more = f" (the last 8 of {len(candidates)})" if len(candidates) > 8 else ""
        raise invalid_value(
            owner,
            f"cut to name a layer of model {model.name!r} with one output, not its input or "
            f"output layer",
            f"cut={cut!r}",
            f"{hint} Cut candidates{more}: {listed}.".strip(),
        )
    return cut


def cut_backbone(model: keras.Model, cut: str, *, fresh: bool = False) -> keras.Model:
    """A copy of `model` from its input to the output of layer `cut`, named `"backbone"`.

    The copy has its own weights (training it leaves `model` alone): the trained ones,
    or newly initialised ones with `fresh=True` (the from-scratch baseline).

    Args:
        model: A functional Keras model.
        cut: Name of the last layer kept (`cut_candidates(model)`).
        fresh: Initialise the weights anew instead of copying them. Defaults to `False`.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> source = build_residual_cnn((8, 8), 3, widths=(4, 8))
    >>> cut_backbone(source, "stage1_relu").output_shape
    (None, 4, 4, 8)
    """
    check_cut("cut_backbone", model, cut)
    clone = keras.models.clone_model(model)
    if not fresh:
        clone.set_weights(model.get_weights())
    return backbone_view(clone, cut)


def backbone_view(model: keras.Model, cut: str) -> keras.Model:
    """`model` from its input to layer `cut`, sharing its layers and weights.

    The output is the tensor `cut`'s one call produces in `model`'s graph; for a nested
    model (a backbone used as one layer) that is not its `.output`, which belongs to its
    own inner graph and is not connected to `model`'s inputs.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> source = build_residual_cnn((8, 8), 3, widths=(4, 8))
    >>> backbone_view(source, "stage1_relu").layers[-1] is source.get_layer("stage1_relu")
    True
    """
    output = model.get_layer(cut)._inbound_nodes[0].outputs[0]
    return keras.Model(model.inputs, output, name="backbone")


#: How a head reduces a feature map of rank above 2 before its Dense layer.
HEADS = ("flatten", "pool")


def build_transfer_model(
    backbone: keras.Model,
    num_classes: int,
    *,
    head: str = "flatten",
    dropout: float = 0.2,
    frozen: bool = True,
    name: str = "transfer",
) -> keras.Model:
    """`backbone` under a new head: flattening or pooling, Dropout, softmax Dense.

    With `frozen=True` the backbone is frozen (`freeze_backbone`) and called with
    `training=False`; with `frozen=False` (the from-scratch baseline) it trains as a
    plain model, BatchNormalization included.

    Args:
        backbone: The feature extractor (`cut_backbone`).
        num_classes: Classes of the new task, at least 2.
        head: `"flatten"` or `"pool"` (GlobalAveragePooling2D) for a 4-D feature map;
            other ranks above 2 are flattened, a 2-D output is used as it is. Defaults
            to `"flatten"`.
        dropout: Dropout rate before the classifier, in `[0, 1)`. Defaults to `0.2`.
        frozen: Freeze the backbone and keep it in inference mode. Defaults to `True`.
        name: Model name. Defaults to `"transfer"`.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> backbone = cut_backbone(build_residual_cnn((8, 8), 3, widths=(4, 8)), "stage1_relu")
    >>> build_transfer_model(backbone, 5).output_shape
    (None, 5)
    """
    owner = "build_transfer_model"
    num_classes = check_int(owner, "num_classes", num_classes, 2, example=5)
    check_option(owner, "head", head, HEADS)
    dropout = check_fraction(owner, "dropout", dropout, closed="left")
    inputs = keras.Input(shape=backbone.input_shape[1:], name="pixels")
    if frozen:
        freeze_backbone(backbone)
        x = backbone(inputs, training=False)
    else:
        x = backbone(inputs)
    rank = len(x.shape)
    if rank == 4 and head == "pool":
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    elif rank > 2:
        x = keras.layers.Flatten(name="head_flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def freeze_backbone(backbone: keras.Model) -> None:
    """Freezes every layer of `backbone`, BatchNormalization in inference mode."""
    backbone.trainable = False


def tunable_layers(backbone: keras.Model) -> list:
    """The layers `unfreeze_top` counts, bottom to top: weights, not BatchNormalization."""
    return [
        layer
        for layer in _flat_layers(backbone)
        if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]


def unfreeze_top(backbone: keras.Model, count: int) -> list[str]:
    """Makes the top `count` weighted layers of `backbone` trainable; returns their names.

    BatchNormalization layers are neither counted nor unfrozen, so they stay in inference
    mode with the source task's statistics (see the module docstring).

    Args:
        backbone: A frozen backbone inside a transfer model.
        count: Weighted layers to unfreeze, counted from the top, from 0 to
            `len(tunable_layers(backbone))`.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> backbone = cut_backbone(build_residual_cnn((8, 8), 3, widths=(4, 8)), "stage1_relu")
    >>> freeze_backbone(backbone)
    >>> unfreeze_top(backbone, 1)
    ['stage1_b_conv']
    """
    layers = tunable_layers(backbone)
    count = check_int("unfreeze_top", "count", count, 0, len(layers), example=min(2, len(layers)))
    if not count:
        return []
    backbone.trainable = True  # Keras sets the flag on every sublayer; undo below
    chosen = {id(layer) for layer in layers[-count:]}
    for layer in _flat_layers(backbone):
        layer.trainable = id(layer) in chosen
    return [layer.name for layer in layers[-count:]]


def _flat_layers(model) -> list:
    """Leaf layers of `model`, nested models opened, in the model's order."""
    leaves = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            leaves.extend(_flat_layers(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            leaves.append(layer)
    return leaves


def _output_layers(model) -> list:
    return [tensor._keras_history.operation for tensor in model.outputs]


def _single_output(layer) -> bool:
    """Called once in the model, with one output tensor."""
    nodes = getattr(layer, "_inbound_nodes", [])
    return len(nodes) == 1 and len(nodes[0].outputs) == 1
