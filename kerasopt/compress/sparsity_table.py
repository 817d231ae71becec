"""`sparsity_table`: zeros per kernel, layer by layer, and whether an m:n structure holds."""

from __future__ import annotations

import keras
import numpy as np

from kerasopt.compress.sparsity_mask import parse_structure
from kerasopt.core.errors import InvalidTypeError


def kernel_layers(model: keras.Model) -> list:
    """Every layer of `model` (nested models included, in order) that has a `kernel`.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> [layer.name for layer in kernel_layers(model)] == [model.layers[0].name]
    True
    """
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(kernel_layers(layer))
            continue
        try:
            kernel = getattr(layer, "kernel", None)
        except (AttributeError, ValueError):  # a property that needs a built layer
            kernel = None
        if isinstance(kernel, keras.Variable):
            found.append(layer)
    return found


def _satisfies(kernel: np.ndarray, m: int, n: int) -> bool:
    if kernel.ndim < 2 or kernel.shape[-2] % n:
        return False
    moved = np.moveaxis(kernel, -2, -1)
    groups = moved.reshape(*moved.shape[:-1], moved.shape[-1] // n, n)
    return bool((np.count_nonzero(groups, axis=-1) <= m).all())


def sparsity_table(model: keras.Model, structure: str | None = None) -> list[dict]:
    """One row per layer with a kernel: its size, exact zeros and sparsity.

    Layers that were skipped or cannot be pruned are listed too, with their real
    (usually zero) sparsity, so a table never hides a dense layer. Only kernels are
    counted: biases and normalization weights are tiny and never pruned.

    Args:
        model: A built Keras model, pruned or not.
        structure: An m:n structure such as `"2:4"` to check each kernel against (at
            most m nonzeros in every n consecutive weights along the input axis);
            `None` leaves `satisfies_structure` as `None`. Defaults to `None`.

    Returns:
        A list of dicts with keys `layer`, `class`, `kernel_shape`, `params`, `zeros`,
        `sparsity` and `satisfies_structure`.

    Example:

    >>> import keras
    >>> from kerasopt.compress.sparsity_table import format_sparsity_table, sparsity_table
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="fc")])
    >>> rows = sparsity_table(model, structure="2:4")
    >>> rows[0]["layer"], rows[0]["params"], rows[0]["satisfies_structure"]
    ('fc', 32, False)
    >>> print(format_sparsity_table(rows))  # doctest: +SKIP
    """
    if not isinstance(model, keras.Model):
        raise InvalidTypeError(
            f"sparsity_table expects a keras.Model. Received: {type(model).__name__}. Pass "
            "the model itself (e.g. keras.saving.load_model(path))."
        )
    m_by_n = parse_structure(structure)
    rows = []
    for layer in kernel_layers(model):
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        zeros = int(kernel.size - np.count_nonzero(kernel))
        rows.append(
            {
                "layer": layer.name,
                "class": type(layer).__name__,
                "kernel_shape": tuple(int(d) for d in kernel.shape),
                "params": int(kernel.size),
                "zeros": zeros,
                "sparsity": zeros / kernel.size if kernel.size else 0.0,
                "satisfies_structure": None if m_by_n is None else _satisfies(kernel, *m_by_n),
            }
        )
    return rows


def format_sparsity_table(rows: list[dict]) -> str:
    """Formats `sparsity_table` rows as aligned text, with a total line for all kernels.

    Example:

    >>> import keras
    >>> from kerasopt.compress.sparsity_table import format_sparsity_table, sparsity_table
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="fc")])
    >>> print(format_sparsity_table(sparsity_table(model)))  # doctest: +SKIP
    layer  class  kernel_shape  params  zeros  sparsity
    fc     Dense  (8, 4)            32      0     0.0 %
    total                           32      0     0.0 %
    """
    checked = any(row.get("satisfies_structure") is not None for row in rows)
    header = ["layer", "class", "kernel_shape", "params", "zeros", "sparsity"]
    header += ["structure"] if checked else []
    lines = []
    for row in rows:
        cells = [row["layer"], row["class"], str(tuple(row["kernel_shape"]))]
        cells += [str(row["params"]), str(row["zeros"]), f"{100 * row['sparsity']:.1f} %"]
        if checked:
            ok = row.get("satisfies_structure")
            cells.append("-" if ok is None else ("yes" if ok else "no"))
        lines.append(cells)
    params = sum(row["params"] for row in rows)
    zeros = sum(row["zeros"] for row in rows)
    total = ["total", "", "", str(params), str(zeros)]
    total += [f"{100 * zeros / params if params else 0.0:.1f} %"] + ([""] if checked else [])
    table = [header, *lines, total]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    numeric = {3, 4, 5}
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in table
    )
