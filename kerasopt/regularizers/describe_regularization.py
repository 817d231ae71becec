"""`describe_regularization`: a table of every layer's regularizers and constraints."""

from __future__ import annotations

from kerasopt.regularizers._layers import ARGUMENTS, layer_slots, short_repr, walk_layers

_HEADERS = ("layer", "type", "kernel reg", "bias reg", "activity reg", "kernel cons", "bias cons")


def describe_regularization(model) -> str:
    """Returns a text table of the regularizers and constraints on every layer.

    One row per layer (layers of nested models appear as `outer/inner`). A cell shows
    the object (`L2(l2=0.0001)`), `-` when the layer has the slot but nothing is set, and
    `n/a` when the layer has no such slot (a `Flatten` has no kernel; a `Conv2D` with
    `use_bias=False` has no bias). For layers with two kernels (`SeparableConv2D`) the
    depthwise one is shown. Use it to check what `apply_regularization` did, or what a
    loaded model carries.

    Args:
        model: A `keras.Model`.

    Example:

    ```python
    import keras
    from kerasopt.regularizers import describe_regularization

    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(3, kernel_regularizer="l2"),
    ])
    print(describe_regularization(model))
    ```
    """
    rows = []
    for path, layer in walk_layers(model):
        slots = layer_slots(layer.get_config())
        row = [path, type(layer).__name__]
        for argument in ARGUMENTS:
            if argument not in slots:
                row.append("n/a")
                continue
            key = slots[argument][0]
            row.append(short_repr(getattr(layer, key, None)))
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [_HEADERS, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
