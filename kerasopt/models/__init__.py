"""Model builders and safe model loading."""

from kerasopt.models.cnn import build_cnn
from kerasopt.models.dense import build_dense_classifier
from kerasopt.models.loading import ModelFileError, load_model_safely, model_input_shape

__all__ = [
    "ModelFileError",
    "build_cnn",
    "build_dense_classifier",
    "load_model_safely",
    "model_input_shape",
]
