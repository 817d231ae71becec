import json

import pytest
from mnist_like_files import make_idx_folder

from kerasopt.pipeline import ParetoPoint, ParetoReport, plain_path_cnn, run_pareto_bench


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
        epochs=1,
        out_dir=tmp_path / "out",
        verbose=0,
    )
    (ours,), (plain,) = report.line("kerasopt"), report.line("plain path")
    assert ours.model == "residual (4, 8, 16)" and plain.model == "keras.io CNN (4, 8)"
    for p in (ours, plain):
        assert 1000 < p.int8_bytes < 40_000 and 0.0 <= p.int8_accuracy <= 1.0
        assert p.epochs == 1 and p.macs > 0 and p.params > 0
    assert report.test_samples == 40 and report.data_source == f"idx:{folder}"
    saved = json.loads((tmp_path / "out" / "pareto.json").read_text())
    assert saved["schema_version"] == 1 and len(saved["points"]) == 2
    assert (tmp_path / "out" / "pareto.png").stat().st_size > 1000
    assert "| <= 25 KB |" in (tmp_path / "out" / "pareto.md").read_text()


def test_a_scenario_without_a_residual_model_is_refused():
    with pytest.raises(ValueError, match="'residual' model.*scenario='digits'"):
        run_pareto_bench("digits", widths=(4,), epochs=1)
