"""`build_vectorizer`: a TextVectorization adapted on training texts, and its export.

The layer lives inside the model, so an exported model takes raw text. Its
standardization, `strip_html_lower_punctuation`, is a registered Keras function: a
saved `.keras` file reloads it by name once this module is imported. `save_vocabulary`
writes what `kerasopt.text.tokenizer.TextTokenizer` needs to reproduce the layer
without TensorFlow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kerasopt.core.atomic import write_text_atomic
from kerasopt.core.errors import InvalidValueError
from kerasopt.text.tokenizer import (
    CONFIG_FILE,
    HTML_TAG_PATTERN,
    LINE_BREAK_PATTERN,
    NUL_PATTERN,
    OUTPUT_MODES,
    PUNCTUATION_PATTERN,
    STANDARDIZE_NAME,
    VOCAB_FILE,
    ngram_widths,
)

#: Version of the `tokenizer.json` layout.
TOKENIZER_FORMAT = "kerasopt.text.tokenizer/1"


@keras.saving.register_keras_serializable(package="kerasopt")
def strip_html_lower_punctuation(inputs):
    """Replaces HTML tags with a space, lowercases ASCII, strips NUL and ASCII punctuation.

    Keras' default `"lower_and_strip_punctuation"` plus three steps. IMDB reviews break
    lines with `<br /><br />`, which the default would turn into the token `br`. NUL is
    removed and the Unicode line breaks `str.splitlines()` knows (`\\x1c-\\x1e`, `\\x85`,
    `\\u2028`, `\\u2029`) become a space, because a token holding them does not survive
    the vocabulary files (`get_vocabulary()` drops trailing NULs; Keras reloads a `.keras`
    vocabulary with `splitlines()`). `tf.strings.lower` lowercases ASCII only (`"ÉCOLE"`
    becomes `"École"`).

    Args:
        inputs: A string tensor of any shape.

    Example:

    >>> strip_html_lower_punctuation(tf.constant(["Great!<br />Fun"])).numpy()
    array([b'great fun'], dtype=object)
    """
    inputs = tf.strings.regex_replace(inputs, HTML_TAG_PATTERN, " ")
    inputs = tf.strings.lower(inputs)
    inputs = tf.strings.regex_replace(inputs, NUL_PATTERN, "")
    inputs = tf.strings.regex_replace(inputs, LINE_BREAK_PATTERN, " ")
    return tf.strings.regex_replace(inputs, PUNCTUATION_PATTERN, "")


def build_vectorizer(
    texts: Sequence[str] | np.ndarray,
    max_tokens: int = 20000,
    sequence_length: int | None = 200,
    ngrams: int | tuple[int, ...] | None = None,
    output_mode: str = "int",
) -> keras.layers.TextVectorization:
    """A `TextVectorization` layer adapted on `texts` (pass the training split only).

    The vocabulary holds the `max_tokens` most frequent tokens (ties broken by the
    tokens' order, high to low), special tokens included: `""` (padding, id 0) and
    `[UNK]` (id 1) in `"int"` mode, `[UNK]` (index 0) in `"tf_idf"` mode.

    Args:
        texts: Raw training texts.
        max_tokens: Vocabulary size cap, special tokens included. Defaults to `20000`.
        sequence_length: Ids per text in `"int"` mode (truncated, then padded with 0 at
            the end); ignored in `"tf_idf"` mode. `None` pads to the longest text of a
            batch. Defaults to `200`.
        ngrams: `None` (unigrams), an int `n` (all widths 1..n: every unigram, then
            every bigram, ...) or a tuple of widths. Defaults to `None`.
        output_mode: `"int"` (ids for an Embedding) or `"tf_idf"` (one weight per
            vocabulary entry). Defaults to `"int"`.

    Example:

    >>> vectorizer = build_vectorizer(["A good film", "A bad film"], sequence_length=4)
    >>> vectorizer(["good film!"]).shape
    TensorShape([1, 4])
    """
    if output_mode not in OUTPUT_MODES:
        raise InvalidValueError(
            f"build_vectorizer supports output_mode in {list(OUTPUT_MODES)}. Received: "
            f"output_mode={output_mode!r}."
        )
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 3:
        raise InvalidValueError(
            "max_tokens counts the special tokens too and must be an int >= 3. Received: "
            f"max_tokens={max_tokens!r}."
        )
    if sequence_length is not None and (
        isinstance(sequence_length, bool)
        or not isinstance(sequence_length, int)
        or sequence_length < 1
    ):
        raise InvalidValueError(
            f"sequence_length must be a positive int or None. Received: "
            f"sequence_length={sequence_length!r}."
        )
    ngram_widths(ngrams)  # Validates; TextVectorization's own message hides the value.
    texts = np.asarray(texts, dtype=object).reshape(-1)
    if texts.size == 0 or not all(isinstance(t, str) for t in texts):
        raise InvalidValueError(
            f"build_vectorizer needs a non-empty sequence of str (the training texts). "
            f"Received: {texts.size} items of types {sorted({type(t).__name__ for t in texts})}."
        )
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=strip_html_lower_punctuation,
        split="whitespace",
        ngrams=tuple(ngrams) if isinstance(ngrams, list) else ngrams,
        output_mode=output_mode,
        output_sequence_length=sequence_length if output_mode == "int" else None,
    )
    vectorizer.adapt(tf.constant(list(texts), dtype=tf.string))
    return vectorizer


def save_vocabulary(vectorizer: keras.layers.TextVectorization, folder: str | os.PathLike) -> dict:
    """Writes `vocab.txt` and `tokenizer.json` for `TextTokenizer.from_folder`.

    `vocab.txt` holds `get_vocabulary()` one token per line (in `"int"` mode the first
    line is the empty padding token). `tokenizer.json` holds the settings, and in
    `"tf_idf"` mode the idf weights.

    Args:
        vectorizer: A layer made by `build_vectorizer`.
        folder: Destination folder, created if needed.

    Returns:
        The dict written to `tokenizer.json`.

    Example:

    >>> vectorizer = build_vectorizer(["A good film", "A bad film"])
    >>> config = save_vocabulary(vectorizer, "saved_models/imdb")  # doctest: +SKIP
    """
    layer_config = vectorizer.get_config()
    standardize = layer_config["standardize"]
    if getattr(standardize, "__name__", standardize) != STANDARDIZE_NAME:
        raise InvalidValueError(
            "save_vocabulary exports layers made by build_vectorizer (standardize="
            f"{STANDARDIZE_NAME}). Received: standardize={standardize!r}."
        )
    if layer_config["split"] != "whitespace":
        raise InvalidValueError(
            f"save_vocabulary exports split='whitespace'. Received: {layer_config['split']!r}."
        )
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    ngrams = layer_config["ngrams"]
    config = {
        "format": TOKENIZER_FORMAT,
        "standardize": STANDARDIZE_NAME,
        "split": "whitespace",
        "ngrams": list(ngrams) if isinstance(ngrams, (list, tuple)) else ngrams,
        "output_mode": layer_config["output_mode"],
        "max_tokens": layer_config["max_tokens"],
        "sequence_length": layer_config["output_sequence_length"],
        "vocabulary_size": len(vocabulary),
    }
    if config["output_mode"] == "tf_idf":
        # TextVectorization has no public getter for adapted idf weights (get_config
        # holds only weights passed in), so read them from its StringLookup.
        weights = vectorizer._lookup_layer.idf_weights.numpy().astype("float32")
        # float32 -> float: the JSON decimal round-trips to the same float32.
        config["idf_weights"] = [float(w) for w in weights[: len(vocabulary)]]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / VOCAB_FILE, "".join(f"{token}\n" for token in vocabulary))
    write_text_atomic(folder / CONFIG_FILE, json.dumps(config, indent=2, ensure_ascii=False))
    return config
