import dataclasses
import json

import pytest
from mnist_like_files import make_idx_folder

from kerasopt.pipeline import ParetoPoint, ParetoReport, plain_path_cnn, run_pareto_bench
from kerasopt.pipeline.pareto_bench import small_model_recipe
from kerasopt.scenarios import get_scenario


def point(line, kb, accuracy, model="m"):
    return ParetoPoint(line, model, 1, 1, int(kb * 1000), accuracy, accuracy, 1.0, 1)


REPORT = ParetoReport(
    scenario="fashion_mnist",
    data_source="idx:x",
    test_samples=100,
    points=(
        point("kerasopt", 22, 0.90, "a"),
        point("kerasopt", 48, 0.93, "b"),
        point("kerasopt", 90, 0.92, "c"),  # bigger and worse than b: off the front
        point("kerasopt", 180, 0.94, "d"),
        point("plain path", 20, 0.88, "p"),
        point("plain path", 42, 0.90, "q"),
    ),
)


def test_front_keeps_points_no_smaller_file_beats():
    assert [p.model for p in REPORT.front("kerasopt")] == ["a", "b", "d"]
    assert [p.model for p in REPORT.line("plain path")] == ["p", "q"]


def test_best_within_a_budget_is_the_most_accurate_file_that_fits():
    assert REPORT.best_within(25, "kerasopt").model == "a"
    assert REPORT.best_within(100, "kerasopt").model == "b"
    assert REPORT.best_within(200, "plain path").model == "q"
    assert REPORT.best_within(10, "kerasopt") is None
    rows = REPORT.to_dict()["budgets"]
    assert [r["budget_kb"] for r in rows] == [25, 50, 100, 200]
    assert rows[1]["kerasopt"]["model"] == "b" and rows[0]["plain path"]["model"] == "p"


def test_markdown_has_the_budget_table_and_every_point():
    text = REPORT.to_markdown()
    assert "| <= 50 KB | 0.9300 (b, 48.0 KB) | 0.9000 (q, 42.0 KB) |" in text
    assert text.count("kerasopt ") >= 4 and "none fits" not in text


def test_a_compressed_line_gets_its_own_column_and_competes_per_budget():
    report = ParetoReport(
        scenario="fashion_mnist",
        data_source="idx:x",
        test_samples=100,
        points=(*REPORT.points, point("kerasopt, channels pruned", 46, 0.935, "d -50%")),
    )
    assert report.lines() == ["kerasopt", "kerasopt, channels pruned", "plain path"]
    assert "budget" not in report.table()  # no compressed point carries a verdict here
    assert REPORT.lines() == ["kerasopt", "plain path"]
    text = report.to_markdown()
    assert "| int8 budget | kerasopt | kerasopt, channels pruned | plain path |" in text
    assert "| <= 25 KB | 0.9000 (a, 22.0 KB) | none fits | 0.8800 (p, 20.0 KB) |" in text
    assert "| <= 50 KB | 0.9300 (b, 48.0 KB) | 0.9350 (d -50%, 46.0 KB) |" in text
    budgets = report.to_dict()["budgets"]
    assert budgets[0]["kerasopt, channels pruned"] is None
    assert budgets[1]["kerasopt, channels pruned"]["int8_accuracy"] == 0.935


def test_a_compressed_point_shows_its_validation_change_as_compress_prints_it():
    lost = dataclasses.replace(point("kerasopt, channels pruned", 46, 0.9), budget_held=False)
    assert dataclasses.replace(lost, val_drop=2.5).budget() == "NOT held (-2.50)"
    kept = dataclasses.replace(lost, budget_held=True, val_drop=0.0)
    assert kept.budget() == "held (+0.00)" and point("kerasopt", 46, 0.9).budget() == ""


def test_the_small_model_recipe_drops_regularization_and_takes_smaller_batches():
    recipe = get_scenario("fashion_mnist").train
    small = small_model_recipe(recipe)
    assert (small.augment, small.label_smoothing, small.batch_size) == (None, 0.0, 32)
    assert (small.optimizer, small.optimizer_kwargs) == ("adam", {})
    # Adam's own peak rate, whatever the recipe's optimizer peaks at (SGD: 0.1).
    assert small.learning_rate == 3e-3 and recipe.learning_rate == 0.1
    assert recipe.augment is not None and recipe.label_smoothing > 0  # the input is kept
    # The schedule, the epochs and the seed stay the recipe's.
    for name in ("lr_schedule", "warmup_fraction", "epochs", "seed"):
        assert getattr(small, name) == getattr(recipe, name)


def test_plain_path_is_keras_io_simple_convnet():
    model = plain_path_cnn((28, 28), 10)
    assert model.count_params() == 34826  # the parameter count keras.io prints
    assert [type(layer).__name__ for layer in model.layers][-3:] == [
        "Flatten",
        "Dropout",
        "Dense",
    ]


def test_bench_trains_converts_and_writes_both_lines(tmp_path):
    folder = tmp_path / "idx"
    make_idx_folder(folder, n_train=240, n_test=40, seed=1)
    report = run_pareto_bench(
        "fashion_mnist",
        data_path=folder,
        widths=(4,),
        plain_filters=((4, 8),),
        recipe_widths=(4,),
        recipe_filters=((4, 8),),
        epochs=1,
        channels=(0.5,),
        fine_tune_epochs=1,
        out_dir=tmp_path / "out",
        verbose=0,
    )
    (ours,), (plain,) = report.line("kerasopt"), report.line("plain path")
    (pruned,) = report.line("kerasopt, channels pruned")
    # The same shapes as the plain and residual points, trained with the small-model
    # recipe; the compressed point comes from the scenario recipe's model.
    small_plain, small_residual = report.line("kerasopt, small-model recipe")
    assert small_plain.model == plain.model and small_plain.params == plain.params
    assert small_residual.model == ours.model and small_residual.params == ours.params
    assert report.lines() == [
        "kerasopt",
        "kerasopt, channels pruned",
        "kerasopt, small-model recipe",
        "plain path",
    ]
    assert ours.model == "residual (4, 8, 16)" and plain.model == "keras.io CNN (4, 8)"
    # The widest model lost half its channels: (4, 8, 16) -> (2, 4, 8), fewer weights and
    # MACs and a smaller file than the model it came from.
    assert pruned.model == "residual (4, 8, 16) channels -50%"
    assert pruned.params < ours.params and pruned.macs < ours.macs
    assert pruned.int8_bytes < ours.int8_bytes and pruned.epochs == 1
    # Its budget verdict comes from compress_model; trained points have none.
    assert isinstance(pruned.budget_held, bool) and ours.budget_held is None
    assert pruned.budget().startswith("held (" if pruned.budget_held else "NOT held (")
    assert "budget (val)" in report.table()
    for p in (ours, plain, pruned, small_plain, small_residual):
        assert 1000 < p.int8_bytes < 40_000 and 0.0 <= p.int8_accuracy <= 1.0
        assert p.epochs == 1 and p.macs > 0 and p.params > 0
    assert report.test_samples == 40 and report.data_source == f"idx:{folder}"
    saved = json.loads((tmp_path / "out" / "pareto.json").read_text())
    assert saved["schema_version"] == 2 and len(saved["points"]) == 5
    assert (tmp_path / "out" / "pareto.png").stat().st_size > 1000
    assert "| <= 25 KB |" in (tmp_path / "out" / "pareto.md").read_text()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"channels": (1.0,)}, "channels\\[i\\]"),
        ({"channels": (0.5,), "widths": ()}, "widths=\\(16,\\)"),
        ({"channels": (0.5,), "fine_tune_epochs": 0}, "fine_tune_epochs"),
        ({"recipe_widths": (0,)}, "recipe_widths\\[i\\]"),
    ],
)
def test_bad_compression_settings_are_refused_before_training(kwargs, match):
    settings = {"widths": (4,), "plain_filters": ((4, 8),), "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_pareto_bench("fashion_mnist", data_path="/nonexistent", **settings)


def test_a_scenario_without_a_residual_model_is_refused():
    with pytest.raises(ValueError, match="'residual' model.*scenario='digits'"):
        run_pareto_bench("digits", widths=(4,), epochs=1)
