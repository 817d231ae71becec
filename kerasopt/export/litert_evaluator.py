"""`LiteRTEvaluator`: runs a `.tflite` model on the LiteRT interpreter and measures it."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import numpy as np

from kerasopt.core.errors import InvalidValueError, MissingFileError


def tflite_sizes(model_content: bytes) -> dict[str, int]:
    """Raw and gzip-compressed size in bytes (gzip shows what sparsity saves)."""
    return {"bytes": len(model_content), "gzip_bytes": len(gzip.compress(model_content, 9))}


def score_probabilities(
    probabilities: np.ndarray, y: np.ndarray, reference_probabilities: np.ndarray | None = None
) -> dict[str, float]:
    """Top-1 accuracy against `y`, and agreement with `reference_probabilities` if given.

    Example:

    >>> score_probabilities(np.eye(2), np.array([0, 0]))
    {'accuracy': 0.5}
    """
    predicted = np.asarray(probabilities).argmax(axis=-1)
    result = {"accuracy": float(np.mean(predicted == np.asarray(y)))}
    if reference_probabilities is not None:
        reference = np.asarray(reference_probabilities).argmax(axis=-1)
        result["agreement"] = float(np.mean(predicted == reference))
    return result


class LiteRTEvaluator:
    """Evaluates a TFLite model with `ai_edge_litert.interpreter`, as a phone runs it.

    Inputs are given raw, as the dataset stores them; for a quantized input the
    evaluator applies the model's own input scale and zero point, and dequantizes a
    quantized output, so results compare directly with the Keras model.

    Args:
        model: TFLite bytes or the path of a `.tflite` file.
        num_threads: Interpreter threads; latency is measured on one, as phones are
            usually benchmarked. Defaults to `1`.

    Example:

    >>> from kerasopt.export import LiteRTEvaluator
    >>> evaluator = LiteRTEvaluator("saved_models/digits/model_int8.tflite")  # doctest: +SKIP
    >>> evaluator.evaluate(x_test, y_test)["accuracy"]  # doctest: +SKIP
    0.994
    """

    def __init__(self, model: bytes | str | os.PathLike, num_threads: int = 1):
        if isinstance(model, (str, os.PathLike)):
            path = Path(model)
            if not path.is_file():
                raise MissingFileError(f"No TFLite file at {str(path)!r}.")
            model = path.read_bytes()
        self.model_content = bytes(model)
        self.num_threads = num_threads
        interpreter = self._interpreter()  # fails early on a corrupt file
        self.input_details = interpreter.get_input_details()[0]
        self.output_details = interpreter.get_output_details()[0]

    def _interpreter(self):
        from ai_edge_litert.interpreter import Interpreter

        try:
            return Interpreter(model_content=self.model_content, num_threads=self.num_threads)
        except ValueError as error:
            raise InvalidValueError(
                f"Could not load the model as TFLite ({error}). Is it a .tflite flatbuffer?"
            ) from error

    @property
    def input_dtype(self):
        return self.input_details["dtype"]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Raw samples -> the tensor the model takes (quantized for int8 inputs).

        An integer input without quantization parameters (scale 0, e.g. int32 token ids)
        takes the values as they are.
        """
        dtype = self.input_details["dtype"]
        scale, zero_point = self.input_details["quantization"]
        if np.issubdtype(dtype, np.integer) and scale:
            info = np.iinfo(dtype)
            q = np.round(np.asarray(x, dtype="float32") / scale + zero_point)
            return np.clip(q, info.min, info.max).astype(dtype)
        return np.asarray(x, dtype=dtype)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        dtype = self.output_details["dtype"]
        scale, zero_point = self.output_details["quantization"]
        if np.issubdtype(dtype, np.integer) and scale:
            return (y.astype("float32") - zero_point) * scale
        return y.astype("float32")

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities for raw samples `x`.

        A model exported with a fixed batch size (recurrent text models convert only at
        batch 1) is run in batches of that size.
        """
        if self.input_details["shape_signature"][0] != -1:
            batch_size = int(self.input_details["shape"][0])
        interpreter = self._interpreter()
        index_in, index_out = self.input_details["index"], self.output_details["index"]
        outputs, allocated = [], None
        for start in range(0, len(x), batch_size):
            batch = self.quantize_input(x[start : start + batch_size])
            if allocated != len(batch):
                interpreter.resize_tensor_input(index_in, batch.shape)
                interpreter.allocate_tensors()
                allocated = len(batch)
            interpreter.set_tensor(index_in, batch)
            interpreter.invoke()
            outputs.append(self.dequantize_output(interpreter.get_tensor(index_out)))
        return np.concatenate(outputs)

    def evaluate(
        self,
        x: np.ndarray,
        y: np.ndarray,
        reference_probabilities: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Accuracy on `(x, y)` and top-1 agreement with reference (Keras) predictions."""
        return score_probabilities(self.predict(x), y, reference_probabilities)

    def latency_us(self, sample: np.ndarray, warmup: int = 10, runs: int = 100) -> float:
        """Median microseconds for one sample (batch 1) on `num_threads` threads."""
        interpreter = self._interpreter()
        index_in = self.input_details["index"]
        batch = self.quantize_input(np.asarray(sample)[None, ...])
        interpreter.resize_tensor_input(index_in, batch.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(index_in, batch)
        for _ in range(warmup):
            interpreter.invoke()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            interpreter.invoke()
            times.append(time.perf_counter() - start)
        return float(np.median(times) * 1e6)

    def sizes(self) -> dict[str, int]:
        return tflite_sizes(self.model_content)
