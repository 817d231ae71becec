"""`load_model_safely`: loads a `.keras` file with Keras' safe mode, with clear errors."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from kerasopt.core.errors import KerasoptError


class ModelFileError(KerasoptError, ValueError):
    """Raised when a file is not a loadable, safe `.keras` model."""


def load_model_safely(
    path: str | os.PathLike, custom_objects: dict | None = None, *, compile: bool = False
):
    """Loads a Keras 3 `.keras` model with `safe_mode=True`.

    Safe mode refuses Lambda layers carrying Python bytecode, so a file a user hands
    in cannot run code when loaded. A missing, corrupt or foreign file raises
    `ModelFileError` naming the file and what to do. The training configuration (loss,
    optimizer) is not restored unless `compile=True`: kerasopt's commands predict,
    convert or recompile, and a file trained with a custom loss (kerasopt's
    `SmoothedSparseCategoricalCrossentropy`, a user's own) then loads in a process that
    never imported it.

    Args:
        path: Path of a `.keras` file.
        custom_objects: Extra classes the model needs, by name. Defaults to `None`.
        compile: Restore the saved loss, optimizer and metrics. Defaults to `False`.

    Example:

    >>> from kerasopt.models import load_model_safely
    >>> model = load_model_safely("saved_models/digits/model.keras")  # doctest: +SKIP
    """
    import keras

    # Registers kerasopt's own layers (MirrorAverage) for a file that holds them.
    import kerasopt.models.mirror_averaging  # noqa: F401

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at {str(path)!r}.")
    if path.suffix != ".keras":
        raise ModelFileError(
            f"{str(path)!r} is not a .keras file. kerasopt loads Keras 3 models saved with "
            "model.save('model.keras'); convert legacy .h5 or SavedModel files with Keras "
            "first."
        )
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{str(path)!r} is not a valid .keras archive (it is not a zip file): the file "
            "is corrupt, truncated, or not a Keras model. Re-save the model with "
            "model.save(path)."
        )
    try:
        return keras.saving.load_model(
            path, custom_objects=custom_objects, compile=compile, safe_mode=True
        )
    except Exception as error:
        raise ModelFileError(
            f"Could not load {str(path)!r} as a Keras model ({type(error).__name__}: "
            f"{error}). If the model uses custom layers, pass them in custom_objects; "
            "safe_mode=True also refuses Lambda layers, which kerasopt never unpickles."
        ) from error


def model_input_shape(model) -> tuple[int, ...]:
    """Shape of one sample the model takes, without the batch axis."""
    shape = model.inputs[0].shape
    return tuple(shape[1:])
