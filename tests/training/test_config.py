import pytest

from kerasopt.training import ConfigError, TrainConfig


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(
        ConfigError, match=r"Unknown training config key 'epoch'\. Did you mean 'epochs'\?"
    ):
        TrainConfig.from_dict({"epoch": 3})


@pytest.mark.parametrize(
    "values, match",
    [
        ({"epochs": 0}, r"epochs must be an integer >= 1. Received: 0"),
        ({"batch_size": 2.5}, r"batch_size must be an integer"),
        ({"learning_rate": 0}, r"learning_rate must be > 0"),
        ({"lr_schedule": "step"}, r"lr_schedule='step' is unknown. Expected one of \['constant'"),
        ({"warmup_fraction": 1.0}, r"warmup_fraction must be in \[0, 1\)"),
        ({"clipnorm": -1.0}, r"clipnorm must be > 0 or None"),
        ({"clipvalue": 0}, r"clipvalue must be > 0 or None. Received: 0"),
        (
            {"clipnorm": 1.0, "agc_clip_factor": 0.01},
            r"sets \['clipnorm', 'agc_clip_factor'\]; set at most one gradient clipping",
        ),
        ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
        (
            {"early_stopping_patience": 0},
            r"early_stopping_patience must be an integer >= 1 or None",
        ),
    ],
    ids=[
        "epochs",
        "batch",
        "lr",
        "schedule",
        "warmup",
        "clipnorm",
        "clipvalue",
        "two-clippings",
        "smoothing",
        "patience",
    ],
)
def test_bad_values_are_named(values, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig.from_dict(values)


def test_from_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[train]\nepochs = 7\noptimizer = "adamw"\naugment = { rotation = 0.1 }\n')
    config = TrainConfig.from_toml(path)
    assert (config.epochs, config.optimizer, config.augment) == (7, "adamw", {"rotation": 0.1})
    with pytest.raises(ConfigError, match=r"has no \[fit\] table; it has \['train'\]"):
        TrainConfig.from_toml(path, table="fit")


def test_replace_validates():
    assert TrainConfig().replace(epochs=3).epochs == 3
    with pytest.raises(ConfigError):
        TrainConfig().replace(epochs=-1)
