"""MediaPipe's `RegexTokenizer`, made to give TextVectorization's ids.

MediaPipe Tasks tokenizes in C++ before a text model runs: a `RegexTokenizer` splits the
raw text on a delimiter regex (RE2, no lowercasing, empty tokens dropped), looks every
token up exactly in a `token id` vocabulary file (`<UNKNOWN>` for a miss), pads with
`<PAD>` and truncates to the input's length. TextVectorization instead strips HTML tags,
lowercases ASCII and *removes* punctuation without splitting (`"don't"` -> `"dont"`).
`DELIMITER_PATTERN` and `surface_vocabulary` close that gap without retraining (see
`kerasopt.text.text_bundle`); `split_like_mediapipe` mirrors the C++ rules in Python, and
`tokenizer_agreement` measures what is left.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.text.tokenizer import (
    HTML_TAG_PATTERN,
    LINE_BREAK_PATTERN,
    PUNCTUATION_PATTERN,
    WHITESPACE_PATTERN,
    standardize_text,
)

PAD_TOKEN, UNKNOWN_TOKEN = "<PAD>", "<UNKNOWN>"

_SPACE = WHITESPACE_PATTERN[:-2] + LINE_BREAK_PATTERN[1:]  # one class: TF whitespace + breaks
_RUN = f"(?:{HTML_TAG_PATTERN}|{_SPACE}|{PUNCTUATION_PATTERN})*"
_SPLIT = f"(?:{HTML_TAG_PATTERN}|{_SPACE})"


def _delimiter(end_anchor: str) -> str:
    # Standardization strips tags before punctuation, so a `<` must never be read as
    # punctuation where a tag starts. Before the first space or tag, a `<` is taken only
    # when the next character cannot open a tag (the `<*` takes a run of them, the last
    # may open one); after it a tag is tried first at every step, with nothing left to
    # backtrack into.
    lead = PUNCTUATION_PATTERN.replace("<", "")
    safe = lead.replace("/", "").replace("!", "")
    item = f"(?:{lead}|<+{safe})"
    return f"{item}*<*{_SPLIT}{_RUN}|^{item}+|{PUNCTUATION_PATTERN}+{end_anchor}"


#: The delimiter written into the bundle (RE2 syntax; `$` is the end of the text).
DELIMITER_PATTERN = _delimiter("$")
# Python's `$` also matches before a final newline; `\Z` is RE2's `$`. Python's `^`
# matches at the text's start only, RE2's at the start of what is left after each
# delimiter; both agree because no delimiter match ends where `^` + punctuation could
# match again (each takes the punctuation run after it greedily).
_PYTHON_DELIMITER = re.compile(_delimiter(r"\Z"))
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def split_like_mediapipe(text: str) -> list[str]:
    """The tokens MediaPipe's `RegexTokenizer` cuts `text` into with `DELIMITER_PATTERN`.

    The C++ tokenizer reads the text as a C string, so a NUL ends it.

    Example:

    >>> split_like_mediapipe("Don't miss it!<br /><br />10/10.")
    ["Don't", 'miss', 'it', '10/10']
    """
    text = text.split("\x00", 1)[0]
    tokens, start = [], 0
    for match in _PYTHON_DELIMITER.finditer(text):
        if match.start() > start:
            tokens.append(text[start : match.start()])
        start = match.end()
    if start < len(text):
        tokens.append(text[start:])
    return tokens


def surface_vocabulary(
    vocabulary, train_texts=(), *, min_count: int = 2, case_variants: bool = True
) -> dict[str, int]:
    """Surface form -> id of its standardized form: what `vocab.txt` holds.

    Args:
        vocabulary: TextVectorization's `get_vocabulary()` (`""`, `"[UNK]"`, words).
        train_texts: Raw training texts whose surface forms are counted.
        min_count: Least occurrences of a surface form to be listed. Defaults to `2`.
        case_variants: List `Title` and `UPPER` of every word. Defaults to `True`.

    Example:

    >>> surface_vocabulary(["", "[UNK]", "dont"], ["Don't!", "Don't"])["Don't"]
    2
    """
    words = {w: i for i, w in enumerate(vocabulary) if i >= 2 and w and " " not in w}
    table = {PAD_TOKEN: 0, UNKNOWN_TOKEN: 1, **words}
    if case_variants:
        for word, i in words.items():
            for variant in (
                word[:1].translate(_ASCII_UPPER) + word[1:],
                word.translate(_ASCII_UPPER),
            ):
                table.setdefault(variant, i)
    counts = Counter(t for text in train_texts for t in split_like_mediapipe(str(text)))
    for token, count in counts.most_common():
        if count < min_count:
            break
        i = words.get(standardize_text(token))
        if i is not None:
            table.setdefault(token, i)
    return table


@dataclasses.dataclass(frozen=True)
class TokenizerAgreement:
    """How often the bundle's tokenizer gives TextVectorization's ids.

    Attributes:
        reviews: Share of texts whose padded id rows are equal.
        tokens: Share of positions, over those holding a token on either side, with
            equal ids.
        num_reviews: Texts compared.
        num_tokens: Positions compared.
    """

    reviews: float
    tokens: float
    num_reviews: int
    num_tokens: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def tokenizer_agreement(bundle, texts, reference) -> TokenizerAgreement:
    """Compares the bundle's tokenization of `texts` with TextVectorization's ids.

    Args:
        bundle: A `TextBundle` (anything with `encode(texts)` and `sequence_length`).
        texts: Raw texts.
        reference: The adapted `TextVectorization`, or its ids of `texts` `[N, length]`.

    Example:

    >>> tokenizer_agreement(bundle, texts_test, x_test_ids).reviews  # doctest: +SKIP
    0.998
    """
    texts = [str(t) for t in texts]
    if hasattr(reference, "get_vocabulary"):
        chunks = [np.asarray(reference(texts[i : i + 1024])) for i in range(0, len(texts), 1024)]
        reference = np.concatenate(chunks) if chunks else np.zeros((0, bundle.sequence_length))
    reference = np.asarray(reference)
    if reference.shape != (len(texts), bundle.sequence_length):
        raise InvalidValueError(
            f"tokenizer_agreement: reference ids must have shape ({len(texts)}, "
            f"{bundle.sequence_length}) (one row per text, the bundle's length). Received: "
            f"{reference.shape}. Pass the vectorizer's ids of the same texts."
        )
    ours = bundle.encode(texts)
    held = (ours != 0) | (reference != 0)
    same = ours == reference
    return TokenizerAgreement(
        reviews=float(np.mean(np.all(same, axis=1))) if len(texts) else 1.0,
        tokens=float(same[held].mean()) if held.any() else 1.0,
        num_reviews=len(texts),
        num_tokens=int(held.sum()),
    )
