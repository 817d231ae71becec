"""analyze_sensitivity and allocate_sparsity: which layers tolerate zeros, and the split."""

import json

import keras
import numpy as np
import pytest

from kerasopt.compress.pruning_sensitivity import (
    LayerSensitivity,
    SensitivityReport,
    analyze_sensitivity,
)
from kerasopt.compress.sparsity_allocation import allocate_sparsity


def bottleneck_mlp():
    """A wide, redundant hidden layer and a tiny head that every prediction goes through."""
    return keras.Sequential(
        [
            keras.Input((8, 8)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu", name="wide"),
            keras.layers.Dense(8, activation="relu", name="bottleneck"),
            keras.layers.Dense(10, activation="softmax", name="head"),
        ],
        name="bottleneck_mlp",
    )


@pytest.fixture(scope="module")
def analyzed(digits):
    keras.utils.set_random_seed(0)
    model = bottleneck_mlp()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(digits.x_train, digits.y_train, epochs=3, batch_size=64, verbose=0)
    before = [w.copy() for w in model.get_weights()]
    return model, before, analyze_sensitivity(model, digits)


def weighted_mean(report, allocation):
    weights = {row.name: row.weights for row in report.layers}
    return sum(weights[n] * s for n, s in allocation.items()) / sum(weights.values())


def test_the_tiny_critical_layer_loses_most_and_the_model_is_left_alone(analyzed, digits):
    model, before, report = analyzed
    assert [row.name for row in report.layers] == ["wide", "bottleneck", "head"]
    assert [row.weights for row in report.layers] == [64 * 256, 256 * 8, 8 * 10]
    assert report.samples == len(digits.y_val) and 0.5 < report.dense_accuracy <= 1
    wide, head = report.layer("wide"), report.layer("head")
    at_80 = report.sparsities.index(0.8)
    assert head.sparsity_drops[at_80] >= wide.sparsity_drops[at_80] + 15, report.table()
    assert all(drop is not None for drop in wide.channel_drops) and wide.channel_refusal is None
    assert head.channel_drops == (None, None) and "model outputs" in head.channel_refusal
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_report_renders_as_text_markdown_json_and_png(analyzed, tmp_path):
    report = analyzed[2]
    table = report.table()
    assert table.splitlines()[0].split()[:5] == ["layer", "class", "weights", "50", "%"]
    assert "head: no channel pruning, its channels are model outputs" in table
    assert "| wide | Dense | 16384 |" in report.to_markdown()
    assert SensitivityReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    report.plot(tmp_path / "sensitivity.png")
    assert (tmp_path / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"


def test_samples_and_levels_are_honoured(analyzed, digits):
    report = analyze_sensitivity(
        analyzed[0], digits, sparsities=(0.9, 0.5), channel_fractions=(), samples=40
    )
    assert report.samples == 40 and report.sparsities == (0.5, 0.9)
    assert all(len(row.sparsity_drops) == 2 and row.channel_drops == () for row in report.layers)
    assert "no channel pruning" not in report.table()


def test_allocation_on_a_measured_report_spares_the_sensitive_head(analyzed):
    report = analyzed[2]
    allocation = allocate_sparsity(report, 0.8)
    assert list(allocation) == ["wide", "bottleneck", "head"]
    assert weighted_mean(report, allocation) == pytest.approx(0.8, abs=1e-9)
    assert allocation["head"] < allocation["wide"]


def synthetic(*curves, fractions=()):
    """A report with given (weights, drops at 0.5/0.8/0.95) rows, no model needed."""
    rows = tuple(
        LayerSensitivity(f"l{i}", "Dense", weights, tuple(drops), ())
        for i, (weights, drops) in enumerate(curves)
    )
    return SensitivityReport(0.9, 100, (0.5, 0.8, 0.95), fractions, rows)


@pytest.mark.parametrize("target", [0.0, 0.3, 0.7, 0.9], ids=lambda t: f"target{t}")
def test_allocation_meets_the_target_and_beats_uniform(target):
    report = synthetic((10_000, (0.5, 2.0, 10.0)), (500, (5.0, 20.0, 60.0)), (2_000, (1, 3, 20)))
    allocation = allocate_sparsity(report, target)
    assert weighted_mean(report, allocation) == pytest.approx(target, abs=1e-9)
    assert allocation["l1"] <= allocation["l2"] <= allocation["l0"]
    assert all(0 <= s <= 0.98 for s in allocation.values())

    def total(choice):
        return sum(report.predicted_drop(name, s) for name, s in choice.items())

    assert total(allocation) <= total(dict.fromkeys(allocation, target)) + 1e-9


def test_allocation_caps_layers_and_equal_layers_share_evenly():
    report = synthetic((1_000, (0.0, 0.0, 0.0)), (1_000, (0.0, 0.0, 0.0)), (1_000, (9, 30, 60)))
    allocation = allocate_sparsity(report, 0.7, max_layer_sparsity=0.9)
    assert allocation["l0"] == allocation["l1"] == pytest.approx(0.9)
    assert allocation["l2"] == pytest.approx(0.3)
    # A layer already at chance is not free to prune further: its curve keeps its slope.
    collapsed = synthetic((1_000, (30.0, 80.0, 80.0)), (1_000, (10.0, 40.0, 100.0)))
    assert allocate_sparsity(collapsed, 0.8)["l0"] < 0.9


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"target": 0.95, "max_layer_sparsity": 0.9}, ValueError, r"target=0.95.*raise max_"),
        ({"target": 1.0}, ValueError, r"target in \[0, 1\)"),
        ({"target": 0.5, "max_layer_sparsity": 1.0}, ValueError, r"max_layer_sparsity in"),
        ({"report": {"layers": []}, "target": 0.5}, TypeError, r"report to be a Sensitivity"),
    ],
    ids=["unreachable", "target-one", "max-one", "not-a-report"],
)
def test_allocation_refuses_what_it_cannot_do(kwargs, error, match):
    kwargs.setdefault("report", synthetic((100, (1.0, 2.0, 3.0))))
    with pytest.raises(error, match=match):
        allocate_sparsity(kwargs.pop("report"), **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sparsities": ()}, ValueError, r"at least one of sparsities"),
        ({"sparsities": (0.5, 1.0)}, ValueError, r"sparsities in \(0, 1\).*sparsities=1.0"),
        ({"samples": 0}, ValueError, r"samples to be an integer >= 1"),
        ({"data": object()}, ValueError, r"data with x_val and y_val.*object without"),
        ({"model": "model.keras"}, TypeError, r"model to be a keras.Model"),
    ],
    ids=["no-sparsity", "sparsity-one", "samples", "data", "model"],
)
def test_analysis_refuses_bad_arguments(kwargs, error, match, digits):
    model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(), keras.layers.Dense(10)])
    arguments = {"model": model, "data": digits, **kwargs}
    with pytest.raises(error, match=match):
        analyze_sensitivity(arguments.pop("model"), arguments.pop("data"), **arguments)


@pytest.mark.slow
def test_compress_model_allocates_the_sparsity_by_sensitivity(trained_digits_model, digits):
    from kerasopt.compress import compress_model

    report = compress_model(
        trained_digits_model, digits, prune=0.8, epochs=1, max_drop=None, learning_rate=1e-2
    )
    rows = {row["layer"]: row for row in report.sparsity}
    allocated = report.allocation
    assert set(allocated) == set(rows) and len(set(np.round(list(allocated.values()), 2))) > 1
    for name, target in allocated.items():  # each layer reached its own target
        assert rows[name]["sparsity"] == pytest.approx(target, abs=0.02)
    weights = {row["layer"]: np.prod(row["kernel_shape"]) for row in report.sparsity}
    total = sum(weights.values())
    assert sum(weights[n] * s for n, s in allocated.items()) / total == pytest.approx(0.8, abs=0.01)
    assert report.to_dict()["sensitivity"]["layers"]
    assert report.settings["allocate"] is True  # the default for native unstructured pruning
    with pytest.raises(ValueError, match=r"allocate=True splits .* structure='2:4'"):
        compress_model(trained_digits_model, digits, prune=0.5, structure="2:4", allocate=True)


def test_cli_analyze_writes_the_table_plot_and_json(trained_digits_model, tmp_path, capsys):
    from kerasopt.cli import main

    path = tmp_path / "model.keras"
    trained_digits_model.save(path)
    out = tmp_path / "sensitivity"
    assert main(["compress", str(path), "--data", "digits", "--analyze", "--out", str(out)]) == 0
    saved = json.loads((out / "sensitivity.json").read_text())
    layers = [layer.name for layer in trained_digits_model.layers if hasattr(layer, "kernel")]
    assert [row["name"] for row in saved["layers"]] == layers
    assert (out / "sensitivity.png").stat().st_size > 0 and (out / "sensitivity.md").is_file()
    assert layers[0] in capsys.readouterr().out
