"""Loaders for the `keras.datasets.imdb` format: `imdb.npz` and `imdb_word_index.json`.

`imdb.npz` stores reviews as ragged object arrays (Python lists of word ranks), which
numpy can only save as pickle streams. `load_imdb_npz` reads them with `read_npz_safely`
(`safe_npz.py`, a restricted unpickler that only rebuilds numpy arrays), then processes
the arrays exactly as
`keras.datasets.imdb.load_data` does (same shuffle, `start_char`, `index_from`,
`num_words`/`skip_top` and `maxlen` semantics).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kerasopt.core.errors import InvalidValueError, MissingFileError
from kerasopt.data.loaders import DatasetUnavailableError
from kerasopt.data.validation import InvalidDataError
from kerasopt.text.safe_npz import read_npz_safely

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
#: Token `decode_review` writes for `oov_char` and for ids missing from the word index.
UNKNOWN_TOKEN = "[UNK]"
DATA_HINT = (
    "pass --data PATH to an imdb.npz or an aclImdb folder, or use the offline scenario 'digits'"
)


def load_imdb_npz(
    path: str | os.PathLike,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    seed: int = 113,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Reads a local `imdb.npz` and returns what `keras.datasets.imdb.load_data` would.

    The processing copies Keras' code, quirks included: both splits are shuffled with
    one `np.random.RandomState(seed)`; `maxlen` keeps sequences with `len < maxlen`
    (counting `start_char`); with `num_words=None` the limit is the largest id, so that
    one id (the rarest word) becomes `oov_char`. One difference: `x_*` are always 1-D
    object arrays of lists, where Keras' `np.array(..., dtype="object")` would build a
    2-D array if every sequence had the same length.

    Args:
        path: The `.npz` (keys `x_train, y_train, x_test, y_test`, x as object arrays of
            lists of word ranks).
        num_words: Keep ids below this; others become `oov_char` (or are dropped when
            `oov_char=None`). Defaults to `None`.
        skip_top: Ids below this become `oov_char`. Defaults to `0`.
        maxlen: Drop sequences of `maxlen` ids or more. Defaults to `None`.
        start_char: Id prepended to every sequence, or `None`. Defaults to `1`.
        oov_char: Id of cut words, or `None` to drop them. Defaults to `2`.
        index_from: Added to every rank. Defaults to `3`.
        seed: Shuffle seed. Defaults to `113`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_imdb_npz("imdb.npz")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"No IMDB file at {str(path)!r}. Pass the imdb.npz that keras.datasets.imdb "
            "downloads (keys x_train, y_train, x_test, y_test), or an aclImdb folder to "
            "kerasopt.text.aclimdb.load_aclimdb."
        )
    arrays = read_npz_safely(path)
    missing = [k for k in NPZ_KEYS if k not in arrays]
    if missing:
        raise InvalidDataError(
            f"{str(path)!r} lacks the key(s) {missing}; it has {sorted(arrays)}. An IMDB "
            f".npz needs the keys {list(NPZ_KEYS)}."
        )
    x_train, labels_train = arrays["x_train"], arrays["y_train"]
    x_test, labels_test = arrays["x_test"], arrays["y_test"]
    for key in NPZ_KEYS:
        if arrays[key].ndim != 1 or len(arrays[key]) != len(arrays[f"y{key[1:]}"]):
            raise InvalidDataError(
                f"{str(path)!r}: {key} must be 1-D with one entry per label. Received: "
                f"{key}.shape={arrays[key].shape}, y{key[1:]}.shape="
                f"{arrays[f'y{key[1:]}'].shape}."
            )

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    prefix = [start_char] if start_char is not None else []
    x_train = [prefix + [int(w) + index_from for w in x] for x in x_train]
    x_test = [prefix + [int(w) + index_from for w in x] for x in x_test]

    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise InvalidValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                f"was kept in {'x_train' if not x_train else 'x_test'}. Increase maxlen."
            )

    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x, default=0) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]

    split = len(x_train)
    return (_object_array(xs[:split]), labels[:split]), (_object_array(xs[split:]), labels[split:])


def load_imdb(
    data_path: str | os.PathLike | None = None,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    seed: int = 113,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """IMDB ids from `data_path`, else from `keras.datasets.imdb` (cache or download).

    Args:
        data_path: A local `imdb.npz`, read with `load_imdb_npz`. Defaults to `None`.
        num_words: As in `load_imdb_npz`. Defaults to `None`.
        skip_top: As in `load_imdb_npz`. Defaults to `0`.
        maxlen: As in `load_imdb_npz`. Defaults to `None`.
        start_char: As in `load_imdb_npz`. Defaults to `1`.
        oov_char: As in `load_imdb_npz`. Defaults to `2`.
        index_from: As in `load_imdb_npz`. Defaults to `3`.
        seed: As in `load_imdb_npz`. Defaults to `113`.

    Raises:
        DatasetUnavailableError: No `data_path` and Keras could neither find the file in
            its cache nor download it.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_imdb("imdb.npz")  # doctest: +SKIP
    """
    kwargs = dict(
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
        seed=seed,
    )
    if data_path is not None:
        if Path(data_path).is_dir():
            raise InvalidValueError(
                f"{str(data_path)!r} is a folder; load_imdb reads an imdb.npz. Load an "
                "aclImdb folder with kerasopt.text.aclimdb.load_aclimdb."
            )
        return load_imdb_npz(data_path, **kwargs)
    import keras

    try:
        return keras.datasets.imdb.load_data(**kwargs)
    except Exception as error:  # urllib, http and hash errors all mean "not here".
        if isinstance(error, ValueError) and "maxlen" in str(error):
            raise  # The data is here; maxlen filtered every review out.
        raise DatasetUnavailableError(
            f"IMDB is not cached and could not be downloaded ({type(error).__name__}): {DATA_HINT}."
        ) from error


def load_word_index(path: str | os.PathLike | None = None) -> dict[str, int]:
    """Reads and validates a `{"word": rank}` JSON like Keras' `imdb_word_index.json`.

    Args:
        path: The JSON file, or `None` for `keras.datasets.imdb.get_word_index()`.
            Defaults to `None`.

    Example:

    >>> word_index = load_word_index("imdb_word_index.json")  # doctest: +SKIP
    >>> word_index["the"]  # doctest: +SKIP
    1
    """
    if path is None:
        import keras

        try:
            word_index = keras.datasets.imdb.get_word_index()
        except Exception as error:
            raise DatasetUnavailableError(
                "The IMDB word index is not cached and could not be downloaded "
                f"({type(error).__name__}): pass the path of an imdb_word_index.json."
            ) from error
        source = "keras.datasets.imdb.get_word_index()"
    else:
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(
                f"No word index at {str(path)!r}. Pass a JSON of {{word: rank}} like "
                "Keras' imdb_word_index.json."
            )
        try:
            word_index = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InvalidDataError(f"{str(path)!r} is not valid JSON: {error}.") from error
        source = str(path)
    if not isinstance(word_index, dict):
        raise InvalidDataError(
            f"{source!r} must hold a JSON object {{word: rank}}. Received: "
            f"{type(word_index).__name__}."
        )
    for word, rank in word_index.items():
        if not isinstance(word, str) or isinstance(rank, bool) or not isinstance(rank, int):
            raise InvalidDataError(
                f"{source!r}: every entry must map a str to an int rank. Received: "
                f"{word!r}: {rank!r}."
            )
        if rank < 1:
            raise InvalidDataError(
                f"{source!r}: ranks start at 1 (0 is padding). Received: {word!r}: {rank}."
            )
    return word_index


def decode_review(
    ids: Sequence[int],
    word_index: dict[str, int],
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> str:
    """Turns one id sequence back into space-separated words.

    Keras convention: id `i` is the word of rank `i - index_from`. Padding (id 0) and
    `start_char` are dropped; `oov_char`, and any id whose rank is not in the word index,
    becomes `"[UNK]"` (the TextVectorization spelling; after standardization it is the
    token `unk`), so the text keeps one word per position.

    Args:
        ids: One sequence, as `load_imdb_npz` returns it.
        word_index: `{"word": rank}`, ranks from 1.
        start_char: Id marking the start, dropped. Defaults to `1`.
        oov_char: Id of cut words, decoded as `"[UNK]"`. Defaults to `2`.
        index_from: Offset added to ranks. Defaults to `3`.

    Example:

    >>> decode_review([1, 4, 2, 5], {"the": 1, "film": 2})
    'the [UNK] film'
    """
    inverted = {rank: word for word, rank in word_index.items()}
    return decode_with_inverted(ids, inverted, start_char, oov_char, index_from)


def decode_with_inverted(
    ids: Sequence[int],
    inverted: dict[int, str],
    start_char: int | None,
    oov_char: int | None,
    index_from: int,
) -> str:
    """`decode_review` with a `{rank: word}` map inverted once for many reviews."""
    words = []
    for i in ids:
        i = int(i)
        if i == 0 or (start_char is not None and i == start_char):
            continue
        if oov_char is not None and i == oov_char:
            words.append(UNKNOWN_TOKEN)
        else:
            words.append(inverted.get(i - index_from, UNKNOWN_TOKEN))
    return " ".join(words)


def _remove_long_seq(maxlen, seqs, labels):
    # keras.src.utils.python_utils.remove_long_seq: keeps len(x) < maxlen.
    kept = [(x, y) for x, y in zip(seqs, labels, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def _object_array(sequences: list[list[int]]) -> np.ndarray:
    array = np.empty(len(sequences), dtype=object)
    array[:] = sequences
    return array
