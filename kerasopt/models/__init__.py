"""Model builders and safe model loading."""

from kerasopt.core.lazy import lazy_attributes
from kerasopt.models.cnn import build_cnn
from kerasopt.models.dense import build_dense_classifier
from kerasopt.models.loading import ModelFileError, load_model_safely, model_input_shape
from kerasopt.models.model_cost import count_macs
from kerasopt.models.residual_cnn import build_residual_cnn

# Imports Keras, so it loads on first use.
_LAZY = {
    "MirrorAverage": "kerasopt.models.mirror_averaging",
    "mirror_average": "kerasopt.models.mirror_averaging",
}
__getattr__, _, _lazy_names = lazy_attributes(__name__, _LAZY)

__all__ = [
    "MirrorAverage",
    "mirror_average",
    "ModelFileError",
    "build_cnn",
    "build_dense_classifier",
    "build_residual_cnn",
    "count_macs",
    "load_model_safely",
    "model_input_shape",
]
