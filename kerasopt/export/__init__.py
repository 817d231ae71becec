"""TFLite export and verification on the LiteRT interpreter."""

from kerasopt.export.bundle_check import BundleCheck, bundle_image_classifier, check_bundle
from kerasopt.export.deployment_metrics import DeploymentMetrics, measure_tflite
from kerasopt.export.exported_model import ExportedModel
from kerasopt.export.flex_ops_check import FlexOpsError, check_no_flex_ops, find_flex_ops
from kerasopt.export.full_integer_check import (
    NotFullIntegerError,
    check_full_integer,
    find_float_parts,
)
from kerasopt.export.image_bundle import ImageBundle, build_image_bundle
from kerasopt.export.int8_measurement import Int8Measurement, measure_int8
from kerasopt.export.litert_evaluator import LiteRTEvaluator, tflite_sizes
from kerasopt.export.mediapipe_client import (
    ClientResult,
    classify_images,
    classify_texts,
    mediapipe_available,
)
from kerasopt.export.model_files import write_model_files
from kerasopt.export.quantization_debug import (
    LayerQuantizationError,
    QuantizationDebugReport,
    debug_quantization,
    plot_quantization_debug,
)
from kerasopt.export.quantization_options import QUANTIZATION_OPTIONS, QuantizationOption
from kerasopt.export.tensor_names import strip_tensor_names
from kerasopt.export.tflite_converter import TFLITE_VARIANTS, ConversionError, convert_to_tflite
from kerasopt.export.tflite_export_plan import TFLiteExportPlan
from kerasopt.export.tflite_inspection import OpUse, TensorSpec, TFLiteInspection, inspect_tflite
from kerasopt.export.tflite_metadata import (
    AssociatedFile,
    ModelDescription,
    TensorDescription,
    attach_metadata,
    read_associated_file,
    read_model_metadata,
)
from kerasopt.export.thread_latency import measure_latency_by_threads

__all__ = [
    "QUANTIZATION_OPTIONS",
    "TFLITE_VARIANTS",
    "AssociatedFile",
    "BundleCheck",
    "ClientResult",
    "ConversionError",
    "DeploymentMetrics",
    "ExportedModel",
    "FlexOpsError",
    "ImageBundle",
    "Int8Measurement",
    "LayerQuantizationError",
    "LiteRTEvaluator",
    "ModelDescription",
    "NotFullIntegerError",
    "OpUse",
    "QuantizationDebugReport",
    "QuantizationOption",
    "TensorDescription",
    "TensorSpec",
    "TFLiteExportPlan",
    "TFLiteInspection",
    "attach_metadata",
    "build_image_bundle",
    "bundle_image_classifier",
    "check_bundle",
    "check_full_integer",
    "check_no_flex_ops",
    "classify_images",
    "classify_texts",
    "convert_to_tflite",
    "debug_quantization",
    "find_flex_ops",
    "find_float_parts",
    "inspect_tflite",
    "measure_int8",
    "measure_latency_by_threads",
    "measure_tflite",
    "mediapipe_available",
    "plot_quantization_debug",
    "read_associated_file",
    "read_model_metadata",
    "strip_tensor_names",
    "tflite_sizes",
    "write_model_files",
]
