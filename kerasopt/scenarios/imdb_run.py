"""`run_imdb`: reviews -> tokenizer + text model -> TFLite on LiteRT -> report."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from kerasopt.core.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from kerasopt.core.errors import InvalidValueError
from kerasopt.training.config import TrainConfig

IMDB_TRAIN = TrainConfig(
    epochs=10,
    batch_size=32,
    learning_rate=2e-3,
    augment=None,
    early_stopping_patience=3,
)
#: Token ids per review; the TF-IDF model holds unigrams then bigrams, so twice as many.
SEQUENCE_LENGTH = {"tfidf": 400}
DEFAULT_SEQUENCE_LENGTH = 200
MAX_TOKENS = 20000
MISTAKES_SHOWN = 10


def run_imdb(
    *,
    model: str = "bow",
    out_dir: str | os.PathLike | None = None,
    data_path: str | os.PathLike | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    quick: bool = False,
    augment=None,
    max_tokens: int = MAX_TOKENS,
    sequence_length: int | None = None,
    verbose: int | str = "auto",
) -> dict:
    """Trains a text classifier on IMDB reviews and ships it with its tokenizer.

    Adapts `TextVectorization` on the training reviews only, trains the `model` family
    on token ids (resumable, like `kerasopt run digits`), exports it to TFLite
    (full-integer int8 when the converter can, dynamic-range otherwise, with the layer
    that prevented int8 named), verifies the file on LiteRT against Keras, checks that
    the pure-Python `TextTokenizer` reproduces the vectorizer on every test review, and
    writes `model.keras`, `model_<mode>.tflite`, `vocab.txt`, `tokenizer.json`,
    `report.json` (the shape of the digits report), `report.md` and
    `training_curves.png`. The report lists the most confident mistakes with their text.

    Args:
        model: `"bow"`, `"tfidf"`, `"cnn"`, `"bilstm"` or `"transformer"`. Defaults to
            `"bow"`.
        out_dir: Output folder. Defaults to `saved_models/imdb_<model>/`.
        data_path: An aclImdb folder or a `keras.datasets.imdb` `.npz` (with
            `imdb_word_index.json` beside it to decode words); `None` uses Keras' cache.
            Defaults to `None`.
        epochs: Override the recipe's epochs. Defaults to `None`.
        seed: Seed of weights and shuffling. Defaults to `None` (0).
        quick: Two epochs: a smoke run. Defaults to `False`.
        augment: A `kerasopt.text.TextAugmentation` applied to training batches.
            Defaults to `None`.
        max_tokens: Vocabulary size cap. Defaults to `20000`.
        sequence_length: Token ids per review. Defaults to `None`: 200, or 400 for
            `"tfidf"` (unigrams then bigrams).
        verbose: Keras verbosity. Defaults to `"auto"`.

    Example:

    >>> from kerasopt.scenarios import run_imdb
    >>> report = run_imdb(model="bow", data_path="aclImdb")  # doctest: +SKIP
    >>> report["tflite"]["int8"]["accuracy"]  # doctest: +SKIP
    """
    from kerasopt.analysis import error_analysis, plot_training_curves
    from kerasopt.export.litert_evaluator import tflite_sizes
    from kerasopt.scenarios.report import package_versions
    from kerasopt.text.text_export import export_text_model
    from kerasopt.text.text_models import TEXT_MODEL_FAMILIES, build_text_model
    from kerasopt.text.tokenized_text import load_review_splits, tokenize_text_splits
    from kerasopt.text.vectorizer import save_vocabulary
    from kerasopt.training import train

    if model not in TEXT_MODEL_FAMILIES:
        raise InvalidValueError(
            f"Unknown IMDB model {model!r}. Expected one of {list(TEXT_MODEL_FAMILIES)}."
        )
    out = Path(out_dir) if out_dir is not None else Path("saved_models") / f"imdb_{model}"
    out.mkdir(parents=True, exist_ok=True)
    changes = {"epochs": 2 if quick else epochs, "seed": seed}
    config = IMDB_TRAIN.replace(**{k: v for k, v in changes.items() if v is not None})
    timings: dict[str, float] = {}
    started = time.perf_counter()

    texts = load_review_splits(data_path, seed=config.seed)
    texts.check()
    sequence_length = sequence_length or SEQUENCE_LENGTH.get(model, DEFAULT_SEQUENCE_LENGTH)
    ngrams = 2 if model == "tfidf" else None
    tokenized = tokenize_text_splits(
        texts, max_tokens=max_tokens, sequence_length=sequence_length, ngrams=ngrams
    )
    data = tokenized.ids
    tokenizer_files = save_vocabulary(tokenized.vectorizer, out)
    timings["load_and_tokenize"] = time.perf_counter() - started

    import keras

    keras.utils.set_random_seed(config.seed)
    net = build_text_model(
        model,
        tokenized.vocab_size,
        sequence_length,
        num_classes=data.num_classes,
        idf_weights=tokenized.idf_weights if model == "tfidf" else None,
        name=f"imdb_{model}",
    )
    result = train(net, data, config, out, verbose=verbose, augment=augment)
    timings["train"] = result.seconds
    keras_probabilities = net.predict(data.x_test, batch_size=256, verbose=0)
    with atomic_path(out / "model.keras") as tmp:
        net.save(tmp)

    tick = time.perf_counter()
    export = export_text_model(net, data.x_train, seed=config.seed)
    write_bytes_atomic(out / f"model_{export.mode}.tflite", export.content)
    timings["export"] = time.perf_counter() - tick
    tick = time.perf_counter()
    lite_probabilities = export.predict(data.x_test)
    timings["verify"] = time.perf_counter() - tick

    agreement = _tokenizer_agreement(out, texts.texts_test, data.x_test)
    keras_analysis = error_analysis(keras_probabilities, data.y_test, num_classes=2)
    lite_analysis = error_analysis(lite_probabilities, data.y_test, num_classes=2)
    plot_training_curves(result.history, out / "training_curves.png")
    timings["total"] = time.perf_counter() - started
    lite = {
        "mode": export.mode,
        "full_integer": export.mode == "int8",
        "reason": export.reason,
        "blocking_layers": list(export.blocking_layers),
        "accuracy": _accuracy(lite_probabilities, data.y_test),
        "agreement": float(
            np.mean(lite_probabilities.argmax(-1) == keras_probabilities.argmax(-1))
        ),
        **tflite_sizes(export.content),
        "latency_us": _latency_us(export, data.x_test[0]),
        "error_analysis": lite_analysis,
    }
    report = {
        "scenario": "imdb",
        "quick": quick,
        "dataset": {**data.describe(), "vocab_size": tokenized.vocab_size, "ngrams": ngrams},
        "model": {"builder": "build_text_model", "family": model, "params": net.count_params()},
        "train": {
            **config.to_dict(),
            "epochs_run": result.epochs_run,
            "resumed_from_epoch": result.resumed_from_epoch,
            "text_augmentation": None if augment is None else augment.get_config(),
        },
        "keras": {
            "accuracy": _accuracy(keras_probabilities, data.y_test),
            "params": int(net.count_params()),
            "bytes": (out / "model.keras").stat().st_size,
            "error_analysis": keras_analysis,
        },
        "tflite": {export.mode: lite},
        "tokenizer": {**{k: str(v) for k, v in tokenizer_files.items()}, **agreement},
        "confident_mistakes": confident_mistakes(
            keras_probabilities, data.y_test, texts.texts_test
        ),
        "timings": timings,
        "versions": package_versions(),
    }
    write_text_atomic(out / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    write_text_atomic(out / "report.md", imdb_markdown(report))
    return report


def confident_mistakes(probabilities, labels, texts, count: int = MISTAKES_SHOWN) -> list[dict]:
    """The `count` wrong predictions the model was surest of, with their review text.

    Example:

    >>> import numpy as np
    >>> confident_mistakes(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([0, 0]), ["a", "b"])
    [{'index': 0, 'label': 0, 'predicted': 1, 'confidence': 0.9, 'text': 'a'}]
    """
    predicted = probabilities.argmax(-1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:count]
    return [
        {
            "index": int(i),
            "label": int(labels[i]),
            "predicted": int(predicted[i]),
            "confidence": round(float(probabilities[i, predicted[i]]), 4),
            "text": str(texts[i])[:400],
        }
        for i in order
    ]


def imdb_markdown(report: dict) -> str:
    """`report.md` of an IMDB run: the summary table, the tokenizer check, the mistakes."""
    from kerasopt.core.tables import markdown_table
    from kerasopt.scenarios.report import _HEADER, summary_rows

    ((mode, lite),) = report["tflite"].items()
    lines = [
        f"# IMDB: {report['model']['family']} model",
        "",
        f"Dataset: {report['dataset']['sizes']} reviews, vocabulary "
        f"{report['dataset']['vocab_size']:,} tokens ({report['dataset']['split']['source']}).",
        "",
        *markdown_table(_HEADER, summary_rows(report)),
        "",
        f"TFLite export: **{mode}**" + (f" — {lite['reason']}" if lite["reason"] else "."),
        "",
        f"Pure-Python tokenizer (`vocab.txt`, `tokenizer.json`) agrees with TextVectorization "
        f"on {report['tokenizer']['agreement']:.2%} of {report['tokenizer']['reviews']} test "
        "reviews.",
        "",
        "## Most confident mistakes (Keras model, test split)",
        "",
    ]
    names = {0: "negative", 1: "positive"}
    for mistake in report["confident_mistakes"]:
        text = mistake["text"].replace("\n", " ").replace("|", "/")
        lines.append(
            f"- **{names.get(mistake['label'])}** review read as {names.get(mistake['predicted'])} "
            f"({mistake['confidence']:.1%}): {text[:200]}"
        )
    lines += ["", f"Total {report['timings']['total']:.1f} s.", ""]
    return "\n".join(lines)


def _tokenizer_agreement(folder: Path, texts, ids) -> dict:
    from kerasopt.text.tokenizer import TextTokenizer

    tokenizer = TextTokenizer.from_folder(folder)
    encoded = np.asarray(tokenizer.encode_batch(list(texts)), dtype="int32")
    same = np.all(encoded == ids, axis=1)
    return {"agreement": float(np.mean(same)), "reviews": int(len(same))}


def _accuracy(probabilities, labels) -> float:
    return float(np.mean(probabilities.argmax(-1) == labels))


def _latency_us(export, sample) -> float:
    from kerasopt.export import LiteRTEvaluator

    return float(LiteRTEvaluator(export.content, num_threads=1).latency_us(sample, runs=50))
