"""The examples a model gets most wrong, as a ranked list and as an image grid."""

from __future__ import annotations

import math
import os

import numpy as np

from kerasopt.analysis._checks import check_class_names, check_labels, check_probabilities
from kerasopt.analysis.plots import _figure
from kerasopt.core.atomic import atomic_path
from kerasopt.core.validation import check_positive_int, invalid_value


def hardest_examples(probabilities, y_true, top: int = 16) -> list[dict]:
    """The `top` samples the model gets most wrong, hardest first.

    Hardness is the probability the model gives the true class, `p_true` (the
    per-sample cross-entropy is `-log p_true`). Misclassified samples always come first;
    within each group (misclassified, then correct) the lowest `p_true` comes first, so
    the list opens with the mistakes where the model gave the truth least credit, its
    most confident mistakes. Ties go to the higher top-1 confidence, then the lower
    index.

    Args:
        probabilities: Class probabilities, shape `(num_samples, num_classes)`, from
            Keras or LiteRT.
        y_true: Integer labels, shape `(num_samples,)`.
        top: How many samples to return (fewer if there are fewer). Defaults to `16`.

    Returns:
        A list of `{"index", "true", "predicted", "true_probability", "confidence",
        "correct"}`, where `confidence` is the top-1 (predicted-class) probability.

    Example:

    >>> import numpy as np
    >>> from kerasopt.analysis import hardest_examples
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    >>> [e["index"] for e in hardest_examples(p, [0, 0, 1])]
    [1, 2, 0]
    """
    caller = "hardest_examples"
    top = check_positive_int(caller, "top", top)
    p = check_probabilities(probabilities, caller)
    y = check_labels(y_true, caller, num_classes=p.shape[1], length=len(p))

    predicted = p.argmax(axis=1)
    true_probability = p[np.arange(len(p)), y]
    confidence = p.max(axis=1)
    correct = predicted == y
    # np.lexsort sorts by the last key first; the index key makes the order total.
    order = np.lexsort((np.arange(len(p)), -confidence, true_probability, correct))
    return [
        {
            "index": int(i),
            "true": int(y[i]),
            "predicted": int(predicted[i]),
            "true_probability": float(true_probability[i]),
            "confidence": float(confidence[i]),
            "correct": bool(correct[i]),
        }
        for i in order[:top]
    ]


def check_images(images, num_samples: int, caller: str = "plot_hardest_examples") -> np.ndarray:
    """`images` as an array of `num_samples` images, or a clear error."""
    array = np.asarray(images)
    image_like = array.ndim == 3 or (array.ndim == 4 and array.shape[-1] in (1, 3, 4))
    if not image_like or not np.issubdtype(array.dtype, np.number):
        raise invalid_value(
            caller,
            "images of shape (num_samples, height, width) or (num_samples, height, width, 1|3|4)",
            f"images.shape={array.shape}, dtype={array.dtype}",
            "Pass the raw test images, e.g. data.x_test.",
        )
    if len(array) != num_samples:
        raise invalid_value(
            caller,
            "one image per row of probabilities",
            f"len(images)={len(array)} and {num_samples} rows of probabilities",
            "Pass the images the probabilities were computed on.",
        )
    return array


def plot_hardest_examples(
    images,
    probabilities,
    y_true,
    path: str | os.PathLike,
    top: int = 16,
    class_names=None,
    title: str = "Hardest examples",
) -> list[dict]:
    """A PNG grid of the `top` hardest examples, each titled "true → predicted (p)".

    The order is that of `hardest_examples`; `p` is the probability of the predicted
    class. Mistakes are titled in red, correct predictions in green. Pixels are shown
    on one scale for the whole grid, so a faint digit looks faint.

    Args:
        images: The samples, shape `(num_samples, height, width)` or
            `(num_samples, height, width, channels)`, raw as the dataset stores them.
        probabilities: Class probabilities, shape `(num_samples, num_classes)`.
        y_true: Integer labels, shape `(num_samples,)`.
        path: Where to write the PNG (atomically).
        top: How many examples to show. Defaults to `16`.
        class_names: Names shown instead of class indices. Defaults to `None`.
        title: Figure title. Defaults to `"Hardest examples"`.

    Returns:
        The `hardest_examples` entries shown.

    Example:

    >>> from kerasopt.analysis import plot_hardest_examples
    >>> probabilities = model.predict(data.x_test)  # doctest: +SKIP
    >>> plot_hardest_examples(data.x_test, probabilities, data.y_test, "hard.png")  # doctest: +SKIP
    """
    examples = hardest_examples(probabilities, y_true, top=top)
    p = np.asarray(probabilities)
    pixels = check_images(images, len(p)).astype("float64")
    names = check_class_names(class_names, "plot_hardest_examples", p.shape[1])
    low, high = float(pixels.min()), float(pixels.max())
    scale = high - low if high > low else 1.0

    columns = min(len(examples), max(1, math.ceil(math.sqrt(len(examples)))))
    rows = math.ceil(len(examples) / columns)
    fig = _figure(1.7 * columns, 1.9 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, example in zip(axes, examples, strict=False):
        image = pixels[example["index"]]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.ndim == 2:
            ax.imshow(image, cmap="gray_r", vmin=low, vmax=high, interpolation="nearest")
        else:
            ax.imshow((image - low) / scale, interpolation="nearest")
        true, predicted = example["true"], example["predicted"]
        if names is not None:
            true, predicted = names[true], names[predicted]
        ax.set_title(
            f"{true} → {predicted} ({example['confidence']:.2f})",
            fontsize=8,
            color="tab:green" if example["correct"] else "tab:red",
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    return examples
