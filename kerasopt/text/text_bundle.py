"""`build_text_bundle`: a `.tflite` that MediaPipe's `TextClassifier` takes raw text into.

MediaPipe Tasks tokenizes in C++ before the model runs, with a regex tokenizer and a
vocabulary file the bundle carries (`kerasopt.text.mediapipe_tokenizer` mirrors its rules).
TextVectorization standardizes first: it strips HTML tags, lowercases ASCII and *removes*
punctuation without splitting (`"don't"` -> `"dont"`).

The bundle closes the gap without retraining:

- The delimiter is a run of whitespace, line breaks and HTML tags together with the
  punctuation around them, or punctuation at the very start or end of the text. Edge
  punctuation (`"great!"`, `"(region"`) thus goes with the delimiter, as standardization
  drops it; punctuation *inside* a token (`"don't"`, `"10/10"`) stays in the token.
- The vocabulary file maps surface forms to the id of their standardized form: every
  vocabulary word, its `Title` and `UPPER` ASCII case variants, and the tokens seen in
  the training texts at least `min_count` times (`"Don't"`, `"10/10"`). Many lines may
  share an id. A surface form it lacks reads as `<UNKNOWN>` (id 1), which is what
  TextVectorization gives whenever the standardized form is out of vocabulary too.

A vectorizer with `ngrams=2` (the `tfidf` model reads every unigram id, then every bigram
id) gets the same unigram input: the regex tokenizer yields unigrams only, so the bundle
puts `kerasopt.text.bigram_lookup.BigramLookup` before the model, which appends the bigram
ids in the graph (int32 TFLite builtins, a hash table of the vocabulary's bigrams) and
truncates as TextVectorization does. MediaPipe's `max_seq_len` is the model's length: the
unigrams TextVectorization keeps never outnumber it. Wider ngrams are refused.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kerasopt.core.atomic import write_bytes_atomic, write_text_atomic
from kerasopt.core.errors import InvalidValueError
from kerasopt.export.classifier_metadata import (
    BUNDLE_FILE,
    LABELS_FILE,
    check_class_names,
    classifier_description,
    labels_text,
)
from kerasopt.export.flex_ops_check import FlexOpsError
from kerasopt.text.mediapipe_tokenizer import (
    DELIMITER_PATTERN,
    PAD_TOKEN,
    UNKNOWN_TOKEN,
    split_like_mediapipe,
    surface_vocabulary,
)
from kerasopt.text.tokenizer import VOCAB_FILE, ngram_widths

#: Largest uni+bigram vocabulary whose bigram keys fit int32 (`BigramLookup`'s limit).
MAX_BIGRAM_VOCAB_SIZE = math.isqrt(2**31)

SENTIMENT_NAMES = ("negative", "positive")


@dataclasses.dataclass(frozen=True)
class TextBundle:
    """A phone-ready text classifier: the `.tflite` bytes and its tokenizer files.

    Attributes:
        content: The `.tflite` file: int32 ids in, int8 (or dynamic-range) inside, float32
            probabilities out, metadata with the regex tokenizer, `vocab.txt` and
            `labels.txt` packed.
        class_names: The labels, in output order.
        delimiter_pattern: The regex tokenizer's delimiter (RE2).
        vocabulary_file: `vocab.txt`: `token id` lines, surface forms included.
        sequence_length: Ids per text (MediaPipe's `max_seq_len`).
        mode: `"int8"` or `"dynamic"`.
        bigrams: `{(first_id, second_id): bigram_id}` when the graph appends bigram ids
            (an `ngrams=2` model), else `None`.
    """

    content: bytes
    class_names: tuple[str, ...]
    delimiter_pattern: str
    vocabulary_file: bytes
    sequence_length: int
    mode: str
    bigrams: Mapping[tuple[int, int], int] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    @functools.cached_property
    def surface_ids(self) -> dict[str, int]:
        """`vocab.txt` as MediaPipe reads it: token -> id."""
        lines = self.vocabulary_file.decode("utf-8").split("\n")
        return {t: int(i) for t, i in (line.split(" ") for line in lines if line)}

    def token_ids(self, text: str) -> list[int]:
        """The ids MediaPipe feeds the model for `text`, padded to `sequence_length`."""
        table = self.surface_ids
        unknown, pad = table.get(UNKNOWN_TOKEN, 0), table.get(PAD_TOKEN, 0)
        ids = [table.get(t, unknown) for t in split_like_mediapipe(text)][: self.sequence_length]
        return ids + [pad] * (self.sequence_length - len(ids))

    def encode(self, texts) -> np.ndarray:
        """`token_ids` of every text, `[N, sequence_length]` int32."""
        rows = [self.token_ids(str(t)) for t in texts]
        return np.asarray(rows, dtype="int32").reshape(-1, self.sequence_length)

    def model_ids(self, texts) -> np.ndarray:
        """The ids the model inside reads for `texts`: `encode`, then the graph's bigrams."""
        ids = self.encode(texts)
        if self.bigrams is None:
            return ids
        from kerasopt.text.bigram_lookup import append_bigram_ids  # loads Keras

        return append_bigram_ids(ids, self.bigrams)

    @property
    def model_tokenizer(self) -> _ModelIds:
        """`model_ids` as `encode`, for `tokenizer_agreement` with TextVectorization's ids."""
        return _ModelIds(self)

    def write(self, out_dir: str | Path) -> Path:
        """Writes `model.tflite`, `labels.txt` and `vocab.txt` into `out_dir` (atomically)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out_dir / LABELS_FILE, labels_text(self.class_names))
        write_bytes_atomic(out_dir / VOCAB_FILE, self.vocabulary_file)
        return write_bytes_atomic(out_dir / BUNDLE_FILE, self.content)


@dataclasses.dataclass(frozen=True)
class _ModelIds:
    bundle: TextBundle

    @property
    def sequence_length(self) -> int:
        return self.bundle.sequence_length

    def encode(self, texts) -> np.ndarray:
        return self.bundle.model_ids(texts)


def text_bundle_limit(vectorizer) -> str | None:
    """Why `build_text_bundle` cannot give a model `vectorizer`'s ids, or `None`.

    Unigram ids come from MediaPipe's regex tokenizer; `ngrams=2` ids from it and the
    bundle's `BigramLookup`. Other ngram widths and non-int output modes are refused.

    Args:
        vectorizer: The adapted `TextVectorization`, or its `get_vocabulary()` list (a
            list with `"a b"` entries reads as `ngrams=2`).

    Example:

    >>> text_bundle_limit(["", "[UNK]", "good", "film", "good film"]) is None
    True
    """
    config = vectorizer.get_config() if hasattr(vectorizer, "get_config") else {}
    if config.get("output_mode", "int") != "int":
        return (
            f"the vectorizer's output_mode is {config['output_mode']!r}; MediaPipe's regex "
            "tokenizer feeds token ids (output_mode='int')"
        )
    widths = _ngram_widths(vectorizer)
    if widths not in (None, (1,), (1, 2)):
        return (
            f"the model reads ngram ids of widths {widths} and the bundle appends bigram ids "
            "to MediaPipe's unigram ids only (ngrams=2); bundle a unigram or ngrams=2 model"
        )
    size = len(_vocabulary(vectorizer))
    if widths == (1, 2) and size > MAX_BIGRAM_VOCAB_SIZE:
        return (
            f"the bigram lookup keys bigrams in int32 and takes at most "
            f"{MAX_BIGRAM_VOCAB_SIZE} vocabulary entries; the vectorizer has {size}. Adapt it "
            f"with max_tokens <= {MAX_BIGRAM_VOCAB_SIZE}"
        )
    return None


def _vocabulary(vectorizer) -> list[str]:
    found = vectorizer.get_vocabulary() if hasattr(vectorizer, "get_vocabulary") else vectorizer
    return [str(w) for w in found]


def _ngram_widths(vectorizer) -> tuple[int, ...] | None:
    if hasattr(vectorizer, "get_config"):
        return ngram_widths(vectorizer.get_config().get("ngrams"))
    spaces = max((w.count(" ") for w in _vocabulary(vectorizer)), default=0)
    return tuple(range(1, spaces + 2)) if spaces else None


def build_text_bundle(
    model,
    vectorizer,
    train_texts,
    x_train_ids: np.ndarray,
    *,
    class_names=SENTIMENT_NAMES,
    name: str | None = None,
    description: str = "",
    mode: str | None = None,
    min_count: int = 2,
    case_variants: bool = True,
    num_calibration: int = 200,
    seed: int = 0,
    version: str = "1",
    author: str = "kerasopt",
    license: str = "Apache-2.0",
) -> TextBundle:
    """Converts a token-id text classifier to a MediaPipe `TextClassifier` bundle.

    A model on `ngrams=2` ids gets `BigramLookup` in front: MediaPipe feeds unigram ids
    and the graph appends the bigram ids, so the model reads what it was trained on.

    Args:
        model: A Keras text classifier on one int input `(sequence_length,)`.
        vectorizer: The adapted `TextVectorization` (`build_vectorizer`), or its
            `get_vocabulary()` list.
        train_texts: Raw training texts: surface forms for `vocab.txt`.
        x_train_ids: The vectorizer's ids of the training texts; they calibrate int8 as
            `export_text_model` does (an `ngrams=2` bundle calibrates on the unigram ids
            it is fed, `encode(train_texts)`, instead).
        class_names: One name per output. Defaults to `("negative", "positive")`.
        name: The model's name in the metadata. Defaults to the Keras model's name.
        description: One sentence on what it classifies. Defaults to `""`.
        mode: `"int8"` or `"dynamic"`; `None` lets `export_text_model` decide.
            Defaults to `None`.
        min_count: Least occurrences of a training surface form listed in `vocab.txt`.
            Defaults to `2`.
        case_variants: List `Title` and `UPPER` forms of every word. Defaults to `True`.
        num_calibration: Rows that calibrate int8. Defaults to `200`.
        seed: Seed of their draw. Defaults to `0`.
        version: The metadata's version. Defaults to `"1"`.
        author: The metadata's author. Defaults to `"kerasopt"`.
        license: The metadata's license. Defaults to `"Apache-2.0"`.

    Example:

    >>> tokenized = data.extras["tokenized"]  # doctest: +SKIP
    >>> bundle = build_text_bundle(model, tokenized.vectorizer, tokenized.texts.texts_train,
    ...                            tokenized.ids.x_train)  # doctest: +SKIP
    >>> bundle.write("saved_models/imdb/phone")  # doctest: +SKIP
    """
    from kerasopt.export.tflite_metadata import (
        AssociatedFile,
        TensorDescription,
        attach_metadata,
    )

    where = f"build_text_bundle({model.name!r})"
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else ()
    if len(shape) != 1 or shape[0] is None:
        raise InvalidValueError(
            f"{where}: MediaPipe's TextClassifier feeds one int32 input [1, max_seq_len]; "
            f"the model takes {[tuple(i.shape) for i in model.inputs]}. Bundle a model "
            "built on keras.Input((sequence_length,), dtype='int32')."
        )
    if mode not in (None, "int8", "dynamic"):
        raise InvalidValueError(
            f"{where}: mode must be None, 'int8' or 'dynamic'. Received: mode={mode!r}."
        )
    limit = text_bundle_limit(vectorizer)
    if limit is not None:
        raise InvalidValueError(f"{where}: cannot bundle for MediaPipe: {limit}.")
    names = check_class_names(class_names, int(model.outputs[0].shape[-1]), where)
    vocabulary = _vocabulary(vectorizer)
    table = surface_vocabulary(
        vocabulary, train_texts, min_count=min_count, case_variants=case_variants
    )
    lines = "".join(f"{t} {i}\n" for t, i in sorted(table.items(), key=lambda item: item[1]))
    vocab_bytes = lines.encode("utf-8")
    plain = TextBundle(b"", names, DELIMITER_PATTERN, vocab_bytes, shape[0], "int8")
    if _ngram_widths(vectorizer) == (1, 2):
        plain, model = _with_bigram_lookup(plain, model, vocabulary)
        x_train_ids = plain.encode(train_texts)  # the graph is fed unigram ids
    content, mode = _convert(model, np.asarray(x_train_ids), mode, num_calibration, seed)
    _check_single_subgraph(content, where)
    vocab = AssociatedFile(
        VOCAB_FILE, vocab_bytes, "Token to id; surface forms share their word's id.", "vocabulary"
    )
    ids = TensorDescription(
        "ids",
        f"Token ids of the text, {shape[0]} per text; MediaPipe tokenizes it.",
        files=(vocab,),
        delimiter_pattern=DELIMITER_PATTERN,
    )
    metadata = classifier_description(
        ids,
        names,
        name=name or model.name,
        description=description or f"Classifies a text into {len(names)} classes.",
        version=version,
        author=author,
        license=license,
    )
    return dataclasses.replace(plain, content=attach_metadata(content, metadata), mode=mode)


def _with_bigram_lookup(plain: TextBundle, model, vocabulary):
    """The bundle with its bigram table, and `model` behind a `BigramLookup`."""
    import keras

    from kerasopt.text.bigram_lookup import BigramLookup, bigram_table

    bigrams, _ = bigram_table(vocabulary)
    lookup = BigramLookup(
        len(vocabulary), [(*pair, i) for pair, i in bigrams.items()], name="bigram_lookup"
    )
    ids = keras.Input((plain.sequence_length,), dtype="int32", name="token_ids")
    wrapped = keras.Model(ids, model(lookup(ids)), name=model.name)
    return dataclasses.replace(plain, bigrams=bigrams), wrapped


def _check_single_subgraph(content: bytes, where: str) -> None:
    from ai_edge_litert import schema_py_generated as schema

    subgraphs = schema.Model.GetRootAs(content, 0).SubgraphsLength()
    if subgraphs > 1:
        raise InvalidValueError(
            f"{where}: MediaPipe's classifiers take a model with one subgraph; this one "
            f"converts to {subgraphs} (a recurrent layer runs as a TFLite WHILE loop). "
            "Bundle a 'bow' or 'cnn' model, or ship this one without MediaPipe Tasks."
        )


def _convert(model, ids, mode, num_calibration, seed) -> tuple[bytes, str]:
    import tensorflow as tf

    from kerasopt.export.tflite_converter import ConversionError, model_converter
    from kerasopt.text.text_export import export_dynamic_range, export_text_model

    if mode is None:
        export = export_text_model(model, ids, seed=seed, num_calibration=num_calibration)
        if export.mode == "dynamic":
            return export.content, "dynamic"  # int32 in, float32 out already
    elif mode == "dynamic":
        return export_dynamic_range(model, ids.shape[1], None, []).content, mode
    # export_text_model's calibration draw, with float32 probabilities out for MediaPipe.
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(ids), size=min(num_calibration, len(ids)), replace=False))
    calibration = ids[picks].astype("int32")
    spec = tf.TensorSpec((None, ids.shape[1]), tf.int32, name="token_ids")
    with model_converter(model, spec) as converter:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([row[None, :]] for row in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_output_type = tf.float32
        try:
            return converter.convert(), "int8"
        except FlexOpsError:
            raise
        except Exception as error:
            raise ConversionError(
                f"Converting the phone bundle of {model.name!r} to int8 failed: {error}. "
                "Pass mode='dynamic'."
            ) from error
