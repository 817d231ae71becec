"""`decay_exempt`: keeps biases and normalization parameters out of weight decay."""

from __future__ import annotations

from kerasopt.core.errors import InvalidTypeError, InvalidValueError

_NORMALIZATION_TYPES = (
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "RMSNormalization",
)


def decay_exempt(optimizer, model) -> list[str]:
    """Excludes `model`'s biases and normalization parameters from weight decay.

    Decoupled weight decay (`keras.optimizers.AdamW(weight_decay=...)`, or any Keras
    optimizer's `weight_decay`) shrinks every trainable variable by
    `learning_rate * weight_decay` each step. Standard practice (BERT, ViT, timm) is to
    decay only weight matrices: a bias or a BatchNorm/LayerNorm scale and offset pulled
    towards zero does not reduce capacity, it only biases the layer's output. This
    function calls `optimizer.exclude_from_weight_decay(var_list=...)` with the exact
    variables: every variable named `bias`, and all trainable variables of
    `BatchNormalization`, `LayerNormalization`, `GroupNormalization` and
    `RMSNormalization` layers, nested ones included. It passes variables rather than
    `var_names` because Keras matches `var_names` as regular expressions anywhere in a
    name, so `"beta"` would also exempt any custom variable whose name contains it.

    Call it before the first training step: Keras only accepts exclusions before the
    optimizer is built, and replaces any earlier exclusion list. Exclusions are not
    saved in `.keras` files; after loading, build a fresh optimizer and call it again.

    Args:
        optimizer: An unbuilt `keras.optimizers.Optimizer` with `weight_decay` set.
        model: The built model whose variables the optimizer will train.

    Returns:
        The sorted paths of the exempted variables (`"dense/bias"`, `"bn/gamma"`, ...).

    Example:

    ```python
    import keras
    from kerasopt.regularizers import decay_exempt

    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8),
        keras.layers.LayerNormalization(),
        keras.layers.Dense(1),
    ])
    optimizer = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01)
    exempt = decay_exempt(optimizer, model)  # paths of the biases and LayerNorm gamma/beta
    model.compile(optimizer=optimizer, loss="mse")
    ```
    """
    import keras

    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise InvalidTypeError(
            "decay_exempt expects a keras.optimizers.Optimizer. Received: "
            f"{type(optimizer).__name__}."
        )
    if not optimizer.weight_decay:
        raise InvalidValueError(
            f"decay_exempt: optimizer {type(optimizer).__name__} has "
            f"weight_decay={optimizer.weight_decay!r}, so there is nothing to exempt from. "
            "Use keras.optimizers.AdamW(weight_decay=0.01) (or set weight_decay on this "
            "optimizer)."
        )
    if optimizer.built:
        raise InvalidValueError(
            f"decay_exempt: optimizer {type(optimizer).__name__} is already built (it has "
            "taken a step or was compiled into a loaded model); Keras only accepts "
            "exclusions before that. Create a fresh optimizer and call decay_exempt first."
        )
    if not isinstance(model, keras.Model) or not model.built:
        raise InvalidValueError(
            "decay_exempt expects a built keras.Model (start it with keras.Input). "
            f"Received: {type(model).__name__}."
        )
    exempt = {}
    # `_flatten_layers` reaches layers held as attributes of custom layers, which
    # `model.layers` does not list (a Transformer block's LayerNormalization).
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if any(cls.__name__ in _NORMALIZATION_TYPES for cls in type(layer).__mro__):
            for variable in layer.trainable_weights:
                exempt[id(variable)] = variable
    for variable in model.trainable_weights:
        if variable.name == "bias":
            exempt[id(variable)] = variable
    optimizer.exclude_from_weight_decay(var_list=list(exempt.values()))
    return sorted(variable.path for variable in exempt.values())
