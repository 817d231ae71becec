"""The few-shot task: which method, which classes, how many shots, and the model builder.

Everything here is checked before anything trains or is written, and costs no
TensorFlow import, so the command line refuses a bad task at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kerasopt.core.validation import check_option, check_positive_int, invalid_value
from kerasopt.data.splits import DatasetSplits
from kerasopt.strategies.fewshot_episodes import split_classes

#: The meta-learning methods `fewshot` knows.
FEWSHOT_METHODS = ("reptile",)
_OWNER = "fewshot"


def fewshot_builder(data: DatasetSplits) -> Callable[[int], Any]:
    """`build_model(num_classes)`: a small CNN without BatchNorm or dropout for `data`.

    No BatchNorm: models with it work (`TaskAdapter` gives them the support set's
    statistics), but it bought nothing here (digits, 5-way 1-shot: 0.605 with it, 0.607
    without); no dropout: a task has 5 images.
    """
    from kerasopt.models import build_cnn

    input_max = max(float(np.max(data.x_train)), 1.0)

    def build(num_classes: int):
        return build_cnn(
            data.input_shape,
            num_classes,
            input_max=input_max,
            filters=(32, 64),
            convs_per_block=1,
            dense_units=64,
            dropout=0.0,
            batch_norm=False,
            l2=0.0,
            name="fewshot_cnn",
        )

    return build


def check_fewshot(
    data: DatasetSplits,
    *,
    ways: int,
    shots: int,
    method: str = "reptile",
    meta_classes=None,
    test_classes=None,
    queries: int = 15,
    train_shots: int = 10,
) -> tuple[list[int], list[int]]:
    """Checks the task against `data`; returns `(meta_classes, test_classes)`.

    Raises before any work: an unknown method, too few classes for `ways` ways on both
    sides, or more `shots` (+ `queries`) than a held-out class has test (training) images.

    Example:

    >>> check_fewshot(load_dataset("digits"), ways=5, shots=1)  # doctest: +SKIP
    ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    """
    check_option(_OWNER, "method", method, FEWSHOT_METHODS)
    meta, test = split_classes(
        data.num_classes, ways, meta_classes, test_classes, dataset=repr(data.name)
    )
    shots = check_positive_int(_OWNER, "shots", shots, example=1)
    queries = check_positive_int(_OWNER, "queries", queries, example=15)
    train_shots = check_positive_int(_OWNER, "train_shots", train_shots, example=10)
    name = repr(data.name)
    _check_counts("shots", shots, queries, data.y_test, test, f"the test split of {name}")
    _check_counts("shots", shots, 0, data.y_train, test, f"the training split of {name}")
    _check_counts(
        "train_shots", train_shots, 0, data.y_train, meta, f"the training split of {name}"
    )
    return meta, test


def _check_counts(name, value, queries, y, classes, where):
    """`value + queries` images of every class in `classes` must exist in `y`."""
    counts = np.bincount(np.asarray(y), minlength=max(classes) + 1)[classes]
    fewest = int(np.argmin(counts))
    have = int(counts[fewest])
    if have < value + queries:
        with_queries = f" + queries ({queries})" if queries else ""
        most = have - queries
        raise invalid_value(
            _OWNER,
            f"{name}{with_queries} <= {have}, the images of class {classes[fewest]} in {where}",
            f"{name}={value}",
            f"Pass --{name.replace('_', '-')} {most} or fewer."
            if most >= 1
            else "Pass fewer --queries.",
        )
