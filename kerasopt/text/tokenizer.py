"""`TextTokenizer`: the `build_vectorizer` TextVectorization, in pure Python.

A server or an app that feeds an exported text model needs the same token ids the
model was trained on, without TensorFlow. This module imports only the standard library
(it can be copied on its own next to `vocab.txt` and `tokenizer.json`) and replicates
TensorFlow bit for bit:

- HTML tags (`<br />`, `<i>`, `</p>`; a `<` followed by a letter, `/` or `!`, up to the
  next `>`) become a space: RE2 and Python's `re` agree on this pattern for any valid
  UTF-8 text.
- `tf.strings.lower` with its default `encoding=""` lowercases ASCII `A-Z` only:
  `"ÉCOLE"` becomes `"École"`, not `"école"`. So does `TextTokenizer`.
- Two additions keep every vocabulary file true to the layer. NUL characters are
  removed: `get_vocabulary()` returns numpy strings, which drop a token's trailing NULs.
  The Unicode line breaks that are not TF whitespace (`\\x1c`, `\\x1d`, `\\x1e`, `\\x85`,
  `\\u2028`, `\\u2029`) become a space: Keras reloads a `.keras` file's vocabulary with
  `str.splitlines()`, which would split such a token in two and shift every later id.
- Punctuation is Keras' default: the 32 ASCII characters of `string.punctuation` are
  removed; non-ASCII punctuation (`«`, `…`, emoji) stays part of the token.
- `tf.strings.split()` splits on runs of the six ASCII whitespace characters
  (space, `\\t`, `\\n`, `\\v`, `\\f`, `\\r`) only. Python's `str.split()` would also split
  on `\\x1c-\\x1f`, `\\x85`, NBSP and the other Unicode spaces, which TensorFlow keeps
  inside tokens.
- ngrams follow `tf.strings.ngrams`: all ngrams of the first width, then all of the
  next (`ngrams=2` gives every unigram, then every bigram), joined by one space; a text
  shorter than a width yields no ngram of that width.
- `"int"` mode: id 0 is padding, id 1 is `[UNK]` (out of vocabulary); ids are truncated
  to the first `sequence_length` (so with ngrams a long text loses its bigrams first,
  as in TensorFlow) and padded with 0 at the end.
- `"tf_idf"` mode: index 0 is `[UNK]` (there is no padding index); the output is
  `count * idf` rounded to float32, exactly the layer's float32 product.

The one input TensorFlow cannot take is a Python string that is not encodable as UTF-8
(a lone surrogate such as `"\\ud800"`): the layer raises, `TextTokenizer` tokenizes it.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from kerasopt.core.errors import InvalidTypeError, InvalidValueError, MissingFileError

#: File names written by `kerasopt.text.vectorizer.save_vocabulary`.
VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer.json"
#: The standardization `build_vectorizer` registers with Keras.
STANDARDIZE_NAME = "strip_html_lower_punctuation"
OUTPUT_MODES = ("int", "tf_idf")

#: HTML tags: a `<` followed by a letter, `/` or `!`, up to the next `>`.
HTML_TAG_PATTERN = r"<[a-zA-Z/!][^<>]*>"
#: Keras' default `strip_punctuation` pattern (`string.punctuation`), verbatim.
PUNCTUATION_PATTERN = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
#: NUL characters, removed (see the module docstring).
NUL_PATTERN = r"\x00"
#: Line breaks of `str.splitlines()` that TF does not split on; they become a space.
#: Literal characters, not escapes: RE2 has no `\u` escape.
LINE_BREAK_PATTERN = "[\x1c\x1d\x1e\x85\u2028\u2029]"
#: The whitespace `tf.strings.split()` splits on: ASCII space, \t, \n, \v, \f, \r.
WHITESPACE_PATTERN = r"[ \t\n\x0b\x0c\r]+"

_HTML_TAG = re.compile(HTML_TAG_PATTERN)
_NUL = re.compile(NUL_PATTERN)
_LINE_BREAK = re.compile(LINE_BREAK_PATTERN)
_PUNCTUATION = re.compile(PUNCTUATION_PATTERN)
_WHITESPACE = re.compile(WHITESPACE_PATTERN)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def standardize_text(text: str) -> str:
    """Strips HTML tags, lowercases ASCII, strips NUL and ASCII punctuation, like the layer.

    Example:

    >>> standardize_text("GREAT film!<br /><br />ÉCOLE")
    'great film  École'
    """
    text = _HTML_TAG.sub(" ", text)
    text = text.translate(_ASCII_LOWER)
    text = _NUL.sub("", text)
    text = _LINE_BREAK.sub(" ", text)
    return _PUNCTUATION.sub("", text)


def split_whitespace(text: str) -> list[str]:
    """Splits on runs of ASCII whitespace, as `tf.strings.split()` does."""
    return [token for token in _WHITESPACE.split(text) if token]


def make_ngrams(tokens: Sequence[str], widths: Sequence[int] | None) -> list[str]:
    """All ngrams of each width in turn, joined by a space (`tf.strings.ngrams`)."""
    if widths is None:
        return list(tokens)
    grams = []
    for width in widths:
        grams.extend(" ".join(tokens[i : i + width]) for i in range(len(tokens) - width + 1))
    return grams


def ngram_widths(ngrams: int | Sequence[int] | None) -> tuple[int, ...] | None:
    """The widths TextVectorization uses for its `ngrams` argument (`2` -> `(1, 2)`)."""
    if ngrams is None:
        return None
    if isinstance(ngrams, bool) or not isinstance(ngrams, (int, list, tuple)):
        raise InvalidValueError(
            f"ngrams must be None, a positive int or a tuple of positive ints. Received: "
            f"ngrams={ngrams!r}."
        )
    widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else tuple(ngrams)
    if not widths or not all(
        isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths
    ):
        raise InvalidValueError(
            f"ngrams must be None, a positive int or a tuple of positive ints. Received: "
            f"ngrams={ngrams!r}."
        )
    return widths


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


class TextTokenizer:
    """Turns raw text into the ids (or TF-IDF vector) of a `build_vectorizer` layer.

    Load it with `TextTokenizer.from_folder` from the `vocab.txt` and `tokenizer.json`
    that `save_vocabulary` writes. `encode` returns what the TextVectorization layer
    returns for one text: in `"int"` mode `sequence_length` ids (0 = padding,
    1 = `[UNK]`); in `"tf_idf"` mode one float per vocabulary entry (index 0 = `[UNK]`).

    Args:
        vocabulary: The layer's `get_vocabulary()`, special tokens included.
        sequence_length: Ids kept per text in `"int"` mode, or `None` for no padding or
            truncation. Defaults to `None`.
        ngrams: `None`, an int `n` (widths 1..n) or a tuple of widths. Defaults to
            `None`.
        output_mode: `"int"` or `"tf_idf"`. Defaults to `"int"`.
        idf_weights: One weight per vocabulary entry; required in `"tf_idf"` mode.
            Defaults to `None`.

    Example:

    >>> tokenizer = TextTokenizer.from_folder("saved_models/imdb")  # doctest: +SKIP
    >>> tokenizer.encode("Not good.<br /><br />Boring!")[:4]  # doctest: +SKIP
    [12, 7, 31, 0]
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        *,
        sequence_length: int | None = None,
        ngrams: int | Sequence[int] | None = None,
        output_mode: str = "int",
        idf_weights: Sequence[float] | None = None,
    ):
        if output_mode not in OUTPUT_MODES:
            raise InvalidValueError(
                f"TextTokenizer supports output_mode in {list(OUTPUT_MODES)}. Received: "
                f"output_mode={output_mode!r}."
            )
        self.vocabulary = [str(token) for token in vocabulary]
        self.output_mode = output_mode
        self.ngrams = ngrams
        self.widths = ngram_widths(ngrams)
        special = ["", "[UNK]"] if output_mode == "int" else ["[UNK]"]
        if self.vocabulary[: len(special)] != special:
            raise InvalidValueError(
                f"An {output_mode!r} vocabulary starts with {special}. Received: "
                f"{self.vocabulary[: len(special)]}. Pass the layer's get_vocabulary()."
            )
        self.oov_index = len(special) - 1
        self._index = {token: i for i, token in enumerate(self.vocabulary) if i >= len(special)}
        if sequence_length is not None and (
            output_mode != "int" or isinstance(sequence_length, bool) or sequence_length < 1
        ):
            raise InvalidValueError(
                "sequence_length must be a positive int in 'int' mode and None in "
                f"'tf_idf' mode. Received: sequence_length={sequence_length!r} with "
                f"output_mode={output_mode!r}."
            )
        self.sequence_length = sequence_length
        self.idf_weights = None
        if output_mode == "tf_idf":
            if idf_weights is None or len(idf_weights) != len(self.vocabulary):
                received = None if idf_weights is None else len(idf_weights)
                raise InvalidValueError(
                    f"'tf_idf' mode needs one idf weight per vocabulary entry "
                    f"({len(self.vocabulary)}). Received: {received} weights."
                )
            self.idf_weights = [_float32(float(w)) for w in idf_weights]

    @classmethod
    def from_folder(cls, folder: str | os.PathLike) -> TextTokenizer:
        """Reads `vocab.txt` and `tokenizer.json` written by `save_vocabulary`.

        Example:

        >>> tokenizer = TextTokenizer.from_folder("saved_models/imdb")  # doctest: +SKIP
        """
        folder = Path(folder)
        vocab_path, config_path = folder / VOCAB_FILE, folder / CONFIG_FILE
        for path in (vocab_path, config_path):
            if not path.is_file():
                raise MissingFileError(
                    f"No {path.name} in {str(folder)!r}. Expected the {VOCAB_FILE} and "
                    f"{CONFIG_FILE} that kerasopt.text.vectorizer.save_vocabulary writes."
                )
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("standardize") != STANDARDIZE_NAME or config.get("split") != "whitespace":
            raise InvalidValueError(
                f"{str(config_path)!r} describes standardize={config.get('standardize')!r}, "
                f"split={config.get('split')!r}; TextTokenizer replicates only "
                f"standardize={STANDARDIZE_NAME!r} with split='whitespace'."
            )
        # Split on "\n" only, never splitlines(), which also breaks on \x85 and \u2028.
        raw = vocab_path.read_bytes().decode("utf-8")
        vocabulary = raw.split("\n")
        if vocabulary and vocabulary[-1] == "":
            vocabulary.pop()
        if len(vocabulary) != config.get("vocabulary_size", len(vocabulary)):
            raise InvalidValueError(
                f"{str(vocab_path)!r} holds {len(vocabulary)} tokens but {CONFIG_FILE} "
                f"says vocabulary_size={config['vocabulary_size']}. Write both again with "
                "save_vocabulary."
            )
        ngrams = config.get("ngrams")
        return cls(
            vocabulary,
            sequence_length=config.get("sequence_length"),
            ngrams=tuple(ngrams) if isinstance(ngrams, list) else ngrams,
            output_mode=config.get("output_mode", "int"),
            idf_weights=config.get("idf_weights"),
        )

    @property
    def vocabulary_size(self) -> int:
        """Number of vocabulary entries, special tokens included."""
        return len(self.vocabulary)

    def tokenize(self, text: str) -> list[str]:
        """The tokens (ngrams included) the layer looks up for `text`."""
        if not isinstance(text, str):
            raise InvalidTypeError(f"TextTokenizer expects str. Received: {type(text).__name__}.")
        return make_ngrams(split_whitespace(standardize_text(text)), self.widths)

    def token_ids(self, text: str) -> list[int]:
        """Vocabulary index of every token of `text`, unpadded and untruncated."""
        return [self._index.get(token, self.oov_index) for token in self.tokenize(text)]

    def encode(self, text: str) -> list[int] | list[float]:
        """What the layer returns for `text`: padded ids, or a TF-IDF vector.

        Example:

        >>> tokenizer = TextTokenizer(["", "[UNK]", "good"], sequence_length=4)
        >>> tokenizer.encode("Good, GOOD... not good")
        [2, 2, 1, 2]
        """
        ids = self.token_ids(text)
        if self.output_mode == "tf_idf":
            counts = [0] * len(self.vocabulary)
            for i in ids:
                counts[i] += 1
            return [
                _float32(c * w) if c else 0.0 for c, w in zip(counts, self.idf_weights, strict=True)
            ]
        if self.sequence_length is None:
            return ids
        ids = ids[: self.sequence_length]
        return ids + [0] * (self.sequence_length - len(ids))

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]] | list[list[float]]:
        """`encode` for every text; without `sequence_length`, pads to the longest."""
        encoded = [self.encode(text) for text in texts]
        if self.output_mode == "int" and self.sequence_length is None and encoded:
            longest = max(len(ids) for ids in encoded)
            encoded = [ids + [0] * (longest - len(ids)) for ids in encoded]
        return encoded
