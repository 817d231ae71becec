"""Error analysis and plots: confusion, per-class metrics, calibration, hardest examples.

Every function takes labels and probabilities, never a model, so a Keras model
(`model.predict(x)`) and a TFLite file on LiteRT (`LiteRTEvaluator(path).predict(x)`) are
analysed by the same code. Plots are bare matplotlib `Figure`s written atomically as PNGs.
"""

from kerasopt.analysis.calibration import calibration, plot_reliability_diagram
from kerasopt.analysis.confusion import confusion_matrix, most_confused_pairs
from kerasopt.analysis.error_analysis import error_analysis
from kerasopt.analysis.hardest_examples import hardest_examples, plot_hardest_examples
from kerasopt.analysis.per_class_metrics import per_class_metrics
from kerasopt.analysis.plots import (
    plot_confusion_matrix,
    plot_pareto_front,
    plot_technique_comparison,
    plot_training_curves,
)

__all__ = [
    "calibration",
    "confusion_matrix",
    "error_analysis",
    "hardest_examples",
    "most_confused_pairs",
    "per_class_metrics",
    "plot_confusion_matrix",
    "plot_hardest_examples",
    "plot_reliability_diagram",
    "plot_pareto_front",
    "plot_technique_comparison",
    "plot_training_curves",
]
