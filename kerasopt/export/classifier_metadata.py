"""The metadata every classifier bundle shares: its class names and its output.

MediaPipe's classifiers read the class names from a `labels.txt` attached to the output
tensor (one name per line, in output order) and return them with each score. Image and
text bundles differ only in their input; `classifier_description` builds the rest.
"""

from __future__ import annotations

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.tflite_metadata import AssociatedFile, ModelDescription, TensorDescription

BUNDLE_FILE = "model.tflite"
LABELS_FILE = "labels.txt"


def check_class_names(class_names, num_classes: int, where: str) -> tuple[str, ...]:
    """One non-empty, single-line name per class; `"0"`, `"1"`, ... when none are given.

    Example:

    >>> check_class_names(None, 3, "bundle")
    ('0', '1', '2')
    """
    if class_names is None:
        return tuple(str(i) for i in range(num_classes))
    names = tuple(str(n).strip() for n in class_names)
    if len(names) != num_classes:
        raise InvalidValueError(
            f"{where}: {len(names)} class names for a model with {num_classes} outputs. "
            "Give one name per output, in output order (--labels FILE: one per line)."
        )
    bad = [n for n in names if not n or "\n" in n]
    if bad:
        raise InvalidValueError(
            f"{where}: class names must be non-empty single lines. Received: {bad}."
        )
    return names


def labels_text(names) -> str:
    """`labels.txt` as MediaPipe reads it: one name per line, in output order.

    Example:

    >>> labels_text(["cat", "dog"])
    'cat\\ndog\\n'
    """
    return "".join(f"{n}\n" for n in names)


def classifier_description(
    model_input: TensorDescription,
    class_names: tuple[str, ...],
    *,
    name: str,
    description: str,
    version: str,
    author: str,
    license: str,
) -> ModelDescription:
    """A classifier's metadata: `model_input`, and probabilities out with `labels.txt`.

    Example:

    >>> image = TensorDescription("image", "A camera frame.", "image")
    >>> classifier_description(image, ("cat", "dog"), name="pets", description="",
    ...                        version="1", author="me", license="MIT").files[0].name
    'labels.txt'
    """
    labels = AssociatedFile(
        LABELS_FILE,
        labels_text(class_names).encode("utf-8"),
        f"The {len(class_names)} class names, in the order of the output.",
    )
    output = TensorDescription(
        "probability",
        f"Probabilities of the {len(class_names)} classes, in the order of {LABELS_FILE}.",
        value_range=(0.0, 1.0),
        files=(labels,),
    )
    return ModelDescription(
        name=name,
        description=description,
        inputs=(model_input,),
        outputs=(output,),
        version=version,
        author=author,
        license=license,
    )
