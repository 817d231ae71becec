"""Ensembles of Keras classifiers: bagging, AdaBoost (SAMME) and snapshot ensembles.

Members are trained by `train_members`, combined into ONE Keras model (one input, one
output) by `combine_members`, and measured beside their full-integer int8 files on LiteRT
by `ensemble`, which returns an `EnsembleReport`. Transfer learning: `transfer` cuts a
trained backbone (`cut_backbone`), starts a new head from a logistic regression on its
frozen features (`fit_linear_head`), trains the head, fine-tunes the backbone's top
and measures it against scratch (`TransferReport`); `transfer_bench` repeats that at
several counts of labels. Names load on first use, so importing this package does not
import TensorFlow.

Example:

```python
from kerasopt.data import load_dataset
from kerasopt.strategies import ensemble

data = load_dataset("digits")
report = ensemble(data, method="bagging", members=5, epochs=10, out_dir="ensemble")
print(report.table())
```
"""

from kerasopt.core.lazy import lazy_attributes

_LAZY = {
    "ENSEMBLE_METHODS": "ensemble_members",
    "TrainedMembers": "ensemble_members",
    "check_members": "ensemble_members",
    "samme_alpha": "ensemble_members",
    "train_members": "ensemble_members",
    "COMBINERS": "ensemble_model",
    "WeightedAverage": "ensemble_model",
    "WeightedVote": "ensemble_model",
    "combine_members": "ensemble_model",
    "EnsembleReport": "ensemble_report",
    "MemberRow": "ensemble_report",
    "ensemble": "ensemble_run",
    "ProximalModel": "federated_client",
    "MIN_CLIENT_SAMPLES": "federated_partition",
    "PartitionScheme": "federated_partition",
    "class_histograms": "federated_partition",
    "label_skew": "federated_partition",
    "parse_partition": "federated_partition",
    "partition": "federated_partition",
    "FederatedReport": "federated_report",
    "RoundRow": "federated_report",
    "check_federated": "federated_run",
    "federated": "federated_run",
    "FEDERATED_STRATEGIES": "federated_simulation",
    "require_flower": "federated_simulation",
    "simulate": "federated_simulation",
    "CLASS_AUGMENTATIONS": "fewshot_episodes",
    "Episode": "fewshot_episodes",
    "EpisodeSampler": "fewshot_episodes",
    "augment_classes": "fewshot_episodes",
    "split_classes": "fewshot_episodes",
    "FEWSHOT_BASELINES": "fewshot_evaluation",
    "MethodScore": "fewshot_evaluation",
    "confidence_interval": "fewshot_evaluation",
    "evaluate_initializations": "fewshot_evaluation",
    "with_new_head": "fewshot_evaluation",
    "FewShotReport": "fewshot_report",
    "PhoneRow": "fewshot_report",
    "MetaTraining": "fewshot_reptile",
    "TaskAdapter": "fewshot_reptile",
    "meta_step_size": "fewshot_reptile",
    "reptile_meta_train": "fewshot_reptile",
    "reptile_update": "fewshot_reptile",
    "FEWSHOT_METHODS": "fewshot_task",
    "check_fewshot": "fewshot_task",
    "fewshot": "fewshot_run",
    "fewshot_builder": "fewshot_task",
    "backbone_view": "transfer_model",
    "build_transfer_model": "transfer_model",
    "check_cut": "transfer_model",
    "cut_backbone": "transfer_model",
    "cut_candidates": "transfer_model",
    "fit_linear_head": "linear_probe",
    "freeze_backbone": "transfer_model",
    "tunable_layers": "transfer_model",
    "unfreeze_top": "transfer_model",
    "TARGET_GAIN_POINTS": "transfer_bench_run",
    "TransferBenchReport": "transfer_bench_run",
    "transfer_bench": "transfer_bench_run",
    "TransferReport": "transfer_report",
    "TransferRow": "transfer_report",
    "select_target": "transfer_run",
    "transfer": "transfer_run",
}

__getattr__, __dir__, __all__ = lazy_attributes(
    __name__, {name: f"kerasopt.strategies.{module}" for name, module in _LAZY.items()}
)
