"""`export_text_model`: a token-id text model -> full-integer TFLite, else dynamic-range.

`TextExportPlan` is the export plan of a text scenario: that file, measured on LiteRT,
plus the tokenizer files.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.exported_model import ExportedModel, write_and_measure
from kerasopt.export.flex_ops_check import FlexOpsError
from kerasopt.export.full_integer_check import find_float_parts
from kerasopt.export.litert_evaluator import LiteRTEvaluator
from kerasopt.export.tflite_converter import ConversionError, model_converter

TEXT_EXPORT_MODES = ("int8", "dynamic")

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)
_VARIABLE_OPS = {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"}
_EDGE_OPS = {"QUANTIZE", "DEQUANTIZE"}


@dataclass(frozen=True)
class TextExport:
    """A TFLite text model and why it got its mode.

    Args:
        content: The `.tflite` flatbuffer. It takes int32 token ids `[batch,
            sequence_length]`; an int8 model returns int8 probabilities (use `predict`).
        mode: `"int8"` (int8 weights and activations, int32 ids in) or `"dynamic"`
            (int8 weights, float activations).
        reason: Why full-integer int8 was not used; `None` for `"int8"`.
        blocking_layers: Names of the Keras layers that prevented full int8.

    Example:

    >>> export = export_text_model(model, x_train_ids)  # doctest: +SKIP
    >>> export.mode, export.blocking_layers  # doctest: +SKIP
    ('dynamic', ['bilstm'])
    """

    content: bytes
    mode: str
    reason: str | None = None
    blocking_layers: list[str] = field(default_factory=list)

    def predict(self, token_ids: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Float class probabilities from the LiteRT interpreter, as a phone computes them."""
        return LiteRTEvaluator(self.content).predict(np.asarray(token_ids), batch_size)


def export_text_model(
    model, representative_ids: np.ndarray, *, seed: int = 0, num_calibration: int = 200
) -> TextExport:
    """Exports a token-id text model as full-integer int8 TFLite, or dynamic-range.

    Full integer is tried first (int8 weights and activations, calibrated on
    `num_calibration` seeded rows of `representative_ids`; the int32 id input stays
    int32 and the output is int8, as `convert_to_tflite` gives it) and proved with
    `find_float_parts`. When conversion fails or float ops remain, the model is exported
    dynamic-range and `reason` names the Keras layers at fault, read from the float
    TFLite ops' tensor names. Recurrent layers skip the int8 attempt: they run as a TFLite
    `WHILE` loop with no int8 kernel, and TF 2.21's int8 calibrator crashes the process
    (segfault) on one. Recurrent models, and any model that only converts at a fixed
    batch (tensor lists need a static shape), are exported with batch size 1.

    Args:
        model: A Keras model with one integer input `(sequence_length,)`.
        representative_ids: Token-id rows from the training set, `[n, sequence_length]`.
        seed: Seed of the calibration draw. Defaults to `0`.
        num_calibration: Rows used to calibrate int8 ranges. Defaults to `200`.

    Example:

    >>> from kerasopt.text.text_export import export_text_model
    >>> export = export_text_model(model, x_train_ids)  # doctest: +SKIP
    >>> open("imdb_bow.tflite", "wb").write(export.content)  # doctest: +SKIP
    """
    import keras

    ids = _check_inputs(model, representative_ids)
    recurrent = _recurrent_layers(model, keras)
    if recurrent:
        described = ", ".join(f"{name!r} ({kind})" for name, kind in recurrent)
        reason = (
            f"Recurrent layer(s) {described} run as a TFLite WHILE loop, which has no int8 "
            "kernel, and TF 2.21's int8 calibrator crashes on it, so full-integer int8 was "
            "not tried. Use a 'cnn' or 'bow' model for an int8-only accelerator."
        )
        names = [name for name, _ in recurrent]
        return export_dynamic_range(model, ids.shape[1], reason, names, batch_size=1)

    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(ids), size=min(num_calibration, len(ids)), replace=False))
    try:
        content = _convert(model, ids.shape[1], calibration=ids[picks])
    except ConversionError as error:
        blocking = _layers_named_in([str(error.__cause__)], model)
        where = f"layer(s) {', '.join(map(repr, blocking))}" if blocking else "an op"
        summary = _error_summary(error.__cause__)
        reason = f"Full-integer int8 conversion failed in {where}: {summary}"
        return export_dynamic_range(model, ids.shape[1], reason, blocking)

    if not find_float_parts(content):
        return TextExport(content=content, mode="int8")
    blocking, described = [], []
    for layer, op_names in _group_by_layer(_float_ops(content), model).items():
        kinds = sorted(op_names - _EDGE_OPS) or sorted(op_names)
        if layer is not None:
            blocking.append(layer)
            kind = type(model.get_layer(layer)).__name__
            described.append(f"{layer!r} ({kind}) runs {', '.join(kinds)} in float")
        else:
            described.append(f"unnamed ops {', '.join(kinds)} run in float")
    reason = (
        "Full-integer int8 left float ops (no int8 kernel): "
        + "; ".join(described)
        + ". Exported dynamic-range (int8 weights, float activations)."
    )
    return export_dynamic_range(model, ids.shape[1], reason, blocking)


class TextExportPlan:
    """Exports a token-id text model with its tokenizer, and measures the file on LiteRT.

    `export_text_model` writes full-integer int8 where the model allows it and
    dynamic-range otherwise (the reason and the blocking layers go to the file's
    `notes`); `save_vocabulary` writes `vocab.txt` and `tokenizer.json` from the
    scenario's adapted vectorizer (`data.extras["vectorizer"]`), so an app tokenizes as
    training did; `measure_tflite` measures the one `.tflite` file on the test split.
    This is the export plan of the `imdb` scenario.

    Args:
        latency_runs: Single-review invocations timed for `latency_us`. Defaults to `50`.

    Example:

    >>> from kerasopt.text.text_export import TextExportPlan
    >>> exported = TextExportPlan().export(model, data, "saved_models/imdb_bow")  # doctest: +SKIP
    >>> exported[0].variant, exported[0].notes["reason"]  # doctest: +SKIP
    ('int8', None)
    """

    def __init__(self, latency_runs: int = 50):
        self.latency_runs = latency_runs

    def __repr__(self) -> str:
        return f"TextExportPlan(latency_runs={self.latency_runs})"

    def export(
        self,
        model,
        data,
        out_dir: str | os.PathLike,
        *,
        seed: int = 0,
        reference_probabilities: np.ndarray | None = None,
    ) -> list[ExportedModel]:
        """Writes `model_<mode>.tflite` (and the tokenizer files); returns the one file."""
        splits = getattr(data, "splits", data)
        tick = time.perf_counter()
        export = export_text_model(model, splits.x_train, seed=seed)
        vectorizer = getattr(data, "extras", {}).get("vectorizer")
        if vectorizer is not None:
            from kerasopt.text.vectorizer import save_vocabulary  # loads TensorFlow

            save_vocabulary(vectorizer, out_dir)
        notes = {"reason": export.reason, "blocking_layers": list(export.blocking_layers)}
        exported = write_and_measure(
            export.content,
            export.mode,
            out_dir,
            splits,
            started=tick,
            reference_probabilities=reference_probabilities,
            notes=notes,
            latency_runs=self.latency_runs,
        )
        return [exported]


def _check_inputs(model, representative_ids) -> np.ndarray:
    if len(model.inputs) != 1:
        raise InvalidValueError(
            f"export_text_model supports models with one input; {model.name!r} has "
            f"{len(model.inputs)}."
        )
    input_shape = tuple(model.inputs[0].shape[1:])
    if len(input_shape) != 1 or input_shape[0] is None:
        raise InvalidValueError(
            f"export_text_model expects a model input of shape (sequence_length,). Received: "
            f"{model.name!r} with input shape {input_shape}."
        )
    if not str(model.inputs[0].dtype).startswith(("int", "uint")):
        raise InvalidValueError(
            f"export_text_model expects integer token ids as input. Received: {model.name!r} "
            f"with input dtype {model.inputs[0].dtype}. Build it with "
            "keras.Input(shape=(sequence_length,), dtype='int32')."
        )
    ids = np.asarray(representative_ids)
    if ids.ndim != 2 or ids.shape[1] != input_shape[0] or len(ids) == 0:
        raise InvalidValueError(
            f"representative_ids must be token-id rows of shape (n, {input_shape[0]}). "
            f"Received: shape {ids.shape}. Pass training rows from the same TextVectorization."
        )
    if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0:
        raise InvalidValueError(
            "representative_ids must be non-negative integer token ids. Received: dtype "
            f"{ids.dtype}, min {ids.min()}. Pass TextVectorization(output_mode='int') output."
        )
    return ids.astype("int32")


def _recurrent_layers(model, keras) -> list[tuple[str, str]]:
    found = []
    for layer in model.layers:
        inner = [layer, *getattr(layer, "layers", [])]
        if any(isinstance(item, (keras.layers.RNN, keras.layers.Bidirectional)) for item in inner):
            kind = type(layer).__name__
            if isinstance(layer, keras.layers.Bidirectional):
                kind = f"Bidirectional({type(layer.forward_layer).__name__})"
            found.append((layer.name, kind))
    return found


def _convert(model, sequence_length: int, *, calibration=None, batch_size=None) -> bytes:
    import tensorflow as tf

    spec = tf.TensorSpec((batch_size, sequence_length), tf.int32, name="token_ids")
    with model_converter(model, spec) as converter:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if calibration is not None:
            # Only the float output is set to int8: the int32 id input has nothing to quantize.
            converter.representative_dataset = lambda: ([row[None, :]] for row in calibration)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_output_type = tf.int8
        try:
            return converter.convert()
        except FlexOpsError:
            raise
        except Exception as error:
            variant = "int8" if calibration is not None else "dynamic"
            raise ConversionError(
                f"TFLite conversion of {model.name!r} to {variant} failed: {_error_summary(error)}"
            ) from error


def export_dynamic_range(
    model, sequence_length: int, reason: str | None, blocking: list[str], batch_size=None
) -> TextExport:
    """Dynamic-range export; a batch-size-1 retry covers layers that need static shapes.

    `reason` and `blocking` say why full int8 was not used (`None`, `[]` when it was not
    tried). Text bundles use it too.
    """
    try:
        content = _convert(model, sequence_length, batch_size=batch_size)
    except ConversionError:
        if batch_size == 1:
            raise
        content = _convert(model, sequence_length, batch_size=1)
    return TextExport(content=content, mode="dynamic", reason=reason, blocking_layers=blocking)


def _float_ops(content: bytes) -> list[tuple[str, list[str], list[str]]]:
    """(op name, output tensor names, input tensor names) of each op touching floats."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found = []
    for op in interpreter._get_ops_details():
        outputs = [tensors[i] for i in op["outputs"] if i >= 0 and i in tensors]
        inputs = [tensors[i] for i in op["inputs"] if i >= 0 and i in tensors]
        floats = any(t["dtype"] in _FLOAT_DTYPES for t in [*outputs, *inputs])
        if floats or op["op_name"] in _VARIABLE_OPS:
            found.append((op["op_name"], [t["name"] for t in outputs], [t["name"] for t in inputs]))
    return found


def _group_by_layer(float_ops, model) -> dict[str | None, set[str]]:
    """Maps float ops to the layers they belong to, by their output tensors' names first.

    Inputs are read only when the outputs carry no layer name (a DEQUANTIZE writes
    `tfl.dequantize`), because an input may come from the layer before.
    """
    grouped: dict[str | None, set[str]] = {}
    for op_name, outputs, inputs in float_ops:
        layers = _layers_named_in(outputs, model) or _layers_named_in(inputs, model) or [None]
        for layer in layers:
            grouped.setdefault(layer, set()).add(op_name)
    return grouped


def _layers_named_in(texts, model) -> list[str]:
    """Top-level layer names found as scopes in TF/TFLite names.

    A scope is a layer name, or one that TF made unique with a `_<n>` suffix
    (`functional_1/attention_norm_1/Neg` -> `attention_norm`).
    """
    names = {layer.name for layer in model.layers}
    found = []
    for text in texts:
        for path in re.findall(r"[\w.\-]+(?:/[\w.\-]+)+", str(text)):
            for part in path.split("/"):
                stripped = re.sub(r"_\d+$", "", part)
                match = stripped if stripped in names else part if part in names else None
                if match and match not in found:
                    found.append(match)
                if match:
                    break
    return found


def _error_summary(error) -> str:
    """The converter's first `error:` line (its messages run to pages), or the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    errors = [line.split("error:", 1)[1].strip() for line in lines if "error:" in line]
    summary = errors[0] if errors else (lines[0] if lines else type(error).__name__)
    return summary[:400]
