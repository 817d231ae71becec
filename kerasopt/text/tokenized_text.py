"""`tokenize_text_splits`: raw review splits -> token-id `DatasetSplits` for training."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from kerasopt.data.splits import DatasetSplits
from kerasopt.text.text_splits import TextSplits

WORD_INDEX_FILE = "imdb_word_index.json"


@dataclasses.dataclass
class TokenizedText:
    """Token ids of every split, the adapted vectorizer, and what models need from it.

    Args:
        texts: The raw `TextSplits`.
        ids: `DatasetSplits` whose `x_*` are int32 token ids (0 = padding, 1 = OOV).
        vectorizer: The `TextVectorization` adapted on the training texts only.
        vocab_size: Vocabulary size, padding and OOV included.
        idf_weights: Inverse document frequency per id (TextVectorization's formula,
            `log(1 + N / (1 + df))`) from the training ids, for the TF-IDF model.
    """

    texts: TextSplits
    ids: DatasetSplits
    vectorizer: object
    vocab_size: int
    idf_weights: np.ndarray


def idf_from_ids(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Inverse document frequency of every id, as TextVectorization computes it.

    Example:

    >>> import numpy as np
    >>> idf_from_ids(np.array([[2, 3, 0], [2, 2, 0]]), vocab_size=4).round(3)
    array([0.   , 0.   , 0.511, 0.693], dtype=float32)
    """
    documents = np.zeros(vocab_size, dtype="float64")
    for row in ids:
        present = np.unique(row)
        documents[present[present > 1]] += 1
    idf = np.log1p(len(ids) / (1.0 + documents))
    idf[:2] = 0.0  # padding and OOV carry no term weight
    return idf.astype("float32")


def tokenize_text_splits(
    texts: TextSplits,
    *,
    max_tokens: int = 20000,
    sequence_length: int = 200,
    ngrams: int | None = None,
) -> TokenizedText:
    """Adapts a vectorizer on the training texts and turns every split into token ids.

    Example:

    >>> from kerasopt.text import generate_reviews
    >>> from kerasopt.text.text_splits import carve_text_validation
    >>> texts, labels = generate_reviews(400)
    >>> splits = carve_text_validation("demo", texts[:300], labels[:300], texts[300:],
    ...                                labels[300:], split={})
    >>> tokenized = tokenize_text_splits(splits, max_tokens=2000, sequence_length=64)
    >>> tokenized.ids.x_train.shape[1]
    64
    """
    from kerasopt.text.vectorizer import build_vectorizer

    vectorizer = build_vectorizer(
        texts.texts_train, max_tokens=max_tokens, sequence_length=sequence_length, ngrams=ngrams
    )
    vocab_size = int(vectorizer.vocabulary_size())

    def encode(batch: np.ndarray) -> np.ndarray:
        chunks = [
            np.asarray(vectorizer(batch[start : start + 1024]), dtype="int32")
            for start in range(0, len(batch), 1024)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, sequence_length), "int32")

    ids = DatasetSplits(
        name=texts.name,
        x_train=encode(texts.texts_train),
        y_train=np.asarray(texts.y_train, dtype="int64"),
        x_val=encode(texts.texts_val),
        y_val=np.asarray(texts.y_val, dtype="int64"),
        x_test=encode(texts.texts_test),
        y_test=np.asarray(texts.y_test, dtype="int64"),
        num_classes=texts.num_classes,
        split={**texts.split, "tokens": f"max_tokens={max_tokens}, length={sequence_length}"},
    )
    return TokenizedText(texts, ids, vectorizer, vocab_size, idf_from_ids(ids.x_train, vocab_size))


def load_review_splits(data_path: str | os.PathLike | None = None, seed: int = 0) -> TextSplits:
    """IMDB reviews from an aclImdb folder, a `keras.datasets.imdb` `.npz`, or Keras' cache.

    A `.npz` is decoded to words with the `imdb_word_index.json` beside it when there is
    one (ids become `w{id}` tokens otherwise). Without `data_path`, Keras' cached (or
    downloaded) IMDB is used; offline, one line says how to pass a file.

    Example:

    >>> splits = load_review_splits("aclImdb")  # doctest: +SKIP
    """
    from kerasopt.text.aclimdb import load_aclimdb
    from kerasopt.text.imdb_files import load_imdb, load_imdb_npz, load_word_index
    from kerasopt.text.text_splits import text_splits_from_ids

    if data_path is not None and Path(data_path).is_dir():
        return load_aclimdb(data_path, seed=seed)
    if data_path is not None:
        path = Path(data_path)
        (x_train, y_train), (x_test, y_test) = load_imdb_npz(path)
        index_path = path.with_name(WORD_INDEX_FILE)
        word_index = load_word_index(index_path) if index_path.is_file() else None
        split = {"source": f"npz:{path.name}", "word_index": index_path.is_file()}
        return text_splits_from_ids(x_train, y_train, x_test, y_test, word_index, split=split)
    (x_train, y_train), (x_test, y_test) = load_imdb()
    try:
        word_index = load_word_index()
    except Exception:  # the word index is a second download; ids still train
        word_index = None
    split = {"source": "keras.datasets.imdb", "word_index": word_index is not None}
    return text_splits_from_ids(x_train, y_train, x_test, y_test, word_index, split=split)
