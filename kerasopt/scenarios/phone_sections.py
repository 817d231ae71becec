"""The `phone` report section: the run's model as a MediaPipe-ready bundle, checked.

Every image scenario writes `phone/model.tflite` and `phone/labels.txt` (see
`kerasopt.export.build_image_bundle`) and scores the bundle on LiteRT and through
MediaPipe's `ImageClassifier` on the test split. The `imdb` scenario writes
`phone/model.tflite`, `labels.txt` and `vocab.txt` (see
`kerasopt.text.text_bundle.build_text_bundle`), scores it on the raw test reviews
through MediaPipe's `TextClassifier`, and reports how often the bundle's regex tokenizer
gives TextVectorization's ids.
"""

from __future__ import annotations

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.bundle_check import bundle_image_classifier
from kerasopt.export.classifier_metadata import LABELS_FILE
from kerasopt.scenarios.report_section import ReportSection, SectionContext
from kerasopt.text.mediapipe_tokenizer import tokenizer_agreement
from kerasopt.text.text_bundle import build_text_bundle, text_bundle_limit
from kerasopt.text.text_bundle_check import check_text_bundle
from kerasopt.text.tokenizer import VOCAB_FILE

PHONE_FOLDER = "phone"


def image_phone_bundle(context: SectionContext) -> ReportSection:
    """Builds, writes and checks the image bundle of the run's model.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> image_phone_bundle in get_scenario("digits").sections
    True
    """
    splits = context.data.splits
    int8 = next((e for e in context.exported if e.variant == "int8"), None)
    check = bundle_image_classifier(
        context.model,
        splits,
        context.out_dir / PHONE_FOLDER,
        int8_bytes=int8.metrics.bytes if int8 is not None else None,
        name=f"kerasopt {context.scenario_name} {context.model_name}",
        description=(
            f"{context.scenario_name}: classifies a {splits.input_shape[0]}x"
            f"{splits.input_shape[1]} image into {splits.num_classes} classes."
        ),
    )
    heading = f"## Phone bundle: `{PHONE_FOLDER}/model.tflite` + `{LABELS_FILE}`"
    intro = (
        "uint8 RGB in (what a camera gives), the preprocessing inside the graph, int8 "
        "inside, metadata and labels packed; scored on the test split as pixels."
    )
    return ReportSection(
        PHONE_FOLDER,
        check.to_dict(),
        markdown=(heading, "", intro, "", *check.markdown(), ""),
        summary=check.summary(),
    )


def text_phone_bundle(context: SectionContext) -> ReportSection:
    """Builds, writes and checks the MediaPipe `TextClassifier` bundle of the run's model.

    The bundle is int8 inside where the plain export is (`dynamic` otherwise). A model
    on uni+bigram ids (`tfidf`) gets its bigram ids computed in the graph from
    MediaPipe's unigram ids. A model with a recurrent layer (`bilstm`: a WHILE loop,
    which MediaPipe's classifiers refuse) gets no bundle: the section says why.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> text_phone_bundle in get_scenario("imdb").sections
    True
    """
    tokenized = context.data.extras["tokenized"]
    heading = f"## Phone bundle: `{PHONE_FOLDER}/model.tflite` + `{LABELS_FILE}` + `{VOCAB_FILE}`"
    limit = text_bundle_limit(tokenized.vectorizer)
    if limit is not None:
        return _skipped(heading, context.model_name, limit)
    plain = context.exported[0] if context.exported else None
    try:
        bundle = build_text_bundle(
            context.model,
            tokenized.vectorizer,
            tokenized.texts.texts_train,
            context.data.splits.x_train,
            mode=plain.variant if plain and plain.variant in ("int8", "dynamic") else None,
            name=f"kerasopt {context.scenario_name} {context.model_name}",
            description=f"{context.scenario_name}: classifies a review as negative or positive.",
        )
    except InvalidValueError as error:  # a model MediaPipe cannot run (a WHILE loop)
        return _skipped(heading, context.model_name, str(error).split(": ", 1)[-1])
    bundle.write(context.out_dir / PHONE_FOLDER)
    texts = tokenized.texts.texts_test
    check = check_text_bundle(
        bundle,
        texts,
        context.data.splits.y_test,
        int8_bytes=plain.metrics.bytes if plain is not None else None,
    )
    # The ids the model reads: an ngram bundle's bigram ids included.
    agreement = tokenizer_agreement(bundle.model_tokenizer, texts, context.data.splits.x_test)
    vocabulary = {
        "lines": bundle.vocabulary_file.count(b"\n"),
        "bytes": len(bundle.vocabulary_file),
    }
    intro = (
        f"Raw text in: MediaPipe's regex tokenizer and `{VOCAB_FILE}` (surface forms such "
        f"as `Don't` and `GREAT` listed with their word's id; {vocabulary['lines']:,} lines, "
        f"{vocabulary['bytes']:,} bytes), {bundle.mode} inside, probabilities out; "
        "scored on the raw test reviews."
    )
    if bundle.bigrams is not None:
        intro += (
            f" The graph appends the ids of the model's {len(bundle.bigrams):,} bigrams to "
            "the unigram ids (int32 lookup), as TextVectorization(ngrams=2) orders them."
        )
    tokens = (
        f"The bundle's tokenizer gives TextVectorization's ids for {agreement.reviews:.2%} "
        f"of {agreement.num_reviews} test reviews and {agreement.tokens:.2%} of their "
        f"{agreement.num_tokens:,} tokens."
    )
    return ReportSection(
        PHONE_FOLDER,
        {
            **check.to_dict(),
            "mode": bundle.mode,
            "tokenizer_agreement": agreement.to_dict(),
            "vocabulary": vocabulary,
        },
        markdown=(heading, "", intro, "", *check.markdown(), "", tokens, ""),
        summary=f"{check.summary()}; tokenizer matches on {agreement.reviews:.2%} of reviews",
    )


def _skipped(heading: str, model_name: str, why: str) -> ReportSection:
    text = f"No phone bundle for the {model_name!r} model: {why.rstrip('.')}."
    return ReportSection(
        PHONE_FOLDER,
        {"skipped": text},
        markdown=(heading, "", text, ""),
        summary=f"phone bundle not built: {why.split(';')[0].rstrip('.')}",
    )
