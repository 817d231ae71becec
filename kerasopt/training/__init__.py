"""Composable training: optimizer, schedule, callbacks, augmentation, resume."""

from kerasopt.training.config import LR_SCHEDULES, ConfigError, TrainConfig
from kerasopt.training.train import TrainResult, build_optimizer, train

__all__ = ["LR_SCHEDULES", "ConfigError", "TrainConfig", "TrainResult", "build_optimizer", "train"]
