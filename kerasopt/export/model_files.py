"""`write_model_files`: a trained Keras model and its int8 `.tflite`, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

from kerasopt.core.atomic import atomic_path, write_bytes_atomic


def write_model_files(
    out_dir: str | os.PathLike,
    model,
    int8_content: bytes,
    *,
    model_file: str,
    int8_file: str,
) -> Path:
    """Saves `model` as `out_dir/model_file` and `int8_content` as `out_dir/int8_file`.

    Each file is written atomically (`kerasopt.core.atomic`), so a killed process never
    leaves half a model beside a finished report. Returns the folder.

    Example:

    >>> write_model_files(  # doctest: +SKIP
    ...     "ensemble", model, content, model_file="ensemble.keras",
    ...     int8_file="ensemble_int8.tflite",
    ... )
    """
    out = Path(out_dir)
    with atomic_path(out / model_file) as tmp:
        model.save(tmp)
    write_bytes_atomic(out / int8_file, int8_content)
    return out
