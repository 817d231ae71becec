"""Built-in scenarios are registered `Scenario`s with today's recipes; users add their own."""

import pytest

from kerasopt.core.errors import KerasoptError
from kerasopt.export import TFLiteExportPlan
from kerasopt.scenarios import Scenario, get_scenario, register_scenario, scenario_names
from kerasopt.scenarios.builtin_images import cnn_tuning_defaults
from kerasopt.scenarios.builtin_imdb import IMDB_TRAIN
from kerasopt.text.text_export import TextExportPlan
from kerasopt.training import TrainConfig

IMAGE_SCENARIOS = ["digits", "mnist", "fashion_mnist", "cifar10"]


def test_builtin_names():
    assert {*IMAGE_SCENARIOS, "imdb"} <= set(scenario_names())


def test_quick_overrides_only_in_quick_mode():
    scenario = get_scenario("digits")
    assert scenario.train_config(quick=True).epochs < scenario.train_config().epochs
    assert scenario.train_config(epochs=3, seed=5).epochs == 3
    assert get_scenario("imdb").train_config(quick=True) == IMDB_TRAIN.replace(epochs=2)


def test_digits_recipe_is_unchanged():
    digits = get_scenario("digits")
    assert digits.train == TrainConfig(
        epochs=40,
        batch_size=32,
        learning_rate=3e-3,
        augment={"rotation": 0.05, "translation": 0.1, "zoom": 0.1},
        early_stopping_patience=None,
    )
    assert digits.quick == {"epochs": 4}
    assert digits.describe_model("cnn") == {
        "name": "cnn",
        "builder": "build_cnn",
        "input_max": 16.0,
        "filters": [32, 64],
        "dense_units": 128,
        "dropout": 0.3,
        "bn_momentum": 0.9,
    }
    assert digits.input_range == (0.0, 16.0) and digits.compressible


@pytest.mark.parametrize("name", IMAGE_SCENARIOS, ids=IMAGE_SCENARIOS)
def test_image_scenarios_declare_their_plan(name):
    scenario = get_scenario(name)
    assert "cnn" in scenario.models
    assert isinstance(scenario.export, TFLiteExportPlan)
    assert scenario.export.variants == ("float32", "dynamic", "float16", "int8")
    settings = scenario.build_model.settings["cnn"]
    assert scenario.tuning_defaults["cnn"] == cnn_tuning_defaults(settings)
    assert scenario.tuning_defaults["cnn"]["filters"] == settings["filters"][0]
    assert scenario.tuning_defaults["cnn"]["blocks"] == len(settings["filters"])
    assert scenario.input_range == (0.0, settings["input_max"])


def test_fashion_mnist_defaults_to_the_residual_cnn_and_keeps_the_old_one():
    from kerasopt.scenarios.builtin_images import residual_tuning_defaults

    scenario = get_scenario("fashion_mnist")
    assert scenario.models == ("residual", "cnn") and scenario.check_model(None) == "residual"
    settings = scenario.build_model.settings["residual"]
    defaults = residual_tuning_defaults(settings)
    assert scenario.tuning_defaults["residual"] == defaults
    # The tuning family doubles the stem width per stage: it rebuilds the same model.
    widths = tuple(defaults["width"] * 2**i for i in range(defaults["stages"] + 1))
    assert widths == tuple(settings["widths"])
    describe = scenario.describe_model("residual")
    assert describe["builder"] == "build_residual_cnn" and describe["widths"] == list(widths)


def test_an_image_builder_refuses_an_unknown_model():
    from kerasopt.scenarios.builtin_images import ImageModelBuilder

    with pytest.raises(ValueError, match="Unknown image model 'resnet'.*residual"):
        ImageModelBuilder("x", {"resnet": {}})


def test_imdb_declares_its_models_data_options_and_plan():
    from kerasopt.text.text_models import TEXT_MODEL_FAMILIES

    imdb = get_scenario("imdb")
    assert imdb.models == TEXT_MODEL_FAMILIES and imdb.check_model(None) == "bow"
    assert imdb.train == IMDB_TRAIN and not imdb.compressible and imdb.input_range is None
    assert isinstance(imdb.export, TextExportPlan)
    assert imdb.check_data_options({}) == {
        "max_tokens": 20000,
        "sequence_length": 200,
        "ngrams": None,
    }
    assert imdb.check_data_options({}, model="tfidf")["sequence_length"] == 400
    assert imdb.check_data_options({}, model="tfidf")["ngrams"] == 2
    assert imdb.check_data_options({"sequence_length": 64}, model="tfidf")["sequence_length"] == 64
    assert set(imdb.tuning_defaults) == {"text"}


def test_imdb_tuning_defaults_are_the_text_family_defaults():
    from kerasopt.tuning.model_families import MODEL_FAMILIES

    family = MODEL_FAMILIES["text"].defaults
    # What a search on imdb starts from: the family defaults updated by the scenario's.
    assert {**family, **get_scenario("imdb").tuning_defaults["text"]} == family
    assert get_scenario("imdb").tuning_defaults["text"]["family"] == "bow"


def test_unknown_scenario():
    with pytest.raises(
        KerasoptError,
        match=r"Unknown scenario 'imagenet'\. Expected one of: cifar10, digits, fashion_mnist",
    ):
        get_scenario("imagenet")


def test_unknown_model_and_data_option():
    with pytest.raises(KerasoptError, match=r"Unknown 'imdb' model 'rnn'\. Expected one of: bow"):
        get_scenario("imdb").check_model("rnn")
    with pytest.raises(KerasoptError, match=r"Did you mean 'max_tokens'\?"):
        get_scenario("imdb").check_data_options({"max_token": 5})


def test_register_refuses_a_duplicate_and_a_non_scenario():
    digits = get_scenario("digits")
    with pytest.raises(KerasoptError, match=r"already registered\. Pass replace=True"):
        register_scenario(digits)
    with pytest.raises(
        KerasoptError, match=r"expects a kerasopt\.scenarios\.Scenario\. Received: dict"
    ):
        register_scenario({"name": "x"})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "my photos"}, r"letters, digits and underscores\. Received: 'my photos'"),
        ({"models": ()}, r"offers no model"),
    ],
    ids=["name", "models"],
)
def test_scenario_checks_its_fields(kwargs, match):
    fields = {"name": "mine", "load_data": print, "build_model": print, "train": TrainConfig()}
    with pytest.raises(KerasoptError, match=match):
        Scenario(export=TFLiteExportPlan(), **{**fields, **kwargs})


def test_a_user_digits_registered_before_any_lookup_is_refused_too():
    import subprocess
    import sys

    code = (
        "import dataclasses\n"
        "from kerasopt.scenarios import register_scenario\n"
        "from kerasopt.scenarios.builtin_images import SCENARIOS\n"
        "mine = dataclasses.replace(SCENARIOS[0], notes='mine')\n"
        "try:\n"
        "    register_scenario(mine)\n"
        "except ValueError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "'digits' is already registered" in result.stdout, result.stderr


def test_the_old_fashion_cnn_keeps_the_recipe_it_was_measured_with():
    scenario = get_scenario("fashion_mnist")
    new, old = scenario.train_config(), scenario.train_config(model="cnn")
    assert new.epochs == 20 and new.augment == "flip(horizontal), crop_pad(2)"
    assert old.epochs == 20 and old.optimizer == "adam" and old.label_smoothing == 0.0
    assert (new.batch_norm, old.batch_norm) == ("fused", "keras")
    # Adam's rate, not the new recipe's SGD peak of 0.1.
    assert (old.learning_rate, old.optimizer_kwargs) == (3e-3, {})
    assert (new.optimizer, new.learning_rate) == ("sgd", 0.1)
    assert new.optimizer_kwargs == {"momentum": 0.9, "nesterov": True, "weight_decay": 5e-3}
    assert old.augment == {"rotation": 0.0, "translation": 0.05, "zoom": 0.05}
    assert scenario.train_config(model="cnn", epochs=2).epochs == 2  # overrides still win
    assert scenario.train_config(quick=True, model="cnn").epochs == 1


@pytest.mark.parametrize(
    "per_model",
    [{"model_train": {"resnet": {"epochs": 1}}}, {"mirror_average": ("resnet",)}],
    ids=["model_train", "mirror_average"],
)
def test_per_model_settings_must_name_an_offered_model(per_model):
    from kerasopt.scenarios import Scenario

    digits = get_scenario("digits")
    with pytest.raises(ValueError, match=r"among \['cnn'\]. Received: 'resnet'"):
        Scenario(
            name="x",
            load_data=digits.load_data,
            build_model=digits.build_model,
            train=digits.train,
            export=digits.export,
            **per_model,
        )


def test_fashion_mnist_mirror_averages_its_residual_model_only():
    fashion = get_scenario("fashion_mnist")
    assert fashion.mirror_average == ("residual",)
    assert all(not get_scenario(name).mirror_average for name in ("digits", "mnist", "imdb"))
