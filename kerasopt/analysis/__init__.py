"""Error analysis and plots."""

from kerasopt.analysis.confusion import confusion_matrix, most_confused_pairs
from kerasopt.analysis.plots import plot_confusion_matrix, plot_training_curves

__all__ = [
    "confusion_matrix",
    "most_confused_pairs",
    "plot_confusion_matrix",
    "plot_training_curves",
]
