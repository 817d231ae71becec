"""Report sections of a text scenario: the tokenizer check and the confident mistakes."""

from __future__ import annotations

import json

import numpy as np

from kerasopt.scenarios.report_section import ReportSection, SectionContext
from kerasopt.text.tokenizer import CONFIG_FILE, TextTokenizer

MISTAKES_SHOWN = 10
_SENTIMENT = {0: "negative", 1: "positive"}


def tokenizer_agreement(context: SectionContext) -> ReportSection:
    """Checks the pure-Python `TextTokenizer` against the vectorizer on every test text.

    Reads `vocab.txt` and `tokenizer.json` from the run's folder (the export plan wrote
    them), encodes the raw test texts (`data.extras["tokenized"].texts.texts_test`), and
    reports the share of texts whose ids equal the vectorizer's, row for row.
    """
    tokenizer = TextTokenizer.from_folder(context.out_dir)
    texts = context.data.extras["tokenized"].texts.texts_test
    encoded = np.asarray(tokenizer.encode_batch(list(texts)), dtype="int32")
    same = np.all(encoded == context.data.splits.x_test, axis=1)
    settings = json.loads((context.out_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    settings.pop("idf_weights", None)  # in tokenizer.json; 20,000 floats need no repeat
    agreement, reviews = float(np.mean(same)), int(len(same))
    text = (
        f"Pure-Python tokenizer (`vocab.txt`, `{CONFIG_FILE}`) agrees with TextVectorization "
        f"on {agreement:.2%} of {reviews} test reviews."
    )
    return ReportSection(
        "tokenizer",
        {**settings, "agreement": agreement, "reviews": reviews},
        markdown=("## Tokenizer", "", text, ""),
        summary=f"Pure-Python tokenizer agrees with TextVectorization on {agreement:.2%} of "
        "reviews.",
    )


def confident_mistakes(probabilities, labels, texts, count: int = MISTAKES_SHOWN) -> list[dict]:
    """The `count` wrong predictions the model was surest of, with their text.

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


def confident_mistakes_section(context: SectionContext) -> ReportSection:
    """The Keras model's most confident mistakes on the test split, with their text."""
    mistakes = confident_mistakes(
        context.keras_probabilities,
        context.data.splits.y_test,
        context.data.extras["tokenized"].texts.texts_test,
    )
    lines = ["## Most confident mistakes (Keras model, test split)", ""]
    for mistake in mistakes:
        text = mistake["text"].replace("\n", " ").replace("|", "/")
        label = _SENTIMENT.get(mistake["label"], mistake["label"])
        predicted = _SENTIMENT.get(mistake["predicted"], mistake["predicted"])
        lines.append(
            f"- **{label}** review read as {predicted} ({mistake['confidence']:.1%}): {text[:200]}"
        )
    return ReportSection("confident_mistakes", mistakes, markdown=(*lines, ""))
