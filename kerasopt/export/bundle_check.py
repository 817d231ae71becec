"""`check_bundle`: a phone bundle scored on LiteRT and through MediaPipe Tasks.

The same test split goes through the LiteRT interpreter (the bundle's tensors fed
directly) and through MediaPipe's classifier (frames or raw text, as an app passes them).
Equal accuracy and full agreement show the app will see what kerasopt measured.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.litert_evaluator import LiteRTEvaluator, score_probabilities
from kerasopt.export.mediapipe_client import classify_images, classify_texts, mediapipe_available

CLIENTS = {"image": classify_images, "text": classify_texts}


@dataclasses.dataclass(frozen=True)
class BundleCheck:
    """A bundle's size and its scores on LiteRT and on MediaPipe.

    Attributes:
        kind: `"image"` or `"text"`.
        bytes: The bundle's size (model, metadata and packed files).
        int8_bytes: The plain int8 file's size, or `None` when there is none to compare.
        files_bytes: The packed files' size (labels, vocabulary).
        litert: `{"accuracy", "us_per_image"}` on the LiteRT interpreter.
        mediapipe: `{"accuracy", "agreement", "us_per_image", "class_names_shown"}`, or
            `None` when MediaPipe could not run.
        mediapipe_skipped: Why MediaPipe did not run (not installed, or it refused the
            file, in its own words), or `None`.
        class_names: The names MediaPipe returned (or the bundle's own).
    """

    kind: str
    bytes: int
    int8_bytes: int | None
    files_bytes: int
    litert: dict
    mediapipe: dict | None
    mediapipe_skipped: str | None
    class_names: tuple[str, ...]

    @property
    def size_ratio(self) -> float | None:
        """Bundle bytes over the int8 file plus its packed files (the target: <= 1.05)."""
        if not self.int8_bytes:
            return None
        return self.bytes / (self.int8_bytes + self.files_bytes)

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "size_ratio": self.size_ratio}

    def summary(self) -> str:
        """One line: sizes and the two clients' accuracy."""
        litert = f"LiteRT {self.litert['accuracy']:.4f}"
        if self.mediapipe is None:
            client = f"MediaPipe not run: {self.mediapipe_skipped}"
        else:
            client = (
                f"MediaPipe {self.mediapipe['accuracy']:.4f} "
                f"(agrees with LiteRT on {self.mediapipe['agreement']:.2%})"
            )
        ratio = f", {self.size_ratio:.3f}x int8 + files" if self.size_ratio else ""
        return f"phone bundle {self.bytes:,} B{ratio}; {litert}; {client}"

    def markdown(self) -> list[str]:
        """A short table for `report.md`."""
        lines = [
            "| client | accuracy | agreement with LiteRT | µs per input |",
            "|---|---:|---:|---:|",
            f"| LiteRT interpreter | {self.litert['accuracy']:.4f} | - "
            f"| {self.litert['us_per_image']:.0f} |",
        ]
        if self.mediapipe is not None:
            lines.append(
                f"| MediaPipe {self.kind.capitalize()}Classifier "
                f"| {self.mediapipe['accuracy']:.4f} | {self.mediapipe['agreement']:.2%} "
                f"| {self.mediapipe['us_per_image']:.0f} |"
            )
        else:
            lines.append(f"\nMediaPipe did not run: {self.mediapipe_skipped}.")
        ratio = f" ({self.size_ratio:.3f}x the int8 file plus its packed files)"
        lines.append(
            f"\nBundle: {self.bytes:,} bytes{ratio if self.size_ratio else ''}; "
            f"classes: {', '.join(self.class_names)}."
        )
        return lines


def check_bundle(
    content: bytes,
    *,
    kind: str,
    tensor_inputs: np.ndarray,
    client_inputs,
    y: np.ndarray,
    class_names,
    files_bytes: int,
    int8_bytes: int | None = None,
) -> BundleCheck:
    """Scores a bundle on LiteRT (`tensor_inputs`) and MediaPipe (`client_inputs`).

    Args:
        content: The bundle's bytes.
        kind: `"image"` (MediaPipe `ImageClassifier`) or `"text"` (`TextClassifier`).
        tensor_inputs: What the model's input tensor takes (uint8 frames, int32 ids).
        client_inputs: What the app passes MediaPipe (the same frames, raw strings).
        y: True classes.
        class_names: The bundle's labels, reported when MediaPipe does not run.
        files_bytes: Bytes of the packed files (labels, vocabulary).
        int8_bytes: The plain int8 file's size, to compare. Defaults to `None`.

    Example:

    >>> check = check_bundle(bundle.content, kind="image", tensor_inputs=pixels,
    ...                      client_inputs=pixels, y=y_test, class_names=bundle.class_names,
    ...                      files_bytes=20)  # doctest: +SKIP
    >>> check.mediapipe["agreement"]  # doctest: +SKIP
    1.0
    """
    if kind not in CLIENTS:
        raise InvalidValueError(
            f"check_bundle: kind must be one of {list(CLIENTS)}. Received: {kind!r}."
        )
    evaluator = LiteRTEvaluator(content)
    litert_probabilities = evaluator.predict(tensor_inputs)
    litert = {
        **score_probabilities(litert_probabilities, y),
        "us_per_image": evaluator.latency_us(tensor_inputs[0]),
    }
    skipped = mediapipe_available()
    mediapipe, names = None, tuple(class_names)
    if skipped is None:
        try:
            result = CLIENTS[kind](content, client_inputs)
        except (RuntimeError, ValueError) as error:  # MediaPipe's own refusal of the file
            skipped = f"MediaPipe refused the bundle: {error}"
        else:
            mediapipe = result.score(y, litert_probabilities)
            names = result.category_names
    return BundleCheck(
        kind=kind,
        bytes=len(content),
        int8_bytes=int8_bytes,
        files_bytes=int(files_bytes),
        litert=litert,
        mediapipe=mediapipe,
        mediapipe_skipped=skipped,
        class_names=names,
    )


def bundle_image_classifier(
    model,
    splits,
    out_dir,
    *,
    class_names=None,
    int8_bytes: int | None = None,
    seed: int = 0,
    **metadata,
) -> BundleCheck:
    """Builds the image bundle of `model`, writes it to `out_dir`, and checks it.

    `out_dir` gets `model.tflite` and `labels.txt`; the check scores the bundle on
    `splits`' test images as camera pixels, on LiteRT and through MediaPipe.

    Args:
        model: A Keras image classifier.
        splits: `DatasetSplits`; `x_train` calibrates, `x_test` scores.
        out_dir: The bundle's folder.
        class_names: Labels; defaults to `splits.class_names`, then `"0"`, `"1"`, ...
            Defaults to `None`.
        int8_bytes: The plain int8 file's size, to compare. Defaults to `None`.
        seed: Seed of the calibration draw. Defaults to `0`.
        **metadata: `name`, `description`, `version`, `author`, `license` of
            `build_image_bundle`.

    Example:

    >>> check = bundle_image_classifier(model, splits, "phone/")  # doctest: +SKIP
    >>> print(check.summary())  # doctest: +SKIP
    """
    from kerasopt.export.classifier_metadata import labels_text
    from kerasopt.export.image_bundle import build_image_bundle

    bundle = build_image_bundle(
        model,
        splits.x_train,
        class_names=class_names if class_names is not None else splits.class_names,
        seed=seed,
        **metadata,
    )
    bundle.write(out_dir)
    pixels = bundle.camera_pixels(splits.x_test)
    return check_bundle(
        bundle.content,
        kind="image",
        tensor_inputs=pixels,
        client_inputs=pixels,
        y=splits.y_test,
        class_names=bundle.class_names,
        files_bytes=len(labels_text(bundle.class_names).encode("utf-8")),
        int8_bytes=int8_bytes,
    )
