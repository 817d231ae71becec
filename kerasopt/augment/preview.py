"""`preview`: a PNG grid of original images beside several augmented draws."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kerasopt.core.atomic import atomic_path
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_positive_int


def _label_text(label) -> str:
    label = np.asarray(label)
    if label.ndim == 0:
        return str(label.item())
    top = np.argsort(label)[::-1][:2]
    return " ".join(f"{i}:{label[i]:.2f}" for i in top if label[i] > 0.005)


def _to_display(images: np.ndarray, low: float, high: float) -> np.ndarray:
    scaled = (images.astype("float32") - low) / max(high - low, 1e-12)
    return np.clip(scaled, 0.0, 1.0)


def preview(
    policy,
    images,
    path: str | os.PathLike,
    *,
    labels=None,
    samples: int = 8,
    repeats: int = 4,
) -> Path:
    """Writes a PNG grid: one row per sample, the original then `repeats` augmentations.

    Each column is one call of the policy on the first `samples` images with a
    different `step`, so the columns show different draws of the same policy. With
    `labels`, every cell is titled with its label (the top two of mixed labels). Drawn
    with `matplotlib.figure.Figure`, so it works headless without touching the global
    backend, and written atomically.

    Args:
        policy: An `AugmentationPolicy` or anything `build_policy` accepts.
        images: `(n, h, w)` or `(n, h, w, c)` images (c = 1 or 3).
        path: Where to write the PNG.
        labels: `(n,)` integer or `(n, classes)` one-hot labels, or `None`. Integer
            labels give label mixing ops `num_classes` (their maximum + 1) if they lack
            it. Defaults to `None`.
        samples: Rows, the first `samples` images. Defaults to `8`.
        repeats: Augmented columns per row. Defaults to `4`.

    Returns:
        The path written.

    Example:

    >>> from kerasopt.augment import preview
    >>> from kerasopt.data import load_dataset
    >>> data = load_dataset("digits")
    >>> preview("crop_pad(1), brightness(0.2, value_range=(0, 16))", data.x_train,
    ...         "augment.png", labels=data.y_train)  # doctest: +SKIP
    """
    from matplotlib.figure import Figure

    from kerasopt.augment.policy import build_policy

    check_positive_int("preview", "samples", samples, example=8)
    check_positive_int("preview", "repeats", repeats, example=4)
    num_classes = None
    if labels is not None and np.asarray(labels).ndim == 1:
        num_classes = max(int(np.asarray(labels).max()) + 1, 2)
    policy = build_policy(policy, num_classes=num_classes)
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise InvalidValueError(
            "preview expects a non-empty batch of images shaped (n, h, w) or (n, h, w, c). "
            f"Received: images.shape={images.shape}."
        )
    images = images[:samples]
    count = len(images)
    titled = labels is not None
    if titled:
        batch_labels = np.asarray(labels)[:count]
    elif policy is not None and any(op.soft_labels and op.num_classes for op in policy.ops):
        batch_labels = np.zeros(count, "int64")
    else:  # one-hot of width 1: label mixing ops without num_classes accept it
        batch_labels = np.ones((count, 1), "float32")
    columns = [(images, batch_labels)]
    for step in range(repeats):
        if policy is None:
            columns.append((images, batch_labels))
            continue
        out, out_labels = policy(images, batch_labels, step=step)
        columns.append((np.asarray(out), np.asarray(out_labels)))

    low, high = (0.0, 255.0) if images.dtype == np.uint8 else (images.min(), images.max())
    figure = Figure(figsize=(1.2 * (repeats + 1), 1.3 * count))
    axes = figure.subplots(count, repeats + 1, squeeze=False)
    for column, (batch, batch_labels_out) in enumerate(columns):
        shown = _to_display(batch, low, high)
        for row in range(count):
            ax = axes[row, column]
            image = shown[row]
            if image.ndim == 3 and image.shape[-1] == 1:
                image = image[..., 0]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if titled:
                ax.set_title(_label_text(batch_labels_out[row]), fontsize=7)
    for column in range(repeats + 1):
        axes[-1, column].set_xlabel("original" if column == 0 else f"draw {column}", fontsize=7)
    figure.suptitle(policy.to_spec() if policy is not None else "no augmentation", fontsize=8)
    figure.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    return path
