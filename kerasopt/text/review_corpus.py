"""A synthetic movie-review corpus, and writers for the two real IMDB file formats.

`generate_reviews` makes reviews that look like IMDB's where it matters to a text
pipeline: HTML line breaks (`<br /><br />`), punctuation runs, mixed case, digits,
accents and emoji. The sentiment is learnable but not trivial: reviews mix opinions,
negations flip them ("not good"), filler carries no signal and a few labels are wrong,
so a bag-of-words model lands near 80-90 % accuracy, not 100 %.

`write_aclimdb` and `write_imdb_npz` store such a corpus exactly like Stanford's
`aclImdb` folder and Keras' `imdb.npz`, so loaders, tests and notebooks run offline.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from kerasopt.core.atomic import atomic_path, write_text_atomic
from kerasopt.core.errors import InvalidValueError
from kerasopt.text.tokenizer import split_whitespace, standardize_text

POSITIVE = (
    "good", "great", "excellent", "wonderful", "brilliant", "superb", "enjoyable",
    "moving", "charming", "delightful", "touching", "fantastic", "memorable", "clever",
)  # fmt: skip
NEGATIVE = (
    "bad", "awful", "terrible", "boring", "dull", "poor", "weak", "predictable",
    "disappointing", "mediocre", "horrible", "tedious", "clumsy", "forgettable",
)  # fmt: skip
ASPECTS = (
    "acting", "plot", "script", "soundtrack", "cast", "ending", "dialogue", "pacing",
    "cinematography", "direction", "story", "score",
)  # fmt: skip
FILMS = ("film", "movie", "picture", "flick", "sequel", "remake")
NAMES = (
    "Amélie Poulain", "Jürgen Müller", "Björk", "François Truffaut", "Zoë Kravitz",
    "Renée Zellweger", "Penélope Cruz", "John Smith", "Mary Jones", "Søren Kierkegaard",
)  # fmt: skip
PLACES = ("Zürich", "Montréal", "São Paulo", "Kraków", "Chicago", "the Café Lumière")
INTENSIFIERS = ("", "", "really ", "very ", "truly ", "quite ", "extremely ", "so ")
NEGATIONS = ("not", "never", "hardly", "not at all", "far from")
FILLERS = (
    "I saw this {film} in {year} with my {person}.",
    "The {film} runs {minutes} minutes.",
    "{name} plays the lead, and {name2} directs.",
    "It was shown at a festival in {place}.",
    "The story follows a {job} in {place}.",
    "My friend {name} recommended it 🍿",
    "I watched it on DVD (region {digit}) last week.",
    "There are {digit} main characters and a dog.",
    "It is based on a novel from {year}.",
    "Part {digit} of the series came out in {year}.",
)  # fmt: skip
OPINIONS = (
    "The {aspect} was {intens}{word}.",
    "I found the {aspect} {intens}{word}.",
    "What a {word} {film}!",
    "Overall, {intens}{word}...",
    "The {aspect}? {word_caps}!!!",
    "{name} is {intens}{word} in it.",
    "A {word}, {word2} {film}.",
)  # fmt: skip
NEGATED = (
    "The {aspect} was {neg} {word}.",
    "It is {neg} what I would call {word}.",
    "Honestly, the {aspect} is {neg} {word}.",
    "This {film} was {neg} {word}, trust me.",
)  # fmt: skip
EMOJI = {1: ("😀", "👍", "❤️"), 0: ("😡", "👎", "💤")}
PERSONS = ("wife", "husband", "kids", "parents", "friends", "brother", "sister")
JOBS = ("detective", "teacher", "soldier", "chef", "pilot", "student", "nurse")

# Chosen so a bag-of-words logistic regression on held-out reviews scores about 80 %
# trained on 300 reviews, 86-89 % on 1500 and 87-90 % on 5000 (bigrams help: negations).
OPINION_PROBABILITY = 0.8
CONSISTENT_PROBABILITY = 0.9
NEGATION_PROBABILITY = 0.2
LABEL_NOISE = 0.04
#: Sentences per review: integers in [low, high).
SENTENCES = (4, 10)


def generate_reviews(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Generates `n` synthetic movie reviews and their labels (0 negative, 1 positive).

    Args:
        n: Number of reviews.
        seed: Seed of the generator; the same seed gives the same corpus. Defaults to `0`.

    Returns:
        `(texts, labels)`: a list of `str` and an int64 array of 0/1.

    Example:

    >>> texts, labels = generate_reviews(4, seed=1)
    >>> len(texts), labels.dtype
    (4, dtype('int64'))
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InvalidValueError(f"n must be a non-negative int. Received: n={n!r}.")
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(int(n)):
        sentiment = int(rng.integers(2))
        texts.append(_review(rng, sentiment))
        noisy = rng.random() < LABEL_NOISE
        labels.append(1 - sentiment if noisy else sentiment)
    return texts, np.asarray(labels, dtype="int64")


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _sentence(rng: np.random.Generator, sentiment: int) -> str:
    fields = {
        "film": _pick(rng, FILMS),
        "aspect": _pick(rng, ASPECTS),
        "intens": _pick(rng, INTENSIFIERS),
        "name": _pick(rng, NAMES),
        "name2": _pick(rng, NAMES),
        "place": _pick(rng, PLACES),
        "year": str(int(rng.integers(1950, 2024))),
        "minutes": str(int(rng.integers(80, 200))),
        "digit": str(int(rng.integers(1, 10))),
        "person": _pick(rng, PERSONS),
        "job": _pick(rng, JOBS),
    }
    if rng.random() >= OPINION_PROBABILITY:
        return _pick(rng, FILLERS).format(**fields)
    polarity = sentiment if rng.random() < CONSISTENT_PROBABILITY else 1 - sentiment
    if rng.random() < NEGATION_PROBABILITY:
        # "not bad" leans positive: a negated word of the opposite polarity.
        word = _pick(rng, NEGATIVE if polarity else POSITIVE)
        return _pick(rng, NEGATED).format(neg=_pick(rng, NEGATIONS), word=word, **fields)
    words = POSITIVE if polarity else NEGATIVE
    word, word2 = _pick(rng, words), _pick(rng, words)
    sentence = _pick(rng, OPINIONS).format(word=word, word2=word2, word_caps=word.upper(), **fields)
    if rng.random() < 0.15:
        sentence += " " + _pick(rng, EMOJI[polarity])
    return sentence


def _review(rng: np.random.Generator, sentiment: int) -> str:
    sentences = [_sentence(rng, sentiment) for _ in range(int(rng.integers(*SENTENCES)))]
    if rng.random() < 0.2:
        rating = int(rng.integers(7, 11) if sentiment else rng.integers(1, 5))
        sentences.append(f"{rating}/10.")
    if rng.random() < 0.1:
        sentences.insert(0, "SPOILERS AHEAD - ÉPOUSTOUFLANT or not, you decide.")
    sentences[0] = sentences[0][0].upper() + sentences[0][1:]
    paragraphs, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if rng.random() < 0.25:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "<br /><br />".join(paragraphs)


def write_aclimdb(
    folder: str | os.PathLike, n_train: int, n_test: int, seed: int = 0, n_unsup: int = 0
) -> Path:
    """Writes a synthetic corpus in the layout of Stanford's `aclImdb` folder.

    `train/pos`, `train/neg`, `test/pos`, `test/neg` hold one review per
    `<id>_<rating>.txt` file (ids from 0 within each folder, ratings 7-10 for positive
    and 1-4 for negative reviews). With `n_unsup`, `train/unsup` gets unlabeled
    `<id>_0.txt` reviews, as in the real folder.

    Args:
        folder: The `aclImdb` folder to create.
        n_train: Number of training reviews.
        n_test: Number of test reviews.
        seed: Corpus seed; the test part uses `seed + 1`. Defaults to `0`.
        n_unsup: Number of unlabeled reviews in `train/unsup`. Defaults to `0`.

    Returns:
        The folder.

    Example:

    >>> write_aclimdb("/tmp/aclImdb", n_train=200, n_test=100)  # doctest: +SKIP
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    for part, n, part_seed in (("train", n_train, seed), ("test", n_test, seed + 1)):
        texts, labels = generate_reviews(n, part_seed)
        counters = {0: 0, 1: 0}
        for label in ("neg", "pos"):
            (folder / part / label).mkdir(parents=True, exist_ok=True)
        for text, label in zip(texts, labels, strict=True):
            rating = int(rng.integers(7, 11) if label else rng.integers(1, 5))
            sub = "pos" if label else "neg"
            name = f"{counters[int(label)]}_{rating}.txt"
            counters[int(label)] += 1
            (folder / part / sub / name).write_text(text, encoding="utf-8")
    if n_unsup:
        (folder / "train" / "unsup").mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(generate_reviews(n_unsup, seed + 2)[0]):
            (folder / "train" / "unsup" / f"{i}_0.txt").write_text(text, encoding="utf-8")
    return folder


def write_imdb_npz(
    path: str | os.PathLike,
    n_train: int,
    n_test: int,
    seed: int = 0,
    word_index_path: str | os.PathLike | None = None,
) -> dict:
    """Writes a synthetic corpus in the exact format of Keras' `imdb.npz`.

    Words are the tokens of `kerasopt.text.tokenizer.standardize_text`, ranked from 1
    by frequency in the training reviews (ties in alphabetical order). `x_train` and
    `x_test` are 1-D object arrays of Python lists of ranks, with no offset applied
    (`load_data` adds `index_from` and `start_char`); test words unseen in training are
    skipped, as in Keras' file. `y_*` are int64. The optional word index is the
    `{"word": rank}` JSON of `imdb_word_index.json`.

    Args:
        path: The `.npz` to write.
        n_train: Number of training reviews.
        n_test: Number of test reviews.
        seed: Corpus seed; the test part uses `seed + 1`. Defaults to `0`.
        word_index_path: Where to write the word index JSON, or `None`. Defaults to
            `None`.

    Returns:
        A dict with the written arrays (`x_train`, `y_train`, `x_test`, `y_test`), the
        `word_index` and the source texts (`texts_train`, `texts_test`).

    Example:

    >>> files = write_imdb_npz("/tmp/imdb.npz", 200, 100)  # doctest: +SKIP
    """
    texts_train, y_train = generate_reviews(n_train, seed)
    texts_test, y_test = generate_reviews(n_test, seed + 1)
    tokens_train = [split_whitespace(standardize_text(t)) for t in texts_train]
    tokens_test = [split_whitespace(standardize_text(t)) for t in texts_test]
    counts = Counter(token for tokens in tokens_train for token in tokens)
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    word_index = {word: rank for rank, word in enumerate(ranked, start=1)}

    def to_ids(tokens_list):
        array = np.empty(len(tokens_list), dtype=object)
        array[:] = [[word_index[t] for t in tokens if t in word_index] for tokens in tokens_list]
        return array

    arrays = {
        "x_train": to_ids(tokens_train),
        "y_train": y_train.astype("int64"),
        "x_test": to_ids(tokens_test),
        "y_test": y_test.astype("int64"),
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:  # A file object: np.savez would append ".npz" to a name.
            np.savez(f, **arrays)
    if word_index_path is not None:
        write_text_atomic(word_index_path, json.dumps(word_index, ensure_ascii=False))
    return {
        **arrays,
        "word_index": word_index,
        "texts_train": texts_train,
        "texts_test": texts_test,
    }
