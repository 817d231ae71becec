"""`load_aclimdb`: Stanford's raw `aclImdb` folder as `TextSplits` of raw text.

The folder (https://ai.stanford.edu/~amaas/data/sentiment/) holds one review per
`<id>_<rating>.txt` file in `train/pos`, `train/neg`, `test/pos`, `test/neg`;
`train/unsup` (unlabeled reviews) is ignored. Files are read with
`keras.utils.text_dataset_from_directory` in its sorted order (no tf.data shuffle, whose
order would depend on TensorFlow's global seed), so a split depends only on `seed`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kerasopt.core.errors import InvalidValueError, MissingFileError
from kerasopt.data.splits import VALIDATION_FRACTION
from kerasopt.text.text_splits import TextSplits, carve_text_validation

CLASS_NAMES = ("neg", "pos")
PARTS = ("train", "test")
LAYOUT = "aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt"
_READ_BATCH = 256


def load_aclimdb(
    folder: str | os.PathLike,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = 0,
    max_reviews: int | None = None,
) -> TextSplits:
    """Loads an `aclImdb` folder; labels are 0 for `neg`, 1 for `pos`.

    Args:
        folder: The `aclImdb` folder (or the folder that contains it).
        validation_fraction: Stratified fraction of the training reviews held out for
            validation. Defaults to `0.1`.
        seed: Seed of the validation split and of the `max_reviews` subsets. Defaults to
            `0`.
        max_reviews: Keep a seeded random subset of at most this many reviews of each of
            `train` and `test` (before the validation split), for quick runs. Defaults to
            `None` (all).

    Returns:
        A `TextSplits` of raw review texts (HTML line breaks included).

    Example:

    >>> data = load_aclimdb("aclImdb", max_reviews=2000)  # doctest: +SKIP
    >>> data.describe()["sizes"]  # doctest: +SKIP
    {'train': 1800, 'val': 200, 'test': 2000}
    """
    if max_reviews is not None and (
        isinstance(max_reviews, bool) or not isinstance(max_reviews, int) or max_reviews < 2
    ):
        raise InvalidValueError(
            f"max_reviews must be None or an int >= 2. Received: max_reviews={max_reviews!r}."
        )
    root = _find_root(Path(folder))
    parts = {}
    for offset, part in enumerate(PARTS):
        texts, labels = _read_part(root / part)
        if max_reviews is not None and len(labels) > max_reviews:
            rng = np.random.default_rng(seed + offset)
            keep = np.sort(rng.permutation(len(labels))[:max_reviews])
            texts, labels = texts[keep], labels[keep]
        parts[part] = (texts, labels)
    split = {
        "source": f"aclImdb:{root.name}",
        "test": "the folder's test/ reviews"
        + (f" (random {max_reviews}, seed={seed + 1})" if max_reviews else ""),
    }
    if max_reviews:
        split["train"] = f"random {max_reviews} of train/ (seed={seed})"
    return carve_text_validation(
        "aclimdb",
        *parts["train"],
        *parts["test"],
        split=split,
        validation_fraction=validation_fraction,
        seed=seed,
    )


def _find_root(folder: Path) -> Path:
    if not (folder / "train").is_dir() and (folder / "aclImdb" / "train").is_dir():
        folder = folder / "aclImdb"
    for part in PARTS:
        for label in CLASS_NAMES:
            expected = folder / part / label
            if not expected.is_dir():
                raise MissingFileError(
                    f"No folder {str(expected)!r}. An aclImdb folder has the layout "
                    f"{LAYOUT} (train/unsup is ignored); pass the extracted aclImdb folder "
                    "from https://ai.stanford.edu/~amaas/data/sentiment/."
                )
    return folder


def _read_part(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    import keras

    try:
        dataset = keras.utils.text_dataset_from_directory(
            folder,
            labels="inferred",
            label_mode="int",
            class_names=list(CLASS_NAMES),
            batch_size=_READ_BATCH,
            shuffle=False,
            verbose=False,
        )
    except ValueError as error:
        raise MissingFileError(
            f"Could not read reviews from {str(folder)!r} ({error}). Expected the layout "
            f"{LAYOUT}, with at least one .txt file."
        ) from error
    texts, labels = [], []
    for batch_texts, batch_labels in dataset.as_numpy_iterator():
        # Real reviews are UTF-8; a stray bad byte becomes U+FFFD rather than a crash.
        texts.extend(t.decode("utf-8", errors="replace") for t in batch_texts)
        labels.extend(int(label) for label in batch_labels)
    array = np.empty(len(texts), dtype=object)
    array[:] = texts
    return array, np.asarray(labels, dtype="int64")
