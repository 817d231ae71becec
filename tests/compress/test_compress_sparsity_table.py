"""sparsity_table: every kernel is listed (dense ones too), counts are exact, m:n is checked."""

import keras
import numpy as np
import pytest

from kerasopt.compress.sparsity_table import format_sparsity_table, kernel_layers, sparsity_table


def nested_model():
    inner = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(8, name="inner_fc")], name="inner"
    )
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(8, name="fc")(x)
    x = inner(x)
    outputs = keras.layers.Dense(2, name="out")(x)
    return keras.Model(inputs, outputs, name="nested")


def test_rows_list_every_kernel_with_exact_zero_counts(rng):
    model = nested_model()
    fc = model.get_layer("fc")
    kernel = rng.normal(size=fc.kernel.shape).astype("float32")
    kernel[:, :3] = 0.0  # 3 of 8 output columns
    fc.kernel.assign(kernel)
    rows = sparsity_table(model)
    assert [r["layer"] for r in rows] == ["conv", "fc", "inner_fc", "out"]
    by_name = {r["layer"]: r for r in rows}
    assert by_name["fc"]["zeros"] == 16 * 3 and by_name["fc"]["params"] == 16 * 8
    assert by_name["fc"]["sparsity"] == pytest.approx(3 / 8)
    assert by_name["conv"] == {
        "layer": "conv",
        "class": "Conv2D",
        "kernel_shape": (3, 3, 1, 4),
        "params": 36,
        "zeros": 0,
        "sparsity": 0.0,
        "satisfies_structure": None,
    }


def test_structure_column_checks_at_most_m_nonzeros_per_group():
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(2, name="a"), keras.layers.Dense(3, name="b")]
    )
    a = np.ones((8, 2), dtype="float32")
    a[[0, 1, 4, 5]] = 0.0  # two nonzeros in each group of four inputs
    model.get_layer("a").kernel.assign(a)
    rows = sparsity_table(model, structure="2:4")
    assert [r["satisfies_structure"] for r in rows] == [True, False]  # b: 2 inputs, no groups
    with pytest.raises(ValueError, match=r"structure='2/4'"):
        sparsity_table(model, structure="2/4")


def test_format_lists_dense_layers_and_a_total_line():
    model = nested_model()
    model.get_layer("out").kernel.assign(np.zeros((8, 2), dtype="float32"))
    text = format_sparsity_table(sparsity_table(model, structure="2:4"))
    lines = text.splitlines()
    assert lines[0].split() == [
        "layer",
        "class",
        "kernel_shape",
        "params",
        "zeros",
        "sparsity",
        "structure",
    ]
    assert len(lines) == 1 + 4 + 1
    inner_line = next(line for line in lines if line.startswith("inner_fc"))
    assert inner_line.split()[-3:] == ["0.0", "%", "no"]  # dense, still listed
    out_line = next(line for line in lines if line.startswith("out"))
    assert out_line.split()[-3:] == ["100.0", "%", "yes"]
    params = 36 + 16 * 8 + 8 * 8 + 8 * 2
    assert lines[-1].split() == ["total", str(params), "16", f"{100 * 16 / params:.1f}", "%"]


def test_kernel_layers_recurse_into_nested_models():
    assert [layer.name for layer in kernel_layers(nested_model())] == [
        "conv",
        "fc",
        "inner_fc",
        "out",
    ]


def test_sparsity_table_rejects_a_layer():
    with pytest.raises(TypeError, match=r"expects a keras.Model. Received: Dense"):
        sparsity_table(keras.layers.Dense(3))
