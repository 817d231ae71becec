"""`bundle_text_classifier`: a text bundle written and scored on LiteRT and MediaPipe.

The text twin of `kerasopt.export.bundle_image_classifier`: LiteRT reads the ids the
bundle's tokenizer gives, MediaPipe's `TextClassifier` reads the raw test texts.
"""

from __future__ import annotations

import numpy as np

from kerasopt.export.classifier_metadata import labels_text
from kerasopt.text.text_bundle import SENTIMENT_NAMES, TextBundle, build_text_bundle


def check_text_bundle(bundle: TextBundle, texts, y, *, int8_bytes: int | None = None):
    """Scores `bundle` on LiteRT (its own ids of `texts`) and through MediaPipe (raw text).

    Example:

    >>> print(check_text_bundle(bundle, texts_test, y_test).summary())  # doctest: +SKIP
    """
    from kerasopt.export.bundle_check import check_bundle

    texts = [str(t) for t in texts]
    return check_bundle(
        bundle.content,
        kind="text",
        tensor_inputs=bundle.encode(texts),
        client_inputs=texts,
        y=np.asarray(y),
        class_names=bundle.class_names,
        files_bytes=len(bundle.vocabulary_file) + len(labels_text(bundle.class_names).encode()),
        int8_bytes=int8_bytes,
    )


def bundle_text_classifier(
    model,
    tokenized,
    out_dir,
    *,
    class_names=SENTIMENT_NAMES,
    int8_bytes: int | None = None,
    seed: int = 0,
    **options,
):
    """Builds the text bundle of `model`, writes it to `out_dir`, and checks it.

    `out_dir` gets `model.tflite`, `labels.txt` and `vocab.txt`; the check scores the
    bundle on the raw test texts, on LiteRT (ids as the bundle tokenizes them) and
    through MediaPipe's `TextClassifier`.

    Args:
        model: A Keras token-id text classifier.
        tokenized: `TokenizedText` (`data.extras["tokenized"]`): the raw texts, the ids
            and the vectorizer.
        out_dir: The bundle's folder.
        class_names: Labels. Defaults to `("negative", "positive")`.
        int8_bytes: The plain `.tflite` file's size, to compare. Defaults to `None`.
        seed: Seed of the calibration draw. Defaults to `0`.
        **options: Other arguments of `build_text_bundle` (`mode`, `min_count`, `name`,
            `description`, ...).

    Returns:
        A `BundleCheck`.

    Example:

    >>> check = bundle_text_classifier(model, data.extras["tokenized"], "phone/")  # doctest: +SKIP
    >>> print(check.summary())  # doctest: +SKIP
    """
    texts = tokenized.texts
    bundle = build_text_bundle(
        model,
        tokenized.vectorizer,
        texts.texts_train,
        tokenized.ids.x_train,
        class_names=class_names,
        seed=seed,
        **options,
    )
    bundle.write(out_dir)
    return check_text_bundle(bundle, texts.texts_test, texts.y_test, int8_bytes=int8_bytes)
