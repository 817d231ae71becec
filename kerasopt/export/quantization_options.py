"""The quantization options `debug_quantization` measures side by side, and how each is made.

An option is a name (`QUANTIZATION_OPTIONS`) and one `.tflite` file measured on LiteRT
with `measure_tflite`, so its accuracy, bytes and latency read like every other kerasopt
number. Two options come from converters kerasopt already has (`float32`, `int8`), one
from the quantization debugger (`int8_keep_float`, in `quantization_debug`), one from the
TFLite converter in 16x8 mode (`int16x8`), and two from AI Edge Quantizer recipes applied
to the float file. AI Edge Quantizer is not a kerasopt dependency: it is imported only
here, on first use, and a missing package skips its options with a one-line reason.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.core.errors import KerasoptError
from kerasopt.core.validation import check_option
from kerasopt.export.deployment_metrics import DeploymentMetrics
from kerasopt.export.tflite_converter import (
    ConversionError,
    configure_full_integer,
    convert_to_tflite,
    savedmodel_converter,
)

#: Every option, in the order reports list them.
QUANTIZATION_OPTIONS = (
    "float32",
    "int8",
    "int8_keep_float",
    "int8_keep_float_ops",
    "int16x8",
    "aeq_int8_weight_only",
    "aeq_int4_blockwise",
)

#: The options of AI Edge Quantizer, applied to the float32 file.
AI_EDGE_QUANTIZER_OPTIONS = ("aeq_int8_weight_only", "aeq_int4_blockwise")

#: The columns of `QuantizationOption.table_row`.
OPTION_TABLE_HEADER = ["option", "accuracy", "drop (pts)", "bytes", "x int8", "latency us", "note"]

AI_EDGE_QUANTIZER_INSTALL = "pip install ai-edge-quantizer==0.10.0"


class OptionUnavailableError(KerasoptError, RuntimeError):
    """An option that cannot be made here (a missing package); the report skips it."""


@dataclasses.dataclass(frozen=True)
class QuantizationOption:
    """One quantization option: its file measured on LiteRT, or why it was skipped.

    Attributes:
        name: One of `QUANTIZATION_OPTIONS`.
        label: What a person reads, e.g. `"int8 + keep-float 3"`.
        metrics: The file measured on the test split, or `None` when skipped.
        float_tensors: For `int8_keep_float`, the tensors left float (worst first).
        float_ops: For `int8_keep_float_ops`, the op types left float (worst first).
        skipped: Why the option was not measured, or `None`.
        content: The `.tflite` bytes, or `None` when skipped; not part of `to_dict()`.
    """

    name: str
    label: str
    metrics: DeploymentMetrics | None = None
    float_tensors: tuple[str, ...] = ()
    float_ops: tuple[str, ...] = ()
    skipped: str | None = None
    content: bytes | None = dataclasses.field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """The JSON form: the metrics inlined, without the file's bytes."""
        return {
            "name": self.name,
            "label": self.label,
            "metrics": None if self.metrics is None else self.metrics.to_dict(),
            "float_tensors": list(self.float_tensors),
            "float_ops": list(self.float_ops),
            "skipped": self.skipped,
        }

    def table_row(self, keras_accuracy: float, int8: DeploymentMetrics | None) -> list[str]:
        """The option as `OPTION_TABLE_HEADER` cells; sizes and latency also as x int8."""
        if self.metrics is None:
            return [self.label, "skipped", "", "", "", "", self.skipped or ""]
        metrics = self.metrics
        times = f" ({metrics.latency_us / int8.latency_us:.2f}x)" if int8 else ""
        return [
            self.label,
            f"{metrics.accuracy:.4f}",
            f"{100 * (keras_accuracy - metrics.accuracy):+.2f}",
            f"{metrics.bytes:,}",
            f"{metrics.bytes / int8.bytes:.2f}x" if int8 else "",
            f"{metrics.latency_us:.0f}{times}",
            _float_note(self.float_tensors, self.float_ops),
        ]


def _float_note(tensors, op_types=()) -> str:
    """`"float: block0_relu1_1, dense_1"` (the layer of each kept-float tensor), or
    `"float ops: BATCH_MATMUL, ADD"` (the op types left float)."""
    if op_types:
        return "float ops: " + ", ".join(op_types)
    if not tensors:
        return ""
    layers = []
    for name in tensors:
        parts = name.split(";")[0].split("/")
        layers.append(parts[-2] if len(parts) > 1 else parts[0])
    return "float: " + ", ".join(layers)


def check_options(options) -> tuple[str, ...]:
    """`options` as a tuple of known option names, in `QUANTIZATION_OPTIONS` order.

    Raises:
        InvalidValueError: An unknown name (the message names it and lists the known).
    """
    if isinstance(options, str):
        options = (options,)
    for option in options:
        check_option("debug_quantization", "options", option, QUANTIZATION_OPTIONS)
    return tuple(name for name in QUANTIZATION_OPTIONS if name in set(options))


def option_label(name: str, keep_float: int = 0, keep_float_ops: int = 0) -> str:
    """The label a person reads for option `name`."""
    labels = {
        "int8": "int8 (full integer)",
        "int8_keep_float": f"int8 + keep-float {keep_float}",
        "int8_keep_float_ops": f"int8 + keep-float {keep_float_ops} op types",
        "int16x8": "int16x8 (int16 activations)",
        "aeq_int8_weight_only": "AEQ int8 weight-only",
        "aeq_int4_blockwise": "AEQ int4 blockwise-32",
    }
    return labels.get(name, name)


def convert_int16x8(model, input_spec, x_train, *, num_calibration: int, seed: int) -> bytes:
    """Full-integer 16x8: int16 activations (and input, output), int8 weights.

    Calibrated on the same seeded samples as `int8`, so the two differ only in the
    activation width.
    """
    import tensorflow as tf

    with savedmodel_converter(model, input_spec) as converter:
        configure_full_integer(converter, x_train, num_calibration, seed)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
        try:
            return converter.convert()
        except Exception as error:
            raise ConversionError(
                f"TFLite conversion of {model.name!r} to int16x8 failed: {error}. Some ops "
                "have no 16x8 kernel; leave this option out (--no-int16x8)."
            ) from error


def ai_edge_quantizer_content(float_content: bytes, name: str) -> bytes:
    """Applies the AI Edge Quantizer recipe of option `name` to a float `.tflite` file.

    `aeq_int8_weight_only`: int8 channelwise weights, dequantized before float compute.
    `aeq_int4_blockwise`: int4 weights in blocks of 32, dynamic range (activations
    quantized at run time); the package offers blockwise granularity for dynamic
    quantization only, and applies it only to ops whose weights split into blocks of 32
    (fully connected layers), so a conv net keeps its conv weights float.

    Raises:
        OptionUnavailableError: `ai_edge_quantizer` is not installed, or its recipe
            failed on this model.
    """
    check_option("ai_edge_quantizer_content", "name", name, AI_EDGE_QUANTIZER_OPTIONS)
    try:
        from ai_edge_quantizer import qtyping, quantizer, recipe
    except ImportError as error:
        raise OptionUnavailableError(
            f"ai_edge_quantizer is not installed ({error}); {AI_EDGE_QUANTIZER_INSTALL}"
        ) from error
    aeq = quantizer.Quantizer(bytearray(float_content))
    if name == "aeq_int8_weight_only":
        aeq.load_quantization_recipe(recipe.weight_only_wi8_afp32())
    else:
        aeq.add_dynamic_config(
            ".*",
            qtyping.TFLOperationName.ALL_SUPPORTED,
            4,
            qtyping.QuantGranularity.BLOCKWISE_32,
        )
    try:
        result = aeq.quantize(enable_progress_report=False)
    except Exception as error:  # an op the recipe cannot handle skips the option, not the report
        raise OptionUnavailableError(
            f"AI Edge Quantizer could not apply the {name} recipe: {error}"
        ) from error
    return bytes(result.quantized_model)


def keep_float_content(debugger, names, keep_float: int) -> tuple[bytes, tuple[str, ...]]:
    """The int8 file of `debugger` with the first `keep_float` of `names` left float.

    `names` are quantized tensors, worst first; returns the file and the names kept.

    A layer counts only if it adds a float op to the file. Some ops must keep their
    input's scale (MAX_POOL_2D) and stay int8 when denylisted, so the next worst is tried
    instead. The count is taken over the debugger's own int8 file, which may already hold
    float ops: its quantizer leaves LayerNormalization's NEG float (TF 2.21), and counting
    those as kept layers once stopped a transformer's file at one kept tensor.
    """
    baseline = set(float_compute_ops(_denylisted_content(debugger)))

    def convert(names):
        content = _denylisted_content(debugger, nodes=names)
        return content, len(set(float_compute_ops(content)) - baseline)

    content, count = convert(names[:keep_float])
    if count == keep_float:
        return content, tuple(names[:keep_float])
    chosen, count = [], 0
    for name in names:
        trial, trial_count = convert([*chosen, name])
        if trial_count > count:
            chosen, content, count = [*chosen, name], trial, trial_count
        if count >= keep_float:
            break
    return content, tuple(chosen)


def keep_float_ops_content(debugger, layers, keep_float_ops: int) -> tuple[bytes, tuple[str, ...]]:
    """The int8 file of `debugger` with every op of the `keep_float_ops` worst op types float.

    `layers` are `LayerQuantizationError`s, worst first; an op type ranks by its worst
    tensor, so a transformer whose attention einsum is worst leaves every BATCH_MATMUL
    float. Returns the file and the op types left float. A type whose denylisting adds no
    float op (MAX_POOL_2D keeps its input's scale) is skipped for the next.

    Why whole types: on a 2-block transformer over digits' rows, the worst tensors alone
    (keep-float 1 to 16) won back at most 1 of the 4 test images int8 lost, the four worst
    op types 3 of them at 1.11x the int8 bytes. On a CNN a type is most of the model
    (all CONV_2D), so the file nears float32's size; the report shows that ratio.
    """
    content, chosen, count = _denylisted_content(debugger), [], 0
    baseline = set(float_compute_ops(content))
    for op_type in dict.fromkeys(layer.op_name for layer in layers):
        trial = _denylisted_content(debugger, ops=[*chosen, op_type])
        trial_count = len(set(float_compute_ops(trial)) - baseline)
        if trial_count > count:
            chosen, content, count = [*chosen, op_type], trial, trial_count
        if len(chosen) >= keep_float_ops:
            break
    return content, tuple(chosen)


def _denylisted_content(debugger, *, ops=(), nodes=()) -> bytes:
    """The debugger's int8 file (int8 input and output) with `ops` types and `nodes` float."""
    import tensorflow as tf

    debugger.options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=list(ops), denylisted_nodes=list(nodes), fully_quantize=True
    )
    return debugger.get_nondebug_quantized_model()


def option_content(
    name: str, model, input_spec, x_train, float_content: bytes, *, num_calibration, seed
) -> bytes:
    """The `.tflite` bytes of option `name` (not the keep-float ones, which the debugger makes).

    Raises:
        OptionUnavailableError: An AI Edge Quantizer option without the package.
    """
    if name == "float32":
        return float_content
    if name == "int8":
        return convert_to_tflite(
            model, "int8", representative_data=x_train, num_calibration=num_calibration, seed=seed
        )
    if name == "int16x8":
        return convert_int16x8(
            model, input_spec, x_train, num_calibration=num_calibration, seed=seed
        )
    check_option("option_content", "name", name, AI_EDGE_QUANTIZER_OPTIONS)
    return ai_edge_quantizer_content(float_content, name)


def float_compute_ops(model_content: bytes) -> list[str]:
    """The ops of a `.tflite` file that compute in float, as `"OP_NAME tensor"` strings.

    An op counts when one of its outputs is a float tensor, except `QUANTIZE` and
    `DEQUANTIZE`, which only move values between float and integer at the edges of a
    float region (a kept-float layer, or the float input of a quantized model).

    Example:

    >>> float_compute_ops(open("int8_keep_float.tflite", "rb").read())  # doctest: +SKIP
    ['CONV_2D cnn/block0_relu1/Relu;cnn/block0_conv1/convolution']
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_content)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found = []
    for op in interpreter._get_ops_details():
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        for index in op["outputs"]:
            tensor = tensors.get(int(index))
            if tensor is not None and np.dtype(tensor["dtype"]) == np.float32:
                found.append(f"{op['op_name']} {tensor['name']}")
                break
    return found
