"""Runs a bundle through MediaPipe Tasks, the client phone apps use, in this process.

`mediapipe`'s Python package runs the same C++ task graph as Android and iOS: it checks
the model's input type and layout, reads the metadata, resizes the frame, and returns
class names from the packed `labels.txt`. A bundle it scores as LiteRT does is a bundle
the app can load.

mediapipe is optional (its absl-py pin conflicts with TF-MOT's, so pip cannot install
both in one resolve): `pip install mediapipe==1.2.3` after kerasopt.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.core.errors import InvalidValueError, MissingDependencyError
from kerasopt.export.tflite_metadata import MEDIAPIPE_REQUIREMENT


@dataclasses.dataclass(frozen=True)
class ClientResult:
    """What MediaPipe returned over a test split.

    Attributes:
        probabilities: `[N, C]` scores by class index, as MediaPipe reported them.
        category_names: The class names MediaPipe attached, by class index (read from
            the bundle's metadata; empty strings where it gave none).
        seconds: Wall time of the whole loop, MediaPipe's pre- and post-processing
            included.
    """

    probabilities: np.ndarray
    category_names: tuple[str, ...]
    seconds: float

    def score(self, y: np.ndarray, reference_probabilities: np.ndarray | None = None) -> dict:
        """Accuracy against `y`, agreement with another client's (LiteRT's) top-1."""
        predicted = self.probabilities.argmax(axis=-1)
        result = {
            "accuracy": float(np.mean(predicted == np.asarray(y))),
            "us_per_image": self.seconds / max(len(predicted), 1) * 1e6,
            "class_names_shown": all(self.category_names),
        }
        if reference_probabilities is not None:
            result["agreement"] = float(np.mean(predicted == reference_probabilities.argmax(-1)))
        return result


def mediapipe_available() -> str | None:
    """`None` if MediaPipe Tasks can run here, else the one-line reason and the fix."""
    try:
        import mediapipe  # noqa: F401
    except ImportError as error:
        return f"mediapipe is not installed ({error}); pip install {MEDIAPIPE_REQUIREMENT}"
    return None


def classify_images(content: bytes, pixels: np.ndarray) -> ClientResult:
    """Classifies uint8 RGB frames `[N, H, W, 3]` with MediaPipe's `ImageClassifier`.

    Example:

    >>> result = classify_images(bundle.content, bundle.camera_pixels(x_test))  # doctest: +SKIP
    >>> result.score(y_test)["accuracy"]  # doctest: +SKIP
    0.9944
    """
    _require_mediapipe()
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    pixels = np.asarray(pixels)
    if pixels.ndim != 4 or pixels.shape[-1] != 3 or pixels.dtype != np.uint8:
        raise InvalidValueError(
            "classify_images takes uint8 RGB frames [N, H, W, 3]. Received: "
            f"{pixels.dtype} {pixels.shape}. Use ImageBundle.camera_pixels(x)."
        )
    options = vision.ImageClassifierOptions(
        base_options=BaseOptions(model_asset_buffer=bytes(content)), max_results=-1
    )
    frames = (
        mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
        for frame in pixels
    )
    return _classify_all(vision.ImageClassifier, options, frames)


def classify_texts(content: bytes, texts) -> ClientResult:
    """Classifies raw strings with MediaPipe's `TextClassifier` (the bundle tokenizes).

    Example:

    >>> classify_texts(bundle.content, ["A wonderful film."]).probabilities.shape  # doctest: +SKIP
    (1, 2)
    """
    _require_mediapipe()
    from mediapipe.tasks.python import text
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = text.TextClassifierOptions(
        base_options=BaseOptions(model_asset_buffer=bytes(content)), max_results=-1
    )
    return _classify_all(text.TextClassifier, options, (str(review) for review in texts))


def _classify_all(task, options, inputs) -> ClientResult:
    """Runs one MediaPipe classifier task over `inputs`, timing the whole loop."""
    import time

    start = time.perf_counter()
    with task.create_from_options(options) as classifier:
        rows, names = [], {}
        for item in inputs:
            categories = classifier.classify(item).classifications[0].categories
            rows.append(_scores_by_index(categories, names))
    return _result(rows, names, time.perf_counter() - start)


def _scores_by_index(categories, names: dict) -> dict:
    row = {}
    for category in categories:
        row[category.index] = category.score
        names.setdefault(category.index, category.category_name or "")
    return row


def _result(rows, names, seconds) -> ClientResult:
    num_classes = max((max(r) for r in rows if r), default=-1) + 1
    probabilities = np.zeros((len(rows), num_classes), "float32")
    for i, row in enumerate(rows):
        for index, score in row.items():
            probabilities[i, index] = score
    category_names = tuple(names.get(i, "") for i in range(num_classes))
    return ClientResult(probabilities, category_names, seconds)


def _require_mediapipe() -> None:
    reason = mediapipe_available()
    if reason is not None:
        raise MissingDependencyError(f"Running MediaPipe Tasks needs mediapipe: {reason}.")
