"""Text classification: IMDB loaders, TextVectorization, a pure-Python tokenizer, models.

Names load on first use, so `from kerasopt.text.tokenizer import TextTokenizer` (the
tokenizer a phone app's build scripts or a server can run) never imports TensorFlow.
"""

from kerasopt.core.lazy import lazy_attributes

_LAZY = {
    "generate_reviews": "review_corpus",
    "write_aclimdb": "review_corpus",
    "write_imdb_npz": "review_corpus",
    "load_imdb": "imdb_files",
    "load_imdb_npz": "imdb_files",
    "load_word_index": "imdb_files",
    "decode_review": "imdb_files",
    "read_npz_safely": "safe_npz",
    "RefusedPickleError": "safe_npz",
    "load_aclimdb": "aclimdb",
    "TextSplits": "text_splits",
    "text_splits_from_ids": "text_splits",
    "build_vectorizer": "vectorizer",
    "save_vocabulary": "vectorizer",
    "strip_html_lower_punctuation": "vectorizer",
    "TextTokenizer": "tokenizer",
    "TEXT_MODEL_FAMILIES": "text_models",
    "build_text_model": "text_models",
    "TokenTfIdf": "text_models",
    "MaskedAveragePooling1D": "text_models",
    "TokenAndPositionEmbedding": "text_models",
    "TextExport": "text_export",
    "TextExportPlan": "text_export",
    "export_text_model": "text_export",
    "TextBundle": "text_bundle",
    "build_text_bundle": "text_bundle",
    "text_bundle_limit": "text_bundle",
    "bundle_text_classifier": "text_bundle_check",
    "check_text_bundle": "text_bundle_check",
    "BigramLookup": "bigram_lookup",
    "tokenizer_agreement": "mediapipe_tokenizer",
    "TokenizerAgreement": "mediapipe_tokenizer",
    "RandomTokenSwap": "text_augment",
    "RandomTokenDeletion": "text_augment",
    "RandomTokenInsertion": "text_augment",
    "SynonymReplacement": "text_augment",
    "TextAugmentation": "text_augment",
    "synonym_map_from_words": "text_augment",
}

__getattr__, __dir__, __all__ = lazy_attributes(
    __name__, {name: f"kerasopt.text.{module}" for name, module in _LAZY.items()}
)
