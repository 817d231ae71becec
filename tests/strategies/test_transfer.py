"""Transfer learning: a cut backbone, a frozen phase, a fine-tuning phase, int8 vs scratch."""

import json

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.models import build_residual_cnn, load_model_safely
from kerasopt.strategies import (
    build_transfer_model,
    cut_backbone,
    cut_candidates,
    fit_linear_head,
    transfer,
    unfreeze_top,
)

TARGET = [5, 6, 7, 8, 9]


def tiny_source():
    """An untrained residual CNN for digits: fresh BN statistics (0 and 1) move at once."""
    keras.utils.set_random_seed(3)
    return build_residual_cnn((8, 8), 5, input_max=16, widths=(4, 8), bn_momentum=0.5)


def bn_statistics(model):
    return [
        w.numpy().copy()
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for w in layer.weights
    ]


@pytest.fixture(scope="module")
def source():
    return tiny_source()


def test_a_nested_backbone_is_cut_at_its_call_in_the_outer_graph():
    # A backbone used as one layer: its own `.output` is not connected to the outer inputs.
    from small_models import nested_backbone_cnn

    source = nested_backbone_cnn((8, 8), 5, 16.0)
    assert "backbone" in cut_candidates(source)
    x = np.random.default_rng(0).uniform(0, 16, (4, 8, 8)).astype("float32")
    rescaling, reshape = source.layers[1:3]  # auto-named: "reshape_4" after other models
    stem = reshape(rescaling(x))
    called = source.get_layer("backbone")(stem)
    cut = cut_backbone(source, "backbone")
    np.testing.assert_allclose(cut.predict(x, verbose=0), np.asarray(called), atol=1e-6)
    assert build_transfer_model(cut, 5).output_shape == (None, 5)
    from kerasopt.data import load_dataset

    report = transfer(
        source,
        load_dataset("digits"),
        cut="backbone",
        classes=TARGET,
        per_class=2,
        head_epochs=1,
        fine_tune_epochs=0,
        compare_scratch=False,
        latency_runs=1,
    )
    assert report.transfer.tflite.full_integer and report.scratch is None


@pytest.fixture(scope="module")
def run(source, tmp_path_factory):
    """One `transfer` with both phases and an output folder, shared by the checks below."""
    from kerasopt.data import load_dataset

    out = tmp_path_factory.mktemp("transfer") / "out"
    data = load_dataset("digits")
    report = transfer(
        source,
        data,
        cut="stage1_relu",
        classes=TARGET,
        per_class=10,
        head_epochs=2,
        fine_tune_epochs=2,
        unfreeze=1,
        compare_scratch=False,
        out_dir=out,
        latency_runs=2,
    )
    return report, out, data


def test_cut_backbone_equals_the_source_layer_output_with_its_own_weights(source):
    x = np.random.default_rng(0).uniform(0, 16, (6, 8, 8)).astype("float32")
    expected = keras.Model(source.inputs, source.get_layer("stage1_add").output).predict(x)
    backbone = cut_backbone(source, "stage1_add")
    np.testing.assert_allclose(backbone.predict(x, verbose=0), expected, atol=1e-6)
    assert all(a is not b for a, b in zip(backbone.weights, source.weights, strict=False))
    fresh = cut_backbone(source, "stage1_add", fresh=True)
    assert not np.allclose(fresh.predict(x, verbose=0), expected)


def test_cut_candidates_leave_out_the_input_and_the_output(source):
    names = cut_candidates(source)
    assert names[0] == "add_channel" and names[-1] == "dropout"
    assert "pixels" not in names and "probabilities" not in names


def test_head_phase_trains_only_the_head_and_bn_stays_in_inference_mode(digits):
    backbone = cut_backbone(tiny_source(), "stage1_relu")
    model = build_transfer_model(backbone, 5, head="pool", dropout=0.0)
    assert model.get_layer("head_pool").output.shape == (None, 8)
    before, head = backbone.get_weights(), model.get_layer("head_probabilities").get_weights()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(digits.x_train[:64], digits.y_train[:64] % 5, batch_size=32, epochs=1, verbose=0)
    for a, b in zip(before, backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    after = model.get_layer("head_probabilities").get_weights()
    assert not np.allclose(head[0], after[0])
    unfrozen = unfreeze_top(backbone, 2)
    assert unfrozen == ["stage1_projection_conv", "stage1_b_conv"]
    assert {w.path.split("/")[0] for w in model.trainable_weights} == {
        *unfrozen,
        "head_probabilities",
    }


def test_transfer_keeps_bn_statistics_and_lower_layers_and_tunes_the_top(run, source):
    report, _, _ = run
    backbone = report.model.get_layer("backbone")
    for a, b in zip(bn_statistics(source), bn_statistics(backbone), strict=True):
        np.testing.assert_array_equal(a, b)  # both phases: moving statistics untouched
    np.testing.assert_array_equal(
        backbone.get_layer("stem0_conv").get_weights()[0],
        source.get_layer("stem0_conv").get_weights()[0],
    )
    assert report.unfrozen == ["stage1_b_conv"]
    tuned = backbone.get_layer("stage1_b_conv").get_weights()[0]
    assert not np.allclose(tuned, source.get_layer("stage1_b_conv").get_weights()[0])


def test_transfer_writes_a_verified_int8_model_and_a_report(run):
    from kerasopt.export import find_float_parts

    report, out, data = run
    assert report.model.get_layer("head_flatten").output.shape == (None, 4 * 4 * 8)
    for name in ("transfer.keras", "transfer_int8.tflite", "report.json", "report.md"):
        assert (out / name).is_file()
    saved = json.loads((out / "report.json").read_text())
    assert saved["transfer"]["tflite"]["full_integer"] and saved["scratch"] is None
    assert saved["transfer"]["epochs"] == 4 and saved["dataset"]["sizes"]["train"] == 50
    assert saved["dataset"]["sizes"]["test"] == int(np.isin(data.y_test, TARGET).sum())
    assert find_float_parts((out / "transfer_int8.tflite").read_bytes()) == []
    loaded = load_model_safely(out / "transfer.keras")
    x = data.x_test[:16]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), report.model.predict(x, verbose=0))
    assert "no scratch baseline" in report.summary() and "transfer" in report.table()


@pytest.mark.parametrize("classes", [5, 2], ids=["multinomial", "binary"])
def test_linear_probe_head_computes_the_fitted_regressions_probabilities(digits, classes):
    from sklearn.linear_model import LogisticRegression

    model = build_transfer_model(cut_backbone(tiny_source(), "stage1_relu"), classes)
    x, y = digits.x_train[:80], digits.y_train[:80] % classes
    accuracy = fit_linear_head(model, x, y, c=0.5)
    features = keras.Model(model.inputs, model.get_layer("head_dropout").output).predict(x)
    regression = LogisticRegression(C=0.5, max_iter=1000).fit(features.astype("float64"), y)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), regression.predict_proba(features), atol=1e-4
    )
    assert accuracy == pytest.approx(regression.score(features, y))


def test_linear_probe_refuses_a_layer_that_is_not_a_softmax_head(digits):
    model = build_transfer_model(cut_backbone(tiny_source(), "stage1_relu"), 5)
    x, y = digits.x_train[:20], digits.y_train[:20] % 5
    with pytest.raises(InvalidValueError, match=r"softmax Dense .* layer 'head_flatten' of type"):
        fit_linear_head(model, x, y, layer="head_flatten")
    with pytest.raises(InvalidValueError, match=r"labels of at least 2 classes in \[0, 5\)"):
        fit_linear_head(model, x, y + 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cut": "stage1_rel"}, r"Received: cut='stage1_rel'\. Did you mean 'stage1_relu'\?"),
        ({"classes": [5, 12]}, r"in \[0, 10\)\. Received: classes=\[5, 12\]\. Pass ids from 0"),
        ({"per_class": 500}, r"Received: class \d of 'digits' has \d+\. Pass per_class <= \d+"),
        ({"unfreeze": 9}, r"expected unfreeze in \[0, 4\]\. Received: unfreeze=9"),
        ({"head_epochs": 0}, r"Received: head_epochs=0"),
        ({"head_init": "zeros"}, r"head_init to be one of 'probe', 'random'.*'zeros'"),
    ],
    ids=[
        "unknown_cut",
        "unknown_class",
        "too_few_per_class",
        "unfreeze_too_deep",
        "no_epochs",
        "unknown_head_init",
    ],
)
def test_bad_arguments_raise_before_anything_is_written(digits, source, tmp_path, kwargs, match):
    out = tmp_path / "out"
    arguments = {"cut": "stage1_relu", "classes": TARGET, "per_class": 10, **kwargs}
    with pytest.raises(InvalidValueError, match=match):
        transfer(source, digits, out_dir=out, **arguments)
    assert not out.exists()


def test_a_source_of_another_input_shape_is_refused(digits, tmp_path):
    other = build_residual_cnn((12, 12), 5, widths=(4, 8))
    with pytest.raises(InvalidValueError, match=r"shape \(8, 8\)\. Pass the dataset"):
        transfer(other, digits, cut="stage1_relu", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
