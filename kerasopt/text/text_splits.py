"""`TextSplits`: raw train/validation/test texts of a text classification dataset.

Every text source (an `imdb.npz` of word ids, an aclImdb folder, the synthetic corpus)
becomes raw text here, so one pipeline serves them all: TextVectorization inside the
model, and the same exported tokenizer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.data.splits import (
    SPLIT_SEED,
    VALIDATION_FRACTION,
    split_off_validation,
    split_sizes,
)
from kerasopt.data.validation import InvalidDataError, check_arrays
from kerasopt.text.imdb_files import decode_with_inverted


@dataclasses.dataclass(frozen=True)
class TextSplits:
    """Train, validation and test texts (numpy object arrays of `str`) and int64 labels.

    Example:

    >>> from kerasopt.text.review_corpus import generate_reviews
    >>> texts, labels = generate_reviews(200)
    >>> data = carve_text_validation("reviews", texts[:150], labels[:150],
    ...                              texts[150:], labels[150:], split={"source": "synthetic"})
    >>> data.describe()["sizes"]
    {'train': 135, 'val': 15, 'test': 50}
    """

    name: str
    texts_train: np.ndarray
    y_train: np.ndarray
    texts_val: np.ndarray
    y_val: np.ndarray
    texts_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 2
    split: dict = dataclasses.field(default_factory=dict)

    def describe(self) -> dict:
        """The split spec and sizes, as stored in `report.json`."""
        return {
            "name": self.name,
            "input_shape": [],
            "input_dtype": "string",
            "num_classes": self.num_classes,
            "sizes": split_sizes(self),
            "split": self.split,
        }

    def check(self) -> None:
        """Checks that every split is non-empty, holds `str` and labels in range."""
        for part in ("train", "val", "test"):
            texts = np.asarray(getattr(self, f"texts_{part}"), dtype=object)
            if texts.ndim != 1:
                raise InvalidDataError(
                    f"texts_{part} must be a 1-D array of str. Received: shape {texts.shape}."
                )
            labels = np.asarray(getattr(self, f"y_{part}"))
            if texts.size == 0:
                raise InvalidDataError(
                    f"texts_{part} is empty. Every split needs at least one review; check "
                    "the path given with --data and max_reviews."
                )
            if labels.shape != texts.shape:
                raise InvalidDataError(
                    f"texts_{part} and y_{part} have different lengths: {len(texts)} texts "
                    f"and labels of shape {labels.shape}. Each text needs exactly one label."
                )
            bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
            if bad:
                raise InvalidDataError(
                    f"texts_{part} must hold str; item {bad[0]} is "
                    f"{type(texts[bad[0]]).__name__} ({len(bad)} non-str items). Decode "
                    "bytes with .decode('utf-8')."
                )
            check_arrays(texts, labels, num_classes=self.num_classes, input_shape=(), name=part)


def carve_text_validation(
    name: str,
    texts_train: Sequence[str] | np.ndarray,
    y_train: Sequence[int] | np.ndarray,
    texts_test: Sequence[str] | np.ndarray,
    y_test: Sequence[int] | np.ndarray,
    *,
    split: dict,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = SPLIT_SEED,
    num_classes: int = 2,
) -> TextSplits:
    """Splits a stratified validation set off the training texts and checks everything.

    Args:
        name: Dataset name.
        texts_train: Training texts; a `validation_fraction` of them becomes validation.
        y_train: Training labels.
        texts_test: Test texts.
        y_test: Test labels.
        split: Where the data came from, stored in `TextSplits.split`.
        validation_fraction: Passed to `train_test_split(test_size=...)`. Defaults to
            `0.1`.
        seed: `random_state` of the split. Defaults to `0`.
        num_classes: Number of classes. Defaults to `2`.

    Example:

    >>> data = carve_text_validation("tiny", ["good"] * 10 + ["bad"] * 10, [1] * 10 + [0] * 10,
    ...                              ["good", "bad"], [1, 0], split={"source": "inline"})
    >>> len(data.texts_val)
    2
    """
    if not 0.0 < validation_fraction < 1.0:
        raise InvalidValueError(
            "validation_fraction must be in (0, 1). Received: "
            f"validation_fraction={validation_fraction!r}."
        )
    texts_train = _text_array(texts_train)
    texts_test = _text_array(texts_test)
    y_train = np.asarray(y_train).reshape(-1).astype("int64")
    y_test = np.asarray(y_test).reshape(-1).astype("int64")
    check_arrays(texts_train, y_train, num_classes=num_classes, input_shape=(), name="train")
    texts_tr, texts_val, y_tr, y_val, how = split_off_validation(
        texts_train, y_train, validation_fraction, seed
    )
    spec = {**split, "validation": how}
    data = TextSplits(
        name=name,
        texts_train=texts_tr,
        y_train=y_tr,
        texts_val=texts_val,
        y_val=y_val,
        texts_test=texts_test,
        y_test=y_test,
        num_classes=num_classes,
        split=spec,
    )
    data.check()
    return data


def text_splits_from_ids(
    x_train: Sequence[Sequence[int]],
    y_train: Sequence[int] | np.ndarray,
    x_test: Sequence[Sequence[int]],
    y_test: Sequence[int] | np.ndarray,
    word_index: dict[str, int] | None = None,
    *,
    name: str = "imdb",
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    split: dict | None = None,
) -> TextSplits:
    """Turns `keras.datasets.imdb`-style id sequences into `TextSplits` of raw text.

    With a `word_index`, each review is decoded with `decode_review` (padding and
    `start_char` dropped, `oov_char` and unknown ids become `[UNK]`). Without one, each
    word id `i` becomes the token `f"w{i}"` (special ids handled the same way): the
    model then learns from the exact same id information, but through the same
    text pipeline (TextVectorization, exported tokenizer) as every other text source,
    so nothing downstream needs an "ids" special case.

    Args:
        x_train: Training id sequences, as `load_imdb_npz` returns them.
        y_train: Training labels (0/1).
        x_test: Test id sequences.
        y_test: Test labels.
        word_index: `{"word": rank}` (as in `imdb_word_index.json`), or `None` for
            `w{i}` tokens. Defaults to `None`.
        name: Dataset name. Defaults to `"imdb"`.
        start_char: The start id used when loading. Defaults to `1`.
        oov_char: The out-of-vocabulary id used when loading. Defaults to `2`.
        index_from: The offset used when loading. Defaults to `3`.
        split: Extra split description (e.g. `{"source": "npz:imdb.npz"}`). Defaults to
            `None`.

    Example:

    >>> data = text_splits_from_ids([[1, 4, 5]] * 20, [0, 1] * 10, [[1, 5]] * 2, [0, 1])
    >>> data.texts_test[0]
    'w5'
    """

    inverted = None if word_index is None else {rank: w for w, rank in word_index.items()}

    def to_text(ids):
        if inverted is not None:
            return decode_with_inverted(ids, inverted, start_char, oov_char, index_from)
        return " ".join(_id_tokens(ids, start_char, oov_char))

    spec = {"source": "ids", **(split or {})}
    spec["text"] = (
        "decode_review(ids, word_index)" if word_index is not None else "id i -> token 'w{i}'"
    )
    return carve_text_validation(
        name,
        [to_text(ids) for ids in x_train],
        y_train,
        [to_text(ids) for ids in x_test],
        y_test,
        split=spec,
    )


def _id_tokens(ids, start_char, oov_char):
    for i in ids:
        i = int(i)
        if i == 0 or (start_char is not None and i == start_char):
            continue
        yield "[UNK]" if oov_char is not None and i == oov_char else f"w{i}"


def _text_array(texts) -> np.ndarray:
    # Object dtype: a fixed-width '<U' array pads every review to the longest one
    # (25k IMDB reviews x 13k characters x 4 bytes) and drops trailing NUL characters.
    array = np.empty(len(texts), dtype=object)
    array[:] = list(texts)
    return array
