"""`apply_regularization`: adds regularizers and constraints to an existing model."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence

from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.regularizers._layers import ARGUMENTS, layer_slots, short_repr, walk_layers
from kerasopt.regularizers.specs import parse_constraint, parse_regularizer

logger = logging.getLogger("kerasopt.regularizers")


def _as_list(value, argument: str) -> list | None:
    if value is None:
        return None
    if isinstance(value, str | type):
        return [value]
    if isinstance(value, Sequence) and value and all(isinstance(v, str | type) for v in value):
        return list(value)
    raise InvalidTypeError(
        f"apply_regularization expects {argument} to be a string, a layer class, or a "
        f"non-empty list of them. Received: {argument}={value!r}."
    )


def _is_type(layer, wanted) -> bool:
    if isinstance(wanted, type):
        return isinstance(layer, wanted)
    return any(cls.__name__ == wanted for cls in type(layer).__mro__)


def _type_name(wanted) -> str:
    return wanted if isinstance(wanted, str) else wanted.__name__


def _select(layers, requested, layer_names, layer_types):
    """Returns the `(path, layer, plan)` rows to change; raises when a filter is useless."""
    capable = [path for path, _, slots in layers if set(slots) & set(requested)]

    def fail(argument, value, problem):
        raise InvalidValueError(
            f"apply_regularization: {argument}={value!r} {problem}. Layers that can take "
            f"{', '.join(requested)}: {capable}. Pass names or types of those layers."
        )

    chosen = layers
    filters = [
        (
            "layer_names",
            layer_names,
            lambda p, lay, v: fnmatch.fnmatchcase(lay.name, v) or fnmatch.fnmatchcase(p, v),
        ),
        ("layer_types", layer_types, lambda p, lay, v: _is_type(lay, v)),
    ]
    for argument, values, matches in filters:
        if values is None:
            continue
        for value in values:
            shown = value if argument == "layer_names" else _type_name(value)
            hits = [(p, lay, s) for p, lay, s in layers if matches(p, lay, value)]
            if not hits:
                fail(argument, shown, "matches no layer")
            if not any(set(s) & set(requested) for _, _, s in hits):
                fail(
                    argument,
                    shown,
                    f"matches only {[p for p, _, _ in hits]}, none of which has a slot for "
                    f"{', '.join(requested)} (a Flatten has no kernel; a layer built with "
                    "use_bias=False has no bias)",
                )
        chosen = [row for row in chosen if any(matches(row[0], row[1], v) for v in values)]
    selected = [
        (p, lay, {a: s[a] for a in requested if a in s})
        for p, lay, s in chosen
        if set(s) & set(requested)
    ]
    if not selected:
        fail(
            "layer_names/layer_types",
            (layer_names, layer_types),
            "select no common layer (both filters must match the same layer)",
        )
    return selected


def apply_regularization(
    model,
    *,
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    layer_names: str | Sequence[str] | None = None,
    layer_types: str | type | Sequence[str | type] | None = None,
):
    """Returns a copy of `model` with regularizers and constraints on the chosen layers.

    Setting `layer.kernel_regularizer = ...` on a built model does nothing (the weight
    was created without it, so the loss never sees the penalty), and `compile()` has no
    `kernel_regularizer` argument. This function rebuilds the model instead: every layer
    is recreated from its config with `keras.models.clone_model(..., recursive=True)`,
    the chosen layers with the new regularizers/constraints in that config, and the
    weights are then copied over. Predictions are identical to `model`'s, and
    `new_model.losses` holds the penalties. `model` itself is never modified. If `model`
    was compiled, Keras compiles the copy from the same compile config, with a new,
    already built optimizer of the same settings; compile it again with a fresh
    optimizer if you want to call `decay_exempt` on it.

    Layers are chosen by name (`fnmatch` globs on the layer name or on its path inside
    nested models, e.g. `"block1_*"`) and/or by type (a class or class name such as
    `"Conv2D"`); with both, a layer must match both. With neither, every layer that has
    a slot for what is requested is chosen. "Kernel" covers `Dense`/`Conv*` kernels, the
    depthwise and pointwise kernels of `DepthwiseConv2D`/`SeparableConv2D` and the table
    of `Embedding`; activity regularizers go on layers with a kernel. A filter that
    matches no layer, or only layers without the slot (a `Flatten`), is a `ValueError`
    listing the layers that have one. A chosen layer built with `use_bias=False` simply
    gets no bias regularizer. The changes are logged at INFO level on the
    `kerasopt.regularizers` logger; `describe_regularization` prints the full table.

    Args:
        model: A built Sequential or Functional `keras.Model`.
        kernel_regularizer: Regularizer or spec (`"l2(1e-4)"`, `"l1(1e-5)"`,
            `"l1_l2(l1=1e-5, l2=1e-4)"`, `"orthogonal(0.01)"`, a `keras.regularizers`
            object). Defaults to `None` (kernel regularizers left as they are).
        bias_regularizer: Same forms, for biases. Defaults to `None`.
        activity_regularizer: Same forms, applied to layer outputs. Defaults to `None`.
        kernel_constraint: Constraint or spec (`"max_norm(3)"`, `"unit_norm"`,
            `"non_neg"`, `"min_max_norm(0.5, 2)"`). Defaults to `None`.
        bias_constraint: Same forms, for biases. Defaults to `None`.
        layer_names: A glob or list of globs of layer names. Defaults to `None`.
        layer_types: A layer class or class name, or a list of them. Defaults to `None`.

    Example:

    ```python
    import keras
    from kerasopt.models import build_cnn
    from kerasopt.regularizers import apply_regularization, describe_regularization

    model = build_cnn((8, 8), 10, input_max=16, l2=0.0)
    model = apply_regularization(
        model, kernel_regularizer="l2(1e-4)", kernel_constraint="max_norm(3)",
        layer_types=["Conv2D", "Dense"],
    )
    print(describe_regularization(model))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ```
    """
    import keras

    if not isinstance(model, keras.Model):
        raise InvalidTypeError(
            f"apply_regularization expects a keras.Model. Received: {type(model).__name__}."
        )
    if not model.built:
        raise InvalidValueError(
            f"apply_regularization: model {model.name!r} is not built, so it has no weights "
            "to copy. Start it with keras.Input(shape) or call it on a batch first."
        )
    values = dict(
        zip(
            ARGUMENTS,
            (
                kernel_regularizer,
                bias_regularizer,
                activity_regularizer,
                kernel_constraint,
                bias_constraint,
            ),
            strict=True,
        )
    )
    requested = {
        arg: (parse_regularizer if arg.endswith("regularizer") else parse_constraint)(v, arg)
        for arg, v in values.items()
        if v is not None
    }
    if not requested:
        raise InvalidValueError(
            f"apply_regularization received nothing to attach: all of {list(ARGUMENTS)} are "
            "None. Pass at least one, e.g. kernel_regularizer='l2(1e-4)'."
        )
    layers = [(path, layer, layer_slots(layer.get_config())) for path, layer in walk_layers(model)]
    selected = _select(
        layers,
        requested,
        _as_list(layer_names, "layer_names"),
        _as_list(layer_types, "layer_types"),
    )
    plans = {id(layer): plan for _, layer, plan in selected}

    def clone_layer(layer):
        config = layer.get_config()
        for argument, keys in plans.get(id(layer), {}).items():
            for key in keys:
                config[key] = requested[argument]
        return layer.__class__.from_config(config)

    try:
        new_model = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    except ValueError as error:
        if "only supported for Sequential" not in str(error):
            raise
        raise InvalidTypeError(
            f"apply_regularization can only rebuild Sequential and Functional models; "
            f"{model.name!r} is a subclassed {type(model).__name__}. Pass the regularizers "
            "to its layers in __init__ instead."
        ) from error
    new_model.set_weights(model.get_weights())

    lines = [f"apply_regularization on {model.name!r}:"]
    for path, layer, plan in selected:
        given = ", ".join(f"{arg}={short_repr(requested[arg])}" for arg in plan)
        missing = [arg for arg in requested if arg not in plan]
        note = f" (no slot for {', '.join(missing)})" if missing else ""
        lines.append(f"  {path} ({type(layer).__name__}): {given}{note}")
    logger.info("\n".join(lines))
    return new_model
