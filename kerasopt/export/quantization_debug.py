"""`debug_quantization`: which layers full-integer int8 hurts, and what each way out costs.

TFLite's `QuantizationDebugger` runs a debug model in which every quantized op is
followed by a `NumericVerify` op comparing its dequantized output with the float op's.
Per quantized tensor we keep the error TF's guide reads first, `rmse/scale` (the root
mean squared error in units of the quantization step: about 0.29 for a uniform rounding
error, much more where int8 clips or loses a range), and the cosine similarity of the
float and dequantized outputs. Two selective files leave float the N worst tensors
(`int8_keep_float`) or every op of the K worst op types (`int8_keep_float_ops`), and are
measured on LiteRT beside float32, int8, int16x8 and AI Edge Quantizer recipes
(`quantization_options`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import warnings

import numpy as np

from kerasopt.core.atomic import atomic_path
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.core.validation import check_int, check_positive_int, check_seed, invalid_value
from kerasopt.export.deployment_metrics import measure_tflite
from kerasopt.export.full_integer_check import find_float_parts
from kerasopt.export.quantization_options import (
    OPTION_TABLE_HEADER,
    QUANTIZATION_OPTIONS,
    OptionUnavailableError,
    QuantizationOption,
    check_options,
    keep_float_content,
    keep_float_ops_content,
    option_content,
    option_label,
)
from kerasopt.export.tflite_converter import (
    ConversionError,
    _calibration_samples,
    configure_full_integer,
    convert_to_tflite,
    pixels_spec,
    savedmodel_converter,
)


@dataclasses.dataclass(frozen=True)
class LayerQuantizationError:
    """How far one quantized tensor is from its float value, over the debug samples.

    Attributes:
        op_name: The TFLite op that writes the tensor (`"CONV_2D"`).
        tensor_name: The tensor's name (what `denylisted_nodes` takes).
        rmse_over_scale: Root mean squared error divided by the tensor's scale.
        cosine: Mean cosine similarity of the float and dequantized outputs.
        scale: The tensor's quantization scale.
    """

    op_name: str
    tensor_name: str
    rmse_over_scale: float
    cosine: float
    scale: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class QuantizationDebugReport:
    """Per-layer int8 errors (worst first) and the quantization options, measured.

    Attributes:
        model_name: The Keras model's name.
        keras_accuracy: The Keras model's accuracy on the test split.
        keep_float: Layers the `int8_keep_float` option leaves float.
        keep_float_ops: Op types the `int8_keep_float_ops` option leaves float.
        debug_samples: Training samples the debugger ran.
        layers: One `LayerQuantizationError` per quantized tensor, worst first.
        options: One `QuantizationOption` per option, in `QUANTIZATION_OPTIONS` order.
    """

    model_name: str
    keras_accuracy: float
    keep_float: int
    keep_float_ops: int
    debug_samples: int
    layers: tuple[LayerQuantizationError, ...]
    options: tuple[QuantizationOption, ...]

    def option(self, name: str) -> QuantizationOption:
        """The option called `name`; raises `KeyError` if it was not measured."""
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(f"No option {name!r} in this report; it has {self.option_names()}.")

    def option_names(self) -> list[str]:
        return [option.name for option in self.options]

    def to_dict(self) -> dict:
        """The JSON form (no `.tflite` bytes)."""
        return {
            "model_name": self.model_name,
            "keras_accuracy": self.keras_accuracy,
            "keep_float": self.keep_float,
            "keep_float_ops": self.keep_float_ops,
            "debug_samples": self.debug_samples,
            "layers": [layer.to_dict() for layer in self.layers],
            "options": [option.to_dict() for option in self.options],
        }

    def _option_rows(self) -> list[list[str]]:
        int8 = next((o.metrics for o in self.options if o.name == "int8"), None)
        return [option.table_row(self.keras_accuracy, int8) for option in self.options]

    def summary_table(self) -> str:
        """The options as aligned text, for a terminal."""
        return text_table(OPTION_TABLE_HEADER, self._option_rows())

    def to_markdown(self, top: int = 10) -> str:
        """The options and the `top` worst layers as Markdown tables."""
        lines = [
            f"# Quantization debug: {self.model_name}",
            "",
            f"Keras accuracy {self.keras_accuracy:.4f}; drop in accuracy points from it; "
            "latency: median of batch-1 runs on one thread (ratio to int8).",
            "",
            *markdown_table(OPTION_TABLE_HEADER, self._option_rows()),
            "",
            f"## Worst layers (rmse/scale over {self.debug_samples} training samples)",
            "",
            *markdown_table(
                ["op", "tensor", "rmse/scale", "cosine"],
                [
                    [
                        lay.op_name,
                        f"`{lay.tensor_name}`",
                        f"{lay.rmse_over_scale:.3f}",
                        f"{lay.cosine:.4f}",
                    ]
                    for lay in self.layers[:top]
                ],
            ),
        ]
        return "\n".join(lines) + "\n"


def debug_quantization(
    model,
    x_train,
    x_test,
    y_test,
    *,
    keep_float: int = 3,
    keep_float_ops: int = 4,
    options=QUANTIZATION_OPTIONS,
    seed: int = 0,
    num_calibration: int = 200,
    debug_samples: int = 100,
    latency_runs: int = 100,
) -> QuantizationDebugReport:
    """Finds the layers int8 hurts most and measures the ways to keep accuracy.

    Every option is converted from `model`, calibrated on the same `num_calibration`
    seeded training samples as kerasopt's `int8` export, and measured on `(x_test,
    y_test)` with LiteRT (`measure_tflite`). The debugger runs on `debug_samples` other
    seeded training samples, so the choice of layers to keep float never sees the test
    split.

    Args:
        model: A Keras 3 classifier with one input.
        x_train: Raw training samples (calibration and debugging).
        x_test: Raw test samples.
        y_test: Their integer labels.
        keep_float: Worst layers `int8_keep_float` leaves float; `0` skips it.
            Defaults to `3`.
        keep_float_ops: Worst op types (ranked by their worst tensor) whose every op
            `int8_keep_float_ops` leaves float; `0` skips it. Defaults to `4`.
        options: Names from `QUANTIZATION_OPTIONS` to measure. Defaults to all.
        seed: Seed of the sample draws. Defaults to `0`.
        num_calibration: Calibration samples. Defaults to `200`.
        debug_samples: Samples the debugger runs. Defaults to `100`.
        latency_runs: Batch-1 runs timed per option. Defaults to `100`.

    Example:

    >>> from kerasopt.export.quantization_debug import debug_quantization
    >>> report = debug_quantization(model, data.x_train, data.x_test, data.y_test)  # doctest: +SKIP
    >>> print(report.to_markdown())  # doctest: +SKIP
    """

    owner = "debug_quantization"
    options = check_options(options)
    keep_float = check_int(owner, "keep_float", keep_float, 0, example=3)
    keep_float_ops = check_int(owner, "keep_float_ops", keep_float_ops, 0, example=4)
    num_calibration = check_positive_int(owner, "num_calibration", num_calibration)
    debug_samples = check_positive_int(owner, "debug_samples", debug_samples)
    latency_runs = check_int(owner, "latency_runs", latency_runs, 0)
    seed = check_seed(owner, seed)
    _check_inputs(model, x_train, x_test, y_test)
    # How many tensors (op types) each keep-float option leaves float; 0 skips it.
    kept_counts = {"int8_keep_float": keep_float, "int8_keep_float_ops": keep_float_ops}
    options = tuple(name for name in options if kept_counts.get(name, 1))
    spec = pixels_spec(model)

    calibration = dict(num_calibration=num_calibration, seed=seed)
    layers, selective = _debug_layers(
        model,
        spec,
        x_train,
        keep_float if "int8_keep_float" in options else 0,
        keep_float_ops if "int8_keep_float_ops" in options else 0,
        debug_samples=debug_samples,
        **calibration,
    )
    probabilities = model.predict(x_test, batch_size=256, verbose=0)
    keras_accuracy = float(np.mean(probabilities.argmax(-1) == np.asarray(y_test)))
    float_content = convert_to_tflite(model, "float32")
    measured = []
    for name in options:
        label = option_label(name, keep_float, keep_float_ops)
        try:
            content, kept = selective.get(name) or (
                option_content(name, model, spec, x_train, float_content, **calibration),
                (),
            )
        except (OptionUnavailableError, ConversionError) as error:  # e.g. no 16x8 kernel
            measured.append(QuantizationOption(name, label, skipped=_one_line(error)))
            continue
        metrics = measure_tflite(
            content,
            x_test,
            y_test,
            variant=name,
            reference_probabilities=probabilities,
            # An int8 file with float leftovers is still reported, as not full-integer.
            require_full_integer=name == "int8" and not find_float_parts(content),
            latency_runs=latency_runs,
        )
        if name in selective and len(kept) < kept_counts[name]:
            label += f" (only {len(kept)} could be)"
        measured.append(
            QuantizationOption(
                name,
                label,
                metrics,
                float_tensors=kept if name == "int8_keep_float" else (),
                float_ops=kept if name == "int8_keep_float_ops" else (),
                content=content,
            )
        )
    return QuantizationDebugReport(
        model.name,
        keras_accuracy,
        keep_float,
        keep_float_ops,
        min(debug_samples, len(x_train)),
        tuple(layers),
        tuple(measured),
    )


def _one_line(error) -> str:
    """The error's distinct lines joined, so a skipped option stays one table row."""
    lines = (line.strip() for line in str(error).splitlines())
    return " ".join(dict.fromkeys(line for line in lines if line))


def _check_inputs(model, x_train, x_test, y_test) -> None:
    owner = "debug_quantization"
    if len(model.inputs) != 1:
        raise invalid_value(
            owner,
            "a model with one input",
            f"{model.name!r} with {len(model.inputs)} inputs",
            "Wrap the model so it takes one tensor (concatenate the inputs in a first layer).",
        )
    if len(x_train) == 0:
        raise invalid_value(
            owner,
            "training samples to calibrate and debug on",
            "an empty x_train",
            "Pass a few hundred raw training samples.",
        )
    if len(x_test) != len(y_test) or len(y_test) == 0:
        raise invalid_value(
            owner,
            "as many test labels as test samples (at least one)",
            f"len(x_test)={len(x_test)}, len(y_test)={len(y_test)}",
            "Pass the test split's x and y together.",
        )


def _debug_layers(
    model, spec, x_train, keep_float, keep_float_ops, *, debug_samples, num_calibration, seed
):
    """Runs the debugger; returns the layers worst first and the keep-float files.

    The files come as `{option name: (content, tensors or op types left float)}`, for
    the options asked for (`keep_float`, `keep_float_ops` above 0).

    `configure_full_integer` asks for int8 input and output, but the debugger converts in
    calibrate-only mode, where those settings are ignored: the debug model's edges are set
    by `QuantizationDebugOptions.fully_quantize`. We debug with float edges (the default),
    since the debugger quantizes int8 inputs itself without clipping, and build the
    keep-float file with `fully_quantize=True`, so it keeps the int8 input and output of
    the `int8` option and the two compare like for like (`LiteRTEvaluator` quantizes it).
    """
    import tensorflow as tf

    samples = _calibration_samples(x_train, debug_samples, seed + 1)

    def debug_dataset():
        for sample in samples:
            yield [sample[None, ...]]

    with warnings.catch_warnings(), savedmodel_converter(model, spec) as converter:
        # The debugger is built on tf.lite.Interpreter (it runs NumericVerify), which
        # warns that it is deprecated; LiteRT measures every file we report.
        warnings.simplefilter("ignore", UserWarning)
        configure_full_integer(converter, x_train, num_calibration, seed)
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=debug_dataset
        )
        # A debugger built from a converter keeps no intermediate tensors, so a direct
        # comparison (cosine) would read buffers later ops overwrote (we measured cosines
        # of -0.02 on a layer whose rmse/scale was 0.3). One built from the model bytes
        # preserves all tensors when given `layer_direct_compare_metrics`.
        reader = tf.lite.experimental.QuantizationDebugger(
            quant_debug_model_content=debugger.quant_model,
            debug_dataset=debug_dataset,
            debug_options=tf.lite.experimental.QuantizationDebugOptions(
                layer_direct_compare_metrics={"cosine": _cosine}
            ),
        )
        reader.run()
        layers = _layers(reader)
        if keep_float > len(layers):
            raise invalid_value(
                "debug_quantization",
                f"keep_float <= {len(layers)}, the quantized tensors of {model.name!r}",
                f"keep_float={keep_float}",
                f"Pass keep_float={len(layers)} or fewer.",
            )
        selective = {}
        if keep_float:
            names = [layer.tensor_name for layer in layers]
            selective["int8_keep_float"] = keep_float_content(debugger, names, keep_float)
        if keep_float_ops:
            selective["int8_keep_float_ops"] = keep_float_ops_content(
                debugger, layers, keep_float_ops
            )
        return layers, selective


def _cosine(float_values, quantized, scale, zero_point) -> float:
    """Cosine similarity of the float output and the dequantized int output."""
    a = np.asarray(float_values, np.float64).ravel()
    b = (np.asarray(quantized, np.float64).ravel() - zero_point) * scale
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0:
        return 1.0 if not a.any() and not b.any() else 0.0
    return float(a @ b / norms)


def _layers(debugger) -> list[LayerQuantizationError]:
    """Rows of the debugger's own CSV dump (it resolves op and tensor names), worst first."""
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    layers = [
        LayerQuantizationError(
            op_name=row["op_name"],
            tensor_name=row["tensor_name"],
            # TF's guide: sqrt(mean_squared_error) / scale.
            rmse_over_scale=float(np.sqrt(float(row["mean_squared_error"])) / float(row["scale"])),
            cosine=float(row["cosine"]),
            scale=float(row["scale"]),
        )
        for row in csv.DictReader(io.StringIO(buffer.getvalue()))
    ]
    return sorted(layers, key=lambda layer: -layer.rmse_over_scale)


def plot_quantization_debug(
    report: QuantizationDebugReport, path: str | os.PathLike, top: int = 20
) -> None:
    """Bars of rmse/scale for the `top` worst layers (kept-float ones marked), as a PNG.

    Example:

    >>> plot_quantization_debug(report, "quant_debug.png")  # doctest: +SKIP
    """
    # A bare Figure renders with Agg without switching the global pyplot backend.
    from matplotlib.figure import Figure

    layers = report.layers[:top]
    kept = set(next((o.float_tensors for o in report.options if o.float_tensors), ()))
    fig = Figure(figsize=(8, 0.3 * len(layers) + 1.6))
    ax = fig.subplots()
    labels = [f"{lay.op_name} {lay.tensor_name.split(';')[0][-40:]}" for lay in layers]
    colors = ["tab:orange" if lay.tensor_name in kept else "tab:blue" for lay in layers]
    ax.barh(range(len(layers)), [lay.rmse_over_scale for lay in layers], color=colors)
    ax.set_yticks(range(len(layers)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1 / np.sqrt(12), color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("rmse / scale (dashed: rounding alone, 0.29; orange: kept float)")
    ax.set_title(f"int8 error per layer: {report.model_name}")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
