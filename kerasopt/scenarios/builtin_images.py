"""`Scenario`: a dataset, a model recipe and a training recipe under one name."""

from __future__ import annotations

import dataclasses

from kerasopt.core.errors import InvalidValueError
from kerasopt.training.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class Scenario:
    """What `kerasopt run NAME` trains.

    Args:
        name: Scenario name on the command line.
        dataset: Name passed to `load_dataset`.
        model: Keyword arguments of `build_cnn`.
        train: The training recipe.
        quick: Overrides of `train` for `--quick` (a smoke run).
        notes: One line on where the recipe comes from.
    """

    name: str
    dataset: str
    model: dict
    train: TrainConfig
    quick: dict
    notes: str = ""

    def train_config(self, quick: bool = False, **overrides) -> TrainConfig:
        changes = {
            **(self.quick if quick else {}),
            **{k: v for k, v in overrides.items() if v is not None},
        }
        return self.train.replace(**changes) if changes else self.train


_GEOMETRIC = {"rotation": 0.05, "translation": 0.1, "zoom": 0.1}

SCENARIOS: dict[str, Scenario] = {
    "digits": Scenario(
        name="digits",
        dataset="digits",
        model={
            "input_max": 16.0,
            "filters": (32, 64),
            "dense_units": 128,
            "dropout": 0.3,
            "bn_momentum": 0.9,
        },
        # No early stopping: the cosine schedule anneals to zero, so the last epochs are the
        # best, and 144 validation samples are too few to pick an epoch reliably.
        train=TrainConfig(
            epochs=40,
            batch_size=32,
            learning_rate=3e-3,
            augment=_GEOMETRIC,
            early_stopping_patience=None,
        ),
        quick={"epochs": 4},
        notes="8x8 inputs kept at their size; affine augmentation, BN, L2 1e-4, warmup+cosine",
    ),
    "mnist": Scenario(
        name="mnist",
        dataset="mnist",
        model={"input_max": 255.0, "filters": (32, 64), "dense_units": 128, "dropout": 0.4},
        train=TrainConfig(epochs=15, batch_size=128, learning_rate=3e-3, augment=_GEOMETRIC),
        quick={"epochs": 1, "early_stopping_patience": None},
        notes="recipe for >= 99.3 %: 2x2 conv blocks with BN, affine augmentation, 15 epochs",
    ),
    "fashion_mnist": Scenario(
        name="fashion_mnist",
        dataset="fashion_mnist",
        model={"input_max": 255.0, "filters": (32, 64), "dense_units": 128, "dropout": 0.4},
        train=TrainConfig(
            epochs=20,
            batch_size=128,
            learning_rate=3e-3,
            augment={"rotation": 0.0, "translation": 0.05, "zoom": 0.05},
        ),
        quick={"epochs": 1, "early_stopping_patience": None},
        notes="as mnist, milder augmentation (garments are not rotated)",
    ),
    "cifar10": Scenario(
        name="cifar10",
        dataset="cifar10",
        model={"input_max": 255.0, "filters": (32, 64, 128), "dense_units": 256, "dropout": 0.4},
        train=TrainConfig(
            epochs=30,
            batch_size=128,
            learning_rate=2e-3,
            augment={"rotation": 0.02, "translation": 0.1, "zoom": 0.1},
        ),
        quick={"epochs": 1, "early_stopping_patience": None},
        notes="three conv blocks; a baseline, not a state-of-the-art recipe",
    ),
}


def get_scenario(name: str) -> Scenario:
    """Looks a scenario up by name, with the valid names in the error."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InvalidValueError(
            f"Unknown scenario {name!r}. Expected one of {sorted(SCENARIOS)}."
        ) from None
