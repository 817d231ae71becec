"""Composable training: optimizer, schedule, clipping, augmentation, stages, devices, resume."""

from kerasopt.training.batch_norm_recalibration import batch_norm_layers, recalibrate_batch_norm
from kerasopt.training.config import CLIPPING_OPTIONS, LR_SCHEDULES, ConfigError, TrainConfig
from kerasopt.training.distribution import (
    STRATEGIES,
    StrategyError,
    check_strategy,
    make_strategy,
    split_cpu,
)
from kerasopt.training.fused_batch_norm import BATCH_NORM_KERNELS, fused_batch_norm
from kerasopt.training.stages import Stage, StageError, StageResult
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
    "BATCH_NORM_KERNELS",
    "CLIPPING_OPTIONS",
    "LR_SCHEDULES",
    "ConfigError",
    "PreparedTraining",
    "STRATEGIES",
    "Stage",
    "StageError",
    "StageResult",
    "StrategyError",
    "Technique",
    "TrainConfig",
    "TrainResult",
    "batch_norm_layers",
    "build_optimizer",
    "check_strategy",
    "compile_for_training",
    "compare_techniques",
    "format_comparison",
    "fused_batch_norm",
    "make_strategy",
    "recalibrate_batch_norm",
    "split_cpu",
    "standard_techniques",
    "train",
]
