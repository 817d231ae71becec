"""Compression for Keras 3 models: pruning (native or TF-MOT), 2:4, channels, int8 export.

TF-MOT only accepts Keras 2 (`tf_keras`) models; `kerasopt.compress.bridge` rebuilds a
Keras 3 model in `tf_keras` and copies the result back. TF-MOT is imported lazily in
`kerasopt.compress._tfmot` only, with the process's `TF_USE_LEGACY_KERAS` and `tf.keras`
left as they were. The `native` backend is pure Keras 3.

Example:

```python
from kerasopt.compress import compress_model
from kerasopt.data import load_dataset
from kerasopt.models import load_model_safely

data = load_dataset("digits")
model = load_model_safely("saved_models/digits/model.keras")
report = compress_model(model, data, prune=0.8, channels=0.5, max_drop=1.0, out_dir="compressed")
print(report.table())
report.to_dict()  # what report.json holds
```
"""

from kerasopt.compress.accuracy_budget import BudgetStop, BudgetVerdict, StageFineTuning
from kerasopt.compress.bridge import BridgeError, from_tf_keras, to_tf_keras
from kerasopt.compress.channel_allocation import allocate_channels
from kerasopt.compress.channel_pruning import (
    ChannelPruningPlanner,
    ChannelPruningResult,
    PrunedLayer,
    prune_channels,
)
from kerasopt.compress.compress_model import compress_model
from kerasopt.compress.compression_report import (
    CompressionReport,
    CompressionStage,
    format_stages,
)
from kerasopt.compress.distill_student import distill
from kerasopt.compress.distillation import LogProbabilities, build_distiller, logits_view
from kerasopt.compress.distillation_report import DistillationReport, MeasuredModel
from kerasopt.compress.fine_tuning import fine_tune
from kerasopt.compress.member_student import MemberStudent, member_student
from kerasopt.compress.native_magnitude_pruning import MagnitudePruning
from kerasopt.compress.native_pruning import prepare_for_pruning, prune_native, strip_pruning
from kerasopt.compress.pruning_sensitivity import (
    LayerSensitivity,
    SensitivityReport,
    analyze_sensitivity,
)
from kerasopt.compress.quantize_aware import QATResult, quantize_aware
from kerasopt.compress.rate_trials import best_of_rates
from kerasopt.compress.sparsity_allocation import allocate_sparsity
from kerasopt.compress.sparsity_mask import PruningMask
from kerasopt.compress.sparsity_schedules import ConstantSparsity, PolynomialSparsity
from kerasopt.compress.sparsity_table import format_sparsity_table, sparsity_table
from kerasopt.compress.tfmot_clustering import cluster_with_tfmot
from kerasopt.compress.tfmot_pruning import dense_layers_left, prune_with_tfmot
from kerasopt.compress.width_student import pruned_student, width_student
from kerasopt.training.batch_norm_recalibration import recalibrate_batch_norm

__all__ = [
    "BridgeError",
    "BudgetStop",
    "BudgetVerdict",
    "ChannelPruningPlanner",
    "ChannelPruningResult",
    "CompressionReport",
    "CompressionStage",
    "ConstantSparsity",
    "DistillationReport",
    "LayerSensitivity",
    "LogProbabilities",
    "MagnitudePruning",
    "MeasuredModel",
    "MemberStudent",
    "PolynomialSparsity",
    "PrunedLayer",
    "PruningMask",
    "QATResult",
    "SensitivityReport",
    "StageFineTuning",
    "allocate_channels",
    "allocate_sparsity",
    "analyze_sensitivity",
    "best_of_rates",
    "build_distiller",
    "cluster_with_tfmot",
    "compress_model",
    "dense_layers_left",
    "distill",
    "fine_tune",
    "format_sparsity_table",
    "format_stages",
    "from_tf_keras",
    "logits_view",
    "member_student",
    "prepare_for_pruning",
    "prune_channels",
    "prune_native",
    "prune_with_tfmot",
    "pruned_student",
    "quantize_aware",
    "recalibrate_batch_norm",
    "sparsity_table",
    "strip_pruning",
    "to_tf_keras",
    "width_student",
]
