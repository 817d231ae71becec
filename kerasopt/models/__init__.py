"""Model builders and safe model loading."""

from kerasopt.models.cnn import build_cnn
from kerasopt.models.dense import build_dense_classifier
from kerasopt.models.loading import ModelFileError, load_model_safely, model_input_shape
from kerasopt.models.model_cost import count_macs
from kerasopt.models.residual_cnn import build_residual_cnn

__all__ = [
    "ModelFileError",
    "build_cnn",
    "build_dense_classifier",
    "build_residual_cnn",
    "count_macs",
    "load_model_safely",
    "model_input_shape",
]
