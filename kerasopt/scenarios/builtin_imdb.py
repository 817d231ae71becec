"""The `imdb` scenario: movie reviews -> tokenizer + text model -> TFLite and tokenizer files.

Registered as any scenario is: the loader adapts a `TextVectorization` on the training
reviews only and hands the token ids to training; the export plan writes the int8 (or
dynamic-range) TFLite file with `vocab.txt` and `tokenizer.json`; three report sections
check the pure-Python tokenizer, list the most confident mistakes, and build and check
the MediaPipe `TextClassifier` bundle in `phone/`.
"""

from __future__ import annotations

import os

from kerasopt.scenarios.phone_sections import text_phone_bundle
from kerasopt.scenarios.scenario import Scenario, ScenarioData
from kerasopt.scenarios.text_sections import confident_mistakes_section, tokenizer_agreement
from kerasopt.text.text_export import TextExportPlan
from kerasopt.text.tokenized_text import load_review_splits, tokenize_text_splits
from kerasopt.training.config import TrainConfig

IMDB_TRAIN = TrainConfig(
    epochs=10,
    batch_size=32,
    learning_rate=2e-3,
    augment=None,
    early_stopping_patience=3,
)
#: `kerasopt.text.TEXT_MODEL_FAMILIES` (not imported: it loads Keras).
TEXT_MODELS = ("bow", "tfidf", "cnn", "bilstm", "transformer")
MAX_TOKENS = 20000
SEQUENCE_LENGTH = 200


def load_reviews(
    data_path: str | os.PathLike | None = None,
    *,
    seed: int = 0,
    max_tokens: int = MAX_TOKENS,
    sequence_length: int = SEQUENCE_LENGTH,
    ngrams: int | None = None,
) -> ScenarioData:
    """IMDB reviews as token ids, with the adapted vectorizer and the raw texts in `extras`.

    Args:
        data_path: An aclImdb folder or a `keras.datasets.imdb` `.npz` (with
            `imdb_word_index.json` beside it to decode words); `None` uses Keras' cache.
        seed: Seed of the validation split. Defaults to `0`.
        max_tokens: Vocabulary size cap. Defaults to `20000`.
        sequence_length: Token ids per review. Defaults to `200`.
        ngrams: `2` adds bigrams to the vocabulary. Defaults to `None`.

    Example:

    >>> data = load_reviews("aclImdb", sequence_length=64)  # doctest: +SKIP
    >>> data.splits.x_train.shape[1], data.details["vocab_size"]  # doctest: +SKIP
    (64, 20000)
    """
    texts = load_review_splits(data_path, seed=seed)
    texts.check()
    tokenized = tokenize_text_splits(
        texts, max_tokens=max_tokens, sequence_length=sequence_length, ngrams=ngrams
    )
    return ScenarioData(
        tokenized.ids,
        extras={"tokenized": tokenized, "vectorizer": tokenized.vectorizer},
        details={"vocab_size": tokenized.vocab_size, "ngrams": ngrams},
    )


class TextModelBuilder:
    """`build_model` of a text scenario: `build_text_model(model, ...)` on its token ids.

    Args:
        name: Prefix of the Keras model's name (`"<name>_<model>"`).
    """

    def __init__(self, name: str):
        self.name = name

    def __call__(self, data: ScenarioData, model: str):
        from kerasopt.text.text_models import build_text_model  # loads Keras

        tokenized = data.extras["tokenized"]
        return build_text_model(
            model,
            tokenized.vocab_size,
            data.splits.input_shape[0],
            num_classes=data.splits.num_classes,
            idf_weights=tokenized.idf_weights if model == "tfidf" else None,
            name=f"{self.name}_{model}",
        )

    def describe(self, model: str) -> dict:
        return {"builder": "build_text_model", "family": model}


IMDB = Scenario(
    name="imdb",
    load_data=load_reviews,
    build_model=TextModelBuilder("imdb"),
    train=IMDB_TRAIN,
    export=TextExportPlan(),
    models=TEXT_MODELS,
    quick={"epochs": 2},
    data_options={"max_tokens": MAX_TOKENS, "sequence_length": SEQUENCE_LENGTH, "ngrams": None},
    # The TF-IDF model holds unigrams then bigrams, so twice as many ids.
    model_data_options={"tfidf": {"sequence_length": 2 * SEQUENCE_LENGTH, "ngrams": 2}},
    # Searches start from the default model; the text family's other defaults are
    # `build_text_model`'s own, which the run uses too.
    tuning_defaults={"text": {"family": TEXT_MODELS[0]}},
    # The phone bundle adds the tfidf model's bigram ids in its graph (BigramLookup).
    sections=(tokenizer_agreement, confident_mistakes_section, text_phone_bundle),
    input_range=None,
    compressible=False,
    notes="TextVectorization adapted on the training reviews; int8 TFLite where the model allows",
)

SCENARIOS = (IMDB,)
