"""TFLite export and verification on the LiteRT interpreter."""

from kerasopt.export.deployment_metrics import DeploymentMetrics, measure_tflite
from kerasopt.export.exported_model import ExportedModel
from kerasopt.export.full_integer_check import (
    NotFullIntegerError,
    check_full_integer,
    find_float_parts,
)
from kerasopt.export.int8_measurement import Int8Measurement, measure_int8
from kerasopt.export.litert_evaluator import LiteRTEvaluator, tflite_sizes
from kerasopt.export.tflite_converter import TFLITE_VARIANTS, ConversionError, convert_to_tflite
from kerasopt.export.tflite_export_plan import TFLiteExportPlan

__all__ = [
    "TFLITE_VARIANTS",
    "ConversionError",
    "DeploymentMetrics",
    "ExportedModel",
    "Int8Measurement",
    "LiteRTEvaluator",
    "NotFullIntegerError",
    "TFLiteExportPlan",
    "check_full_integer",
    "convert_to_tflite",
    "find_float_parts",
    "measure_int8",
    "measure_tflite",
    "tflite_sizes",
]
