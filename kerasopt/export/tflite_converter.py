"""`convert_to_tflite`: Keras 3 model -> TFLite bytes (float32, dynamic, float16, int8)."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterator

import numpy as np

from kerasopt.core.errors import InvalidValueError, KerasoptError
from kerasopt.export.flex_ops_check import FlexOpsError, check_no_flex_ops
from kerasopt.export.serving_signature import add_serving_signature

TFLITE_VARIANTS = ("float32", "dynamic", "float16", "int8")


class ConversionError(KerasoptError, RuntimeError):
    """Raised when the TFLite converter rejects a model."""


def convert_to_tflite(
    model,
    variant: str = "float32",
    *,
    representative_data: np.ndarray | None = None,
    num_calibration: int = 200,
    seed: int = 0,
    strip_names: bool = False,
) -> bytes:
    """Converts a Keras 3 model to a TFLite flatbuffer.

    The converter reads a frozen copy of the model's inference function
    (`training=False`, every variable a constant: `frozen_graph_converter`), with the
    `serving_default` signature added (`add_serving_signature`). That takes 0.3 s
    for a small CNN where the SavedModel route (`savedmodel_converter`) takes 1.4 s, for
    the same ops and bit-identical outputs on LiteRT; a model holding other resources
    (a lookup table) still goes through a SavedModel. For a model with a `Resizing`
    layer, the default endpoint of `model.export` converted to TFLite with
    resource-variable ops (`CALL_ONCE`, `VAR_HANDLE`, `READ_VARIABLE`) left in the graph
    (measured on Keras 3.15 / TF 2.21); the full-integer check rejects such a file, and
    one we measured lost accuracy at batch size 1. Neither route here leaves them.

    Variants:
        - `"float32"`: no optimization.
        - `"dynamic"`: int8 weights, float activations (dynamic-range quantization).
        - `"float16"`: float16 weights.
        - `"int8"`: full-integer, int8 input and output, activation ranges calibrated on
          `representative_data` (samples from the training set, raw as stored).

    Args:
        model: A Keras 3 model with one input.
        variant: One of `"float32"`, `"dynamic"`, `"float16"`, `"int8"`. Defaults to
            `"float32"`.
        representative_data: Raw training samples for int8 calibration; required for
            `"int8"`. Defaults to `None`.
        num_calibration: Samples drawn (seeded) from `representative_data`. Defaults to
            `200`.
        seed: Seed of that draw. Defaults to `0`.
        strip_names: Drop the debug names of intermediate tensors
            (`strip_tensor_names`): about 15 % of a 25 KB int8 file. Keep them while
            debugging: the full-integer check and the quantization debugger name
            layers by them. Defaults to `False`.

    Raises:
        ConversionError: The converter rejected the model.
        FlexOpsError: The file would need the Flex delegate (TensorFlow ops).

    Example:

    >>> from kerasopt.export import convert_to_tflite
    >>> content = convert_to_tflite(model, "int8", representative_data=x_train)  # doctest: +SKIP
    """
    import tensorflow as tf

    if variant not in TFLITE_VARIANTS:
        raise InvalidValueError(
            f"Unknown TFLite variant {variant!r}. Expected one of {list(TFLITE_VARIANTS)}."
        )
    if variant == "int8" and (representative_data is None or len(representative_data) == 0):
        raise InvalidValueError(
            "The int8 variant needs representative_data: pass raw training samples "
            "(a few hundred) so the converter can calibrate activation ranges."
        )
    if len(model.inputs) != 1:
        raise InvalidValueError(
            f"convert_to_tflite supports models with one input; {model.name!r} has "
            f"{len(model.inputs)}."
        )
    spec = pixels_spec(model)

    with model_converter(model, spec) as converter:
        if variant != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if variant == "int8":
            configure_full_integer(converter, representative_data, num_calibration, seed)
        try:
            content = converter.convert()
        except FlexOpsError:
            raise
        except Exception as error:
            raise ConversionError(
                f"TFLite conversion of {model.name!r} to {variant} failed: {error}. If an "
                "op is not supported in int8, try the 'dynamic' variant, or replace the "
                "layer that uses it."
            ) from error
    if strip_names:
        from kerasopt.export.tensor_names import strip_tensor_names

        content = strip_tensor_names(content)
    return content


def pixels_spec(model):
    """The `TensorSpec` an image model is converted for: any batch, float32, `"pixels"`.

    Its name is the signature's input key, so every route names the input alike.
    """
    import tensorflow as tf

    return tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name="pixels")


@contextlib.contextmanager
def savedmodel_converter(model, input_spec) -> Iterator[object]:
    """A `TFLiteConverter` for `model` with one inference endpoint taking `input_spec`.

    The model goes through a temporary SavedModel written by `keras.export.ExportArchive`
    with `training=False` (see `convert_to_tflite` for why not `model.export`). The
    converter is valid inside the `with` block only. int16x8, the quantization debugger
    and `model_converter`, for a model `frozen_graph_converter` declines, convert here.
    Its `convert()`, like the frozen one's, refuses a file with Flex (`SELECT_TF_OPS`)
    ops, which MediaPipe and plain LiteRT cannot run.

    Example:

    >>> import tensorflow as tf
    >>> spec = tf.TensorSpec((None, 8, 8), tf.float32)
    >>> with savedmodel_converter(model, spec) as converter:  # doctest: +SKIP
    ...     content = converter.convert()
    """
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="kerasopt-savedmodel-") as saved_model_dir:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serve", lambda x: model(x, training=False), input_signature=[input_spec]
        )
        archive.write_out(saved_model_dir, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
        converter.convert = _refusing_flex_ops(converter.convert, model.name)
        yield converter


def model_converter(model, input_spec) -> contextlib.AbstractContextManager:
    """The converter `convert_to_tflite` uses: the frozen graph's, else a SavedModel's.

    `frozen_graph_converter` when it takes the model, `savedmodel_converter` when it
    declines (a lookup table, several outputs). Either `convert()` returns a file with
    the `serving_default` signature and refuses Flex ops.

    Example:

    >>> import tensorflow as tf
    >>> spec = tf.TensorSpec((None, 64), tf.int32, name="token_ids")
    >>> with model_converter(model, spec) as converter:  # doctest: +SKIP
    ...     content = converter.convert()
    """
    frozen = frozen_graph_converter(model, input_spec)
    if frozen is None:
        return savedmodel_converter(model, input_spec)
    return contextlib.nullcontext(frozen)


def frozen_graph_converter(model, input_spec):
    """A `TFLiteConverter` for `model`'s frozen inference function, or `None`.

    The function `model(x, training=False)` is traced for `input_spec` and the
    converter freezes its variables into constants, with no SavedModel written or read.
    `None` when the function captures a resource that is not a variable (a lookup
    table's), which freezing cannot hold, or when the model has several outputs, whose
    signature names the SavedModel route derives from the outputs' structure:
    `savedmodel_converter` takes both. This converter writes no signature;
    its `convert()` adds the one the SavedModel route writes (`add_serving_signature`).

    Example:

    >>> import tensorflow as tf
    >>> spec = tf.TensorSpec((None, 8, 8), tf.float32, name="pixels")
    >>> content = frozen_graph_converter(model, spec).convert()  # doctest: +SKIP
    """
    import tensorflow as tf

    if len(model.outputs) != 1:
        return None
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(input_spec)
    resources = [t for t in concrete.captured_inputs if t.dtype == tf.resource]
    if len(resources) > len(concrete.variables):
        return None
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    # Straight to the frozen graph: with a trackable object, convert() would first
    # write the function out as a SavedModel, the slow route this one avoids.
    converter.experimental_lower_to_saved_model = False
    convert = _refusing_flex_ops(converter.convert, model.name)

    def quiet_convert() -> bytes:
        with warnings.catch_warnings():
            # This route asks for the legacy mean/std statistics of an int8 input;
            # calibration sets its scale and zero point instead, to the values the
            # SavedModel route writes (tests compare them).
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
            return add_serving_signature(convert(), input_spec.name)

    converter.convert = quiet_convert
    return converter


def _refusing_flex_ops(convert, name: str):
    # Cannot fire while supported_ops never holds SELECT_TF_OPS (a TensorFlow-only op
    # fails in the converter instead); it keeps a Flex file from a phone if that changes.
    def checked_convert() -> bytes:
        content = convert()
        check_no_flex_ops(content, name=name)
        return content

    return checked_convert


def configure_full_integer(converter, representative_data, num_calibration=200, seed=0) -> None:
    """Sets a `TFLiteConverter` to full-integer int8 with int8 input and output.

    Calibrates on `num_calibration` seeded samples of `representative_data`, so
    post-training int8 and the QAT export see the same samples.
    """
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    calibration = _calibration_samples(representative_data, num_calibration, seed)

    def representative_dataset():
        for sample in calibration:
            yield [sample[None, ...]]

    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8


def _calibration_samples(data: np.ndarray, count: int, seed: int) -> np.ndarray:
    data = np.asarray(data)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(data), size=min(count, len(data)), replace=False)
    return data[np.sort(picks)].astype("float32")
