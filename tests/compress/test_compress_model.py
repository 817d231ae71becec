import hashlib
import json

import keras
import numpy as np
import pytest

from kerasopt.cli import main
from kerasopt.compress import compress_model
from kerasopt.compress.compression_report import SCHEMA_VERSION


@pytest.fixture(scope="module")
def dense_model(trained_digits_model):
    model = keras.models.clone_model(trained_digits_model)
    model.set_weights(trained_digits_model.get_weights())
    return model


@pytest.mark.slow
def test_prune_stage_is_measured_on_keras_and_litert(dense_model, digits, tmp_path):
    before = [w.copy() for w in dense_model.get_weights()]
    report = compress_model(
        dense_model, digits, prune=0.8, epochs=2, max_epochs=4, learning_rate=1e-2, out_dir=tmp_path
    )
    dense, pruned = report.stages
    assert (dense.name, pruned.name) == ("dense", "prune 80% (native)")
    assert dense.kernel_sparsity < 0.05 and pruned.kernel_sparsity >= 0.75
    assert pruned.tflite.gzip_bytes < dense.tflite.gzip_bytes
    assert abs(pruned.tflite.accuracy - pruned.keras_accuracy) <= 0.02
    assert pruned.tflite.variant == "int8" and pruned.tflite.full_integer
    assert report.gzip_vs_dense_float32 == pytest.approx(
        pruned.tflite.gzip_bytes / report.float32_baseline.gzip_bytes
    )
    # The user's model is untouched; the artifacts are complete and readable.
    assert all(np.array_equal(a, b) for a, b in zip(before, dense_model.get_weights(), strict=True))
    for name in ("model.keras", "model_int8.tflite", "report.md", "compression.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved == json.loads(json.dumps(report.to_dict()))
    assert saved["schema_version"] == SCHEMA_VERSION
    assert [s["stage"] for s in saved["stages"]] == ["dense", "prune 80% (native)"]
    assert saved["budget"]["max_drop"] == 1.0 and "budget" in (tmp_path / "report.md").read_text()
    assert 2 <= saved["stages"][1]["fine_tuning"]["epochs"] <= 4
    assert saved["stages"][1]["tflite"]["gzip_bytes"] == pruned.tflite.gzip_bytes
    assert set(saved["float32_baseline"]) >= {"accuracy", "bytes", "gzip_bytes", "latency_us"}
    assert not (tmp_path / ".kerasopt.lock").read_text()  # released
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    kernels = [w for w in reloaded.get_weights() if w.ndim > 1]
    assert sum(int((w == 0).sum()) for w in kernels) / sum(w.size for w in kernels) > 0.75


@pytest.mark.slow
def test_channel_stage_shrinks_parameters(dense_model, digits):
    report = compress_model(
        dense_model, digits, channels=0.5, epochs=1, max_drop=None, learning_rate=1e-2
    )
    dense, smaller = report.stages
    assert smaller.params < dense.params / 2.5
    assert smaller.tflite.bytes < dense.tflite.bytes
    assert "channels -50% int8" in report.table()
    assert report.budget is None and smaller.fine_tuning.epochs == 1


@pytest.mark.slow
def test_cli_allocate_splits_the_channels_within_the_uniform_parameter_budget(
    dense_model, tmp_path, capsys
):
    from kerasopt.compress import ChannelPruningPlanner

    path, out = tmp_path / "model.keras", tmp_path / "small"
    dense_model.save(path)
    args = ["compress", str(path), "--data", "digits", "--channels", "0.5", "--allocate"]
    args += ["--learning-rate", "0.01"]
    assert main([*args, "--epochs", "1", "--max-epochs", "1", "--out", str(out)]) == 0
    assert "channels -50% (allocated) int8" in capsys.readouterr().out
    saved = json.loads((out / "report.json").read_text())
    shares = saved["channel_allocation"]
    assert saved["settings"]["allocate_channels"] is True and shares
    assert all(0 <= value <= 0.75 and (value * 8) % 1 == 0 for value in shares.values())
    measured = {row["name"] for row in saved["channel_sensitivity"]["layers"]}
    assert set(shares) <= measured
    budget = ChannelPruningPlanner(dense_model).params(0.5)
    assert saved["stages"][1]["params"] <= budget
    assert "## Channels allocated by sensitivity" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, r"nothing to do: pass prune"),
        ({"prune": 1.2}, r"prune in \(0, 1\) or None. Received: prune=1.2"),
        ({"prune": 0.5, "backend": "torch"}, r"backend must be one of"),
        ({"structure": "2:4"}, r"needs magnitude pruning: pass prune"),
        ({"prune": 0.5, "learning_rate": 0}, r"learning_rate > 0.*Received: learning_rate=0"),
        ({"prune": 0.5, "learning_rate": []}, r"sequence of such rates.*learning_rate=\[\]"),
        ({"prune": 0.5, "learning_rate": "fast"}, r"Received: learning_rate='fast'"),
    ],
    ids=["nothing", "sparsity", "backend", "structure-alone", "rate", "no-rates", "rate-text"],
)
def test_bad_arguments_are_named(dense_model, digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compress_model(dense_model, digits, **kwargs)


@pytest.mark.slow
def test_cli_compress_never_modifies_the_input(dense_model, tmp_path, capsys):
    path = tmp_path / "model.keras"
    dense_model.save(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / "small"
    args = ["compress", str(path), "--data", "digits", "--channels", "0.5", "--epochs", "1"]
    args += ["--max-epochs", "2"]
    assert main([*args, "--out", str(out)]) == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    printed = capsys.readouterr().out
    assert "channels -50% int8" in printed
    assert printed.strip().splitlines()[-1].startswith(("budget held", "budget NOT held"))
    assert (out / "model_int8.tflite").is_file()
    saved = json.loads((out / "report.json").read_text())
    assert saved["settings"]["learning_rate"] == [1e-3, 1e-2]
    assert not saved["settings"]["stop_early"]
    tuning = saved["stages"][1]["fine_tuning"]
    assert tuning["epochs"] == 2  # the whole schedule
    # Both rates fit from the same cut; the stage keeps the one best on validation.
    trials = tuning["rate_trials"]
    assert [t["learning_rate"] for t in trials] == [1e-3, 1e-2]
    best = max(trials, key=lambda t: (t["val_accuracy"], -t["val_loss"]))
    assert tuning["learning_rate"] == best["learning_rate"]
    assert tuning["val_accuracy"] == best["val_accuracy"] == saved["stages"][1]["val_accuracy"]
    assert tuning["seconds"] == pytest.approx(sum(t["seconds"] for t in trials))
    assert f"at {best['learning_rate']:g} of 2" in printed
    assert main([*args, "--out", str(tmp_path)]) == 2
    assert "would overwrite the input model" in capsys.readouterr().err


@pytest.mark.slow
def test_two_four_leaves_the_one_channel_conv_dense_and_says_so(dense_model, digits):
    report = compress_model(
        dense_model, digits, prune=0.5, structure="2:4", epochs=1, max_drop=None, learning_rate=1e-2
    )
    assert list(report.left_dense) == ["block0_conv0"]
    rows = {row["layer"]: row for row in report.sparsity}
    assert rows["block0_conv0"]["sparsity"] == 0.0
    assert rows["block0_conv1"]["sparsity"] == pytest.approx(0.5)


@pytest.mark.slow
def test_prune_cluster_qat_stages_compose(dense_model, digits):
    report = compress_model(
        dense_model,
        digits,
        prune=0.5,
        cluster=8,
        qat=True,
        epochs=1,
        max_drop=None,
        learning_rate=1e-2,
    )
    names = [s.name for s in report.stages]
    assert names == ["dense", "prune 50% (native)", "cluster 8", "CQAT"]
    clustered = report.stages[2]
    # Sparsity-preserving clustering: 8 centroids per kernel, the pruned zeros kept.
    assert clustered.max_unique_weights_per_kernel <= 8
    assert clustered.kernel_sparsity >= 0.45
    cqat = report.stages[3]
    assert cqat.tflite.accuracy >= report.stages[0].tflite.accuracy - 0.1
    # Cluster-preserving QAT keeps the zeros and stays far below the unclustered count
    # (TF-MOT does not hold every kernel at exactly 8 values: 113 at most here).
    assert cqat.kernel_sparsity >= 0.45
    assert cqat.max_unique_weights_per_kernel < report.stages[1].max_unique_weights_per_kernel / 5
