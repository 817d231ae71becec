"""TFLite export and verification on the LiteRT interpreter."""

from kerasopt.export.full_integer_check import (
    NotFullIntegerError,
    check_full_integer,
    find_float_parts,
)
from kerasopt.export.litert_evaluator import LiteRTEvaluator, tflite_sizes
from kerasopt.export.tflite_converter import TFLITE_VARIANTS, ConversionError, convert_to_tflite
from kerasopt.export.verify import verify_tflite

__all__ = [
    "TFLITE_VARIANTS",
    "ConversionError",
    "LiteRTEvaluator",
    "NotFullIntegerError",
    "check_full_integer",
    "convert_to_tflite",
    "find_float_parts",
    "tflite_sizes",
    "verify_tflite",
]
