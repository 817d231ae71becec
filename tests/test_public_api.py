"""The names the issues promise users and notebooks, reachable from the top package."""

import subprocess
import sys

import pytest

import kerasopt

PROMISED = [
    "optimizers.Lookahead",
    "optimizers.RAdam",
    "optimizers.AdaBound",
    "optimizers.SWA",
    "optimizers.AdaptiveGradientClipping",
    "schedules.StepDecay",
    "schedules.InverseSqrtDecay",
    "schedules.OneCycle",
    "schedules.CyclicalLR",
    "schedules.WarmupCosine",
    "callbacks.TrainingHealth",
    "callbacks.GradientNormLogger",
    "find_lr",
    "augment.AugmentationPolicy",
    "augment.preview",
    "regularizers.apply_regularization",
    "adversarial.AdversarialModel",
    "analysis.error_analysis",
    "tabular.build_preprocessor",
    "training.compare_techniques",
    "tuning.run_search",
    "tuning.load_search_spec",
    "tuning.MedianStoppingRule",
    "tuning.sklearn_grid_search",
    "tuning.grid_to_model_kwargs",
    "text.TextTokenizer",
    "text.build_vectorizer",
    "text.build_text_model",
    "text.export_text_model",
    "text.load_imdb",
    "text.load_aclimdb",
    "text.TextAugmentation",
    "run_scenario",
    "measure_tflite",
    "pipeline.run_scenario",
    "pipeline.RunReport",
    "scenarios.Scenario",
    "scenarios.ScenarioData",
    "scenarios.register_scenario",
    "scenarios.get_scenario",
    "scenarios.ReportSection",
    "export.measure_tflite",
    "export.DeploymentMetrics",
    "export.ExportedModel",
    "export.TFLiteExportPlan",
    "compress.compress_model",
    "compress.analyze_sensitivity",
    "compress.allocate_sparsity",
    "compress.recalibrate_batch_norm",
    "compress.distill",
    "compress.width_student",
    "compress.pruned_student",
    "compress.member_student",
]


@pytest.mark.parametrize("dotted", PROMISED, ids=PROMISED)
def test_promised_name_is_public(dotted):
    obj = kerasopt
    for part in dotted.split("."):
        obj = getattr(obj, part)
    module = sys.modules[obj.__module__] if hasattr(obj, "__module__") else None
    assert module is not None and module.__name__.startswith("kerasopt.")
    package = dotted.rsplit(".", 1)[0] if "." in dotted else None
    if package:
        assert dotted.rsplit(".", 1)[1] in getattr(kerasopt, package).__all__


def test_verify_tflite_is_gone():
    assert not hasattr(kerasopt, "verify_tflite") and "verify_tflite" not in kerasopt.__all__


def test_import_kerasopt_loads_no_tensorflow():
    code = (
        "import sys, kerasopt; from kerasopt.scenarios import scenario_names; "
        "scenario_names(); print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"
