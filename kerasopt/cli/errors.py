"""The errors the CLI reports as one line (exit code 2) rather than a traceback."""

from kerasopt.data.loaders import DatasetUnavailableError
from kerasopt.data.validation import InvalidDataError
from kerasopt.export.full_integer_check import NotFullIntegerError
from kerasopt.export.tflite_converter import ConversionError
from kerasopt.models.loading import ModelFileError
from kerasopt.training.config import ConfigError  # SpecError is one

USER_ERRORS = (
    ConfigError,
    ConversionError,
    DatasetUnavailableError,
    FileNotFoundError,
    InvalidDataError,
    ModelFileError,
    NotFullIntegerError,
    ValueError,
)
