"""A scenario a user registers (their data, their builders) runs through the same pipeline."""

import json

import numpy as np
import pytest
from small_models import USER_SHAPED_MODELS

from kerasopt.core.errors import KerasoptError
from kerasopt.data import DatasetSplits
from kerasopt.export import TFLiteExportPlan
from kerasopt.pipeline import RUN_REPORT_KEYS, SCHEMA_VERSION, default_out_dir, run_scenario
from kerasopt.scenarios import (
    ReportSection,
    Scenario,
    ScenarioData,
    get_scenario,
    register_scenario,
)
from kerasopt.training import TrainConfig


def bright_quadrants(n, seed):
    """8x8 noise (0..4) with one bright quadrant (12..16); the label is the quadrant."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.uniform(0, 4, (n, 8, 8)).astype("float32")
    for i, label in enumerate(y):
        row, col = divmod(int(label), 2)
        x[i, 4 * row : 4 * row + 4, 4 * col : 4 * col + 4] += 12.0
    return x, y


def load_quadrants(data_path=None, *, seed=0, train_size=512):
    (x_train, y_train), (x_val, y_val) = bright_quadrants(train_size, 1), bright_quadrants(64, 2)
    x_test, y_test = bright_quadrants(96, 3)
    splits = DatasetSplits(
        "quadrants", x_train, y_train, x_val, y_val, x_test, y_test, 4, {"test": "seed 3"}
    )
    return ScenarioData(splits)


def build_quadrant_model(data, model):
    builder = USER_SHAPED_MODELS[model]
    return builder(data.splits.input_shape, data.splits.num_classes, input_max=16.0)


def class_balance(context):
    counts = np.bincount(context.data.splits.y_test, minlength=4).tolist()
    return ReportSection("class_balance", {"test": counts}, ("## Class balance", "", f"{counts}"))


QUADRANTS = Scenario(
    name="quadrants",
    load_data=load_quadrants,
    build_model=build_quadrant_model,
    train=TrainConfig(epochs=3, batch_size=32, learning_rate=1e-2, augment=None),
    export=TFLiteExportPlan(variants=("float32", "int8")),
    models=("separable", "residual", "nested_backbone"),
    data_options={"train_size": 512},
    sections=(class_balance,),
    input_range=(0.0, 16.0),
)


@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
    register_scenario(QUADRANTS, replace=True)
    out = tmp_path_factory.mktemp("quadrants")
    return out, run_scenario("quadrants", out_dir=out, verbose=0)


def test_a_registered_scenario_is_found_by_name():
    register_scenario(QUADRANTS, replace=True)
    assert get_scenario("quadrants") is QUADRANTS
    assert str(default_out_dir(QUADRANTS, "residual")) == "saved_models/quadrants_residual"


@pytest.mark.slow
def test_user_scenario_runs_end_to_end_with_the_digits_report_keys(user_run):
    out, report = user_run
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert set(on_disk) == set(RUN_REPORT_KEYS)  # digits has these, plus compression
    assert on_disk["model"] == {"name": "separable", "builder": "build_quadrant_model"}
    assert list(on_disk["tflite"]) == ["float32", "int8"]
    assert on_disk["tflite"]["int8"]["full_integer"] is True
    assert on_disk["sections"] == {
        "class_balance": {"test": report.sections["class_balance"].content["test"]}
    }
    assert on_disk["robustness"]["input_range"] == [0.0, 16.0]
    assert on_disk["train"]["epochs_run"] == 3
    # The recipe's default: the separable model's BatchNormalization layers train fused.
    assert on_disk["train"]["batch_norm"] == "fused" and on_disk["train"]["batch_norm_fused"] > 0
    for name in ("model.keras", "model_int8.tflite", "hardest_examples.png", "report.md"):
        assert (out / name).is_file(), name
    assert "## Class balance" in (out / "report.md").read_text()


def test_user_model_learns_and_exports_faithfully(user_run):
    _, report = user_run
    assert report.keras.accuracy > 0.5  # 4 classes, chance is 0.25
    assert report.tflite["float32"].metrics.agreement == 1.0
    assert report.tflite["int8"].metrics.agreement >= 0.9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"model": "mobilenet"},
            r"Unknown 'quadrants' model 'mobilenet'\. Expected one of: separable, residual, "
            r"nested_backbone\.",
        ),
        (
            {"data_options": {"train_sise": 9}},
            r"Unknown 'quadrants' data option 'train_sise'\..*Did you mean 'train_size'\?",
        ),
    ],
    ids=["model", "data_option"],
)
def test_unknown_model_or_data_option_names_the_choices(kwargs, match):
    register_scenario(QUADRANTS, replace=True)
    with pytest.raises(KerasoptError, match=match):
        run_scenario("quadrants", **kwargs)


def test_unknown_scenario_names_the_choices():
    with pytest.raises(
        KerasoptError, match=r"Unknown scenario 'imagenet'\. Expected one of: .*digits.*imdb"
    ):
        run_scenario("imagenet")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["residual", "nested_backbone"])
def test_user_shaped_models_export_full_integer_int8_that_agrees(model, tmp_path):
    register_scenario(QUADRANTS, replace=True)
    report = run_scenario("quadrants", model=model, out_dir=tmp_path, verbose=0)
    int8 = report.tflite["int8"].metrics
    assert report.model["name"] == model and int8.full_integer
    # 96 test images, one is 1.04 points: a broken export agrees near chance (0.25), a
    # sound one on this small undertrained model 0.94-1.0 depending on the summation order.
    assert int8.agreement >= 0.9 and report.keras.accuracy > 0.5
