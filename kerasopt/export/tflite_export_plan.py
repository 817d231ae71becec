"""`TFLiteExportPlan`: an image or feature model -> every TFLite variant, each measured."""

from __future__ import annotations

import os
import time

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.suggestions import unknown_name_message
from kerasopt.export.exported_model import ExportedModel, write_and_measure
from kerasopt.export.tflite_converter import TFLITE_VARIANTS, convert_to_tflite


class TFLiteExportPlan:
    """Converts a model to each TFLite variant and measures every file once on LiteRT.

    For each variant, `convert_to_tflite` (int8 calibrated on the training split) writes
    `model_<variant>.tflite` atomically, and `measure_tflite` measures it on the test
    split against the Keras outputs; the int8 file must pass the full-integer check.
    This is the export plan of `digits`, `mnist`, `fashion_mnist` and `cifar10`.

    Args:
        variants: The variants to write, in order. Defaults to all four.

    Example:

    >>> from kerasopt.export import TFLiteExportPlan
    >>> plan = TFLiteExportPlan(variants=("float32", "int8"))
    >>> exported = plan.export(model, data, "saved_models/mine", seed=0)  # doctest: +SKIP
    """

    def __init__(self, variants: tuple[str, ...] = TFLITE_VARIANTS):
        for variant in variants:
            if variant not in TFLITE_VARIANTS:
                raise InvalidValueError(
                    unknown_name_message("TFLiteExportPlan variant", variant, TFLITE_VARIANTS)
                )
        self.variants = tuple(variants)

    def __repr__(self) -> str:
        return f"TFLiteExportPlan(variants={self.variants!r})"

    def export(
        self,
        model,
        data,
        out_dir: str | os.PathLike,
        *,
        seed: int = 0,
        reference_probabilities: np.ndarray | None = None,
    ) -> list[ExportedModel]:
        """Writes and measures every variant; returns one `ExportedModel` per file.

        Args:
            model: The trained Keras model.
            data: A `ScenarioData` or a `DatasetSplits` (raw `x_train` calibrates int8).
            out_dir: Folder for the `.tflite` files.
            seed: Seed of the int8 calibration draw. Defaults to `0`.
            reference_probabilities: Keras outputs on `x_test`, for `agreement`.
                Defaults to `None`.
        """
        splits = getattr(data, "splits", data)
        exported = []
        for variant in self.variants:
            tick = time.perf_counter()
            content = convert_to_tflite(
                model, variant, representative_data=splits.x_train, seed=seed
            )
            exported.append(
                write_and_measure(
                    content,
                    variant,
                    out_dir,
                    splits,
                    started=tick,
                    reference_probabilities=reference_probabilities,
                )
            )
        return exported
