import pytest

from kerasopt.models import build_cnn
from kerasopt.training import Technique, TrainConfig, compare_techniques, format_comparison

SMALL = {"input_max": 16, "filters": (4,), "dense_units": 16, "bn_momentum": 0.9}
BASE = TrainConfig(epochs=3, augment=None, early_stopping_patience=None)


@pytest.mark.slow
def test_each_row_differs_from_the_baseline_by_its_technique(digits):
    built = []

    def build():
        model = build_cnn(digits.input_shape, 10, **SMALL)
        built.append(model)
        return model

    rows = compare_techniques(
        digits,
        [
            Technique("baseline"),
            # A learning rate this high wrecks training: the comparison must show it.
            Technique("lr 50", {"learning_rate": 50.0, "lr_schedule": "constant"}),
            Technique("smoothing", {"label_smoothing": 0.2}),
        ],
        build,
        BASE,
        seeds=(0, 1),
    )
    assert [row["technique"] for row in rows] == ["baseline", "lr 50", "smoothing"]
    assert len(built) == 6 and all(row["runs"] == 2 for row in rows)
    baseline, broken, smoothing = rows
    assert baseline["accuracy"] > 0.3 and broken["accuracy"] < baseline["accuracy"] - 0.2
    assert all(0.0 <= row["ece"] <= 1.0 and row["accuracy_std"] >= 0 for row in rows)
    assert smoothing["epochs"] == 3
    table = format_comparison(rows)
    assert "lr 50" in table and "vs first" in table and "+0.00 pts" in table


@pytest.mark.slow
def test_transform_model_is_applied(digits):
    seen = []

    def transform(model):
        seen.append(model.name)
        return model

    compare_techniques(
        digits,
        [Technique("identity", transform_model=transform)],
        lambda: build_cnn(digits.input_shape, 10, name="tiny", **SMALL),
        BASE.replace(epochs=1),
    )
    assert seen == ["tiny"]


def test_names_must_be_distinct(digits):
    with pytest.raises(ValueError, match=r"distinct technique names. Received: \['a', 'a'\]"):
        compare_techniques(digits, [Technique("a"), Technique("a")], lambda: None, BASE)


def test_a_diverged_run_is_counted_not_fatal(digits):
    rows = compare_techniques(
        digits,
        [Technique("lr 1e9", {"learning_rate": 1e9, "lr_schedule": "constant"})],
        lambda: build_cnn(digits.input_shape, 10, **SMALL),
        BASE.replace(epochs=1, health_checks=False),
    )
    assert rows[0]["diverged"] == 1.0 and rows[0]["accuracy"] == 0.0
    assert "100% NaN" in format_comparison(rows)
