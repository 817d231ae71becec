"""Composable training: optimizer, schedule, clipping, augmentation, resume, comparison."""

from kerasopt.training.config import CLIPPING_OPTIONS, LR_SCHEDULES, ConfigError, TrainConfig
from kerasopt.training.technique_catalog import standard_techniques
from kerasopt.training.technique_comparison import (
    Technique,
    compare_techniques,
    format_comparison,
)
from kerasopt.training.train import (
    PreparedTraining,
    TrainResult,
    build_optimizer,
    compile_for_training,
    train,
)

__all__ = [
    "CLIPPING_OPTIONS",
    "LR_SCHEDULES",
    "ConfigError",
    "PreparedTraining",
    "Technique",
    "TrainConfig",
    "TrainResult",
    "build_optimizer",
    "compile_for_training",
    "compare_techniques",
    "format_comparison",
    "standard_techniques",
    "train",
]
