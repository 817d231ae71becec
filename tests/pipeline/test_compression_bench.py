"""`run_compression_bench`: one row per model, seed and case; refusals are rows, not crashes."""

import json

import numpy as np
import pytest

from kerasopt.pipeline.compression_bench import (
    format_summary,
    run_compression_bench,
    summarize,
    write_compression_bench,
)


@pytest.mark.slow
def test_bench_rows_measure_the_int8_drop_and_write_the_summary(digits, tmp_path):
    rows = run_compression_bench(
        digits,
        models=["dropout_head"],
        cases=["prune 80%, 4 ep fixed"],
        seeds=(0,),
        train_epochs=2,
        input_max=16,
    )
    (row,) = rows
    assert row.error is None and row.budget_held is None and row.finetune_epochs == 4
    assert row.drop_points == pytest.approx((row.dense_int8_accuracy - row.int8_accuracy) * 100)
    assert 0 < row.gzip_ratio < 1  # 80 % zeros compress
    (summary,) = summarize(rows)
    assert summary["worst_drop"] == pytest.approx(row.drop_points)
    assert row.learning_rate in (1e-3, 1e-2)  # the rate the stage kept of the two tried
    assert summary["rates_kept"] == f"{row.learning_rate:g}"
    assert "dropout_head" in format_summary([summary])
    write_compression_bench(rows, tmp_path, {"seeds": 1})
    saved = json.loads((tmp_path / "compress_bench.json").read_text())
    assert saved["rows"][0]["case"] == "prune 80%, 4 ep fixed"
    environment = saved["environment"]
    assert environment["versions"]["keras"].startswith("3.")
    assert environment["threads"]["cpu_count"] >= 1 and "intra_op" in environment["threads"]
    assert "| dropout_head |" in (tmp_path / "compress_bench.md").read_text()


def test_unknown_model_and_case_are_named(digits):
    with pytest.raises(ValueError, match=r"models among .*'resnet50'"):
        run_compression_bench(digits, models=["resnet50"])
    with pytest.raises(ValueError, match=r"cases among .*'prune 99%'"):
        run_compression_bench(digits, cases=["prune 99%"])


def test_a_refused_case_is_summarized_as_refused():
    from kerasopt.pipeline.compression_bench import CompressionRow

    nan = float("nan")
    row = CompressionRow("m", 0, "channels 50%", nan, nan, nan, nan, None, 0, 0.0, 0, 0, nan, "no")
    (summary,) = summarize([row])
    assert summary["mean_drop"] is None and summary["error"] == "no"
    assert "refused" in format_summary([summary]) and not np.isnan(len(format_summary([summary])))


def test_the_thread_counts_recorded_are_those_the_process_asked_for(monkeypatch):
    import tensorflow as tf

    from kerasopt.pipeline.run_report import tensorflow_threads

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    threads = tensorflow_threads()
    configured = tf.config.threading.get_intra_op_parallelism_threads()
    assert threads["intra_op"] == (configured or 3)
    if not tf.config.threading.get_inter_op_parallelism_threads():
        assert threads["inter_op"] is None  # TensorFlow's default
