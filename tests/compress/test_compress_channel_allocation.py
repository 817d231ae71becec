"""Per-layer channel fractions: planner counts, layer_fractions, group sensitivity, allocation."""

import types

import keras
import numpy as np
import pytest

from kerasopt.compress.channel_allocation import allocate_channels
from kerasopt.compress.channel_pruning import ChannelPruningPlanner, prune_channels
from kerasopt.compress.pruning_sensitivity import (
    LayerSensitivity,
    SensitivityReport,
    analyze_sensitivity,
)
from kerasopt.models import build_residual_cnn


def two_convs_and_a_head():
    """A narrow stem and a wide conv before a Flatten -> Dense head: unequal layers."""
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="wide"),
            keras.layers.Flatten(),
            keras.layers.Dense(24, activation="relu", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="head"),
        ],
        name="two_convs",
    )


def residual():
    keras.utils.set_random_seed(0)
    return build_residual_cnn((8, 8), 10, input_max=16, widths=(8, 16))


@pytest.mark.parametrize(
    "fraction, layer_fractions",
    [
        (0.5, None),
        (0.0, {"stem": 0.75}),
        (0.25, {"wide": 0.5, "hidden": 0.875}),
        (0.0, {"stem": 0.5, "wide": 0.25, "hidden": 0.5}),
    ],
)
def test_planner_counts_the_parameters_of_the_model_it_builds(fraction, layer_fractions):
    model = two_convs_and_a_head()
    planner = ChannelPruningPlanner(model)
    result = planner.prune(fraction, layer_fractions)
    assert planner.params(fraction, layer_fractions) == result.model.count_params()
    assert result.params_after == result.model.count_params() < model.count_params()
    assert [row.after for row in planner.layers(fraction, layer_fractions)] == [
        row.after for row in result.layers
    ]


def test_layer_fractions_override_the_uniform_one_and_a_group_takes_the_smallest():
    model = two_convs_and_a_head()
    rows = {
        row.name: row for row in prune_channels(model, 0.5, layer_fractions={"wide": 0.75}).layers
    }
    assert (rows["stem"].after, rows["wide"].after, rows["hidden"].after) == (4, 8, 12)
    assert rows["head"].after == 10  # the classifier is kept whole whatever it is given

    model = residual()
    coupled = [row for row in prune_channels(model, 0.5).layers if row.coupled][0]
    group = (coupled.name, *coupled.coupled)
    shares = {group[0]: 0.75, group[1]: 0.25}
    rows = {row.name: row for row in prune_channels(model, 0.0, layer_fractions=shares).layers}
    assert {rows[name].after for name in group} == {
        rows[group[0]].before - rows[group[0]].before // 4
    }
    assert rows[group[0]].kept == rows[group[1]].kept  # still the same channels


@pytest.mark.parametrize(
    "layer_fractions, error, match",
    [
        ({"sterm": 0.5}, ValueError, r"layer_fractions names 'sterm'.*Did you mean 'stem'"),
        ({"stem": 1.0}, ValueError, r"0 <= layer_fractions\['stem'\] < 1.*=1.0"),
        ({"stem": True}, ValueError, r"layer_fractions\['stem'\]"),
        ([("stem", 0.5)], TypeError, r"layer_fractions as a mapping.*Received: list"),
    ],
    ids=["unknown-layer", "one", "bool", "not-a-dict"],
)
def test_layer_fractions_refuse_bad_entries(layer_fractions, error, match):
    with pytest.raises(error, match=match):
        prune_channels(two_convs_and_a_head(), 0.5, layer_fractions=layer_fractions)


def test_layer_fractions_take_any_mapping_like_layer_sparsity():
    planner = ChannelPruningPlanner(two_convs_and_a_head())
    shares = {"stem": 0.25}
    frozen = planner.params(0.5, types.MappingProxyType(shares))
    assert frozen == planner.params(0.5, shares) != planner.params(0.5)


def test_residual_groups_are_measured_together_and_share_their_drops(digits):
    model = residual()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(digits.x_train, digits.y_train, epochs=1, batch_size=64, verbose=0)
    report = analyze_sensitivity(model, digits, sparsities=(0.5,), channel_fractions=(0.5,))
    grouped = [row for row in report.layers if row.channel_group]
    assert len(grouped) >= 2, report.table()
    for row in grouped:
        assert row.channel_refusal is None and row.channel_drops[0] is not None
        for name in row.channel_group:
            assert report.layer(name).channel_drops == row.channel_drops
    assert f"{grouped[0].name}: channels removed together with" in report.table()
    again = SensitivityReport.from_dict(report.to_dict())
    assert again == report


def synthetic(drops: dict[str, tuple[float, float, float]]) -> SensitivityReport:
    """A report with the given channel drops at 25/50/75 % for layers of `two_convs_and_a_head`."""
    rows = tuple(
        LayerSensitivity(name, "Conv2D", 1, (0.0,), values) for name, values in drops.items()
    )
    return SensitivityReport(0.9, 100, (0.5,), (0.25, 0.5, 0.75), rows)


def test_allocation_spares_the_sensitive_layer_within_the_uniform_budget():
    model = two_convs_and_a_head()
    planner = ChannelPruningPlanner(model)
    report = synthetic(
        {"stem": (20.0, 50.0, 80.0), "wide": (0.5, 1.0, 3.0), "hidden": (0.2, 0.5, 2.0)}
    )
    shares = allocate_channels(report, model, 0.5)
    assert set(shares) == {"stem", "wide", "hidden"}
    assert shares["stem"] < 0.5 < max(shares["wide"], shares["hidden"])
    assert all(value <= 0.75 and (value * 8) % 1 == 0 for value in shares.values())
    assert planner.params(0.0, shares) <= planner.params(0.5)

    assert predicted(report, shares) < predicted(report, dict.fromkeys(shares, 0.5))
    # The sensitivity flips: so does the allocation, still better than uniform by its model.
    flipped = synthetic({"stem": (0.0, 0.1, 0.2), "wide": (20, 50, 80), "hidden": (20, 50, 80)})
    other = allocate_channels(flipped, model, 0.5)
    assert other != shares and planner.params(0.0, other) <= planner.params(0.5)
    assert predicted(flipped, other) < predicted(flipped, dict.fromkeys(other, 0.5))


def predicted(report, choice):
    return sum(
        np.interp(choice[name], (0, 0.25, 0.5, 0.75), (0, *report.layer(name).channel_drops))
        for name in choice
    )


def test_the_budget_left_by_the_last_step_is_given_back_where_it_saves_most():
    model = two_convs_and_a_head()
    planner = ChannelPruningPlanner(model)
    report = synthetic({"stem": (0.5, 1, 1.5), "wide": (0.5, 1, 1.5), "hidden": (0.1, 0.2, 5)})
    shares = allocate_channels(report, model, 0.5)
    # The step that crossed the budget took hidden to 1/2; one level of it fits back.
    assert shares == {"stem": 0.0, "wide": 0.625, "hidden": 0.375}
    assert planner.params(0.0, shares) <= planner.params(0.5)
    for name in shares:  # no single step back fits the budget any more
        if shares[name] > 0:
            back = {**shares, name: shares[name] - 0.125}
            assert planner.params(0.0, back) > planner.params(0.5), (name, shares)


def test_spread_keeps_every_layer_near_the_uniform_fraction():
    model = two_convs_and_a_head()
    report = synthetic({"stem": (0.0, 0.1, 0.2), "wide": (20, 50, 80), "hidden": (20, 50, 80)})
    free = allocate_channels(report, model, 0.5)
    near = allocate_channels(report, model, 0.5, spread=0.125)
    assert max(free.values()) == 0.75 and min(free.values()) <= 0.25
    assert all(0.375 <= value <= 0.625 for value in near.values())
    planner = ChannelPruningPlanner(model)
    assert planner.params(0.0, near) <= planner.params(0.5)
    assert set(allocate_channels(report, model, 0.5, spread=0.0).values()) == {0.5}


def test_allocation_refuses_what_it_cannot_do():
    model = two_convs_and_a_head()
    report = synthetic({"stem": (1.0, 2.0, 3.0)})
    with pytest.raises(ValueError, match=r"fraction=0.8 with max_fraction=0.75"):
        allocate_channels(report, model, 0.8)
    empty = SensitivityReport(0.9, 100, (0.5,), (), ())
    with pytest.raises(ValueError, match=r"needs channel drops.*channel_fractions="):
        allocate_channels(empty, model, 0.5)
    with pytest.raises(TypeError, match=r"report to be a SensitivityReport"):
        allocate_channels({"layers": []}, model, 0.5)
