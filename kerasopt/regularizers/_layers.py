"""Layer walking and regularizer "slots" shared by apply and describe."""

from __future__ import annotations

from collections.abc import Iterator

# Config keys a layer may use for its weight matrix: Dense/Conv use `kernel`, DepthwiseConv
# `depthwise`, SeparableConv `depthwise` and `pointwise`, Embedding `embeddings`.
KERNEL_PREFIXES = ("kernel", "depthwise", "pointwise", "embeddings")
ARGUMENTS = (
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


def walk_layers(model, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Yields `(path, layer)` for every layer, descending into nested models.

    Nested Sequential/Functional models are entered (their layers are yielded, the model
    itself is not), which mirrors `clone_model(..., recursive=True)`. Input layers are
    skipped: they hold nothing to regularize.
    """
    import keras

    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            yield from walk_layers(layer, prefix=f"{path}/")
        elif not isinstance(layer, keras.layers.InputLayer):
            yield path, layer


def layer_slots(config: dict) -> dict[str, list[str]]:
    """Maps each argument of `ARGUMENTS` to the config keys it sets on this layer.

    An argument missing from the result has no slot on the layer (a Flatten has no
    kernel; a Conv2D built with `use_bias=False` has no bias).
    """
    slots = {}
    for kind in ("regularizer", "constraint"):
        keys = [f"{p}_{kind}" for p in KERNEL_PREFIXES if f"{p}_{kind}" in config]
        if keys:
            slots[f"kernel_{kind}"] = keys
        if f"bias_{kind}" in config and config.get("use_bias", True):
            slots[f"bias_{kind}"] = [f"bias_{kind}"]
    # Every Keras layer accepts an activity regularizer; offering it only on layers with
    # a kernel keeps a model-wide request off Dropout, ReLU or pooling outputs.
    if "kernel_regularizer" in slots or "activity_regularizer" in config:
        slots["activity_regularizer"] = ["activity_regularizer"]
    return slots


def short_repr(obj) -> str:
    """`L2(l2=0.0001)` for a Keras regularizer or constraint, `-` for `None`."""
    if obj is None:
        return "-"
    if isinstance(obj, dict):  # a serialized object left in a layer config
        name, config = obj.get("class_name", "?"), obj.get("config", {})
    else:
        name, config = type(obj).__name__, obj.get_config()
    args = ", ".join(
        f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in config.items()
    )
    return f"{name}({args})"
