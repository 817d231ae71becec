import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from kerasopt.text import tokenizer as tokenizer_module
from kerasopt.text.review_corpus import generate_reviews
from kerasopt.text.tokenizer import (
    TextTokenizer,
    split_whitespace,
    standardize_text,
)
from kerasopt.text.vectorizer import build_vectorizer, save_vocabulary

LONG = " ".join(f"Word{i % 97}, <b>bold</b>" for i in range(1500))
TRICKY = [
    "",
    "   ",
    "\t\n\r\x0b\x0c",
    "<br /><br />",
    "a<br/>b<BR>c<br / >d< br />e",
    "<i>Great</i> film<!-- hidden --> <p class='x'>end</p>",
    "5 < 6 > 4 and x<y>z and <<br />> and <3",
    "ÉCOLE École école ÀÉÎÕÜ ÇA ǅ İstanbul ß ẞ ΣΑΣ ＦＵＬＬＷＩＤＴＨ",
    "😀😀 👍🏽 ❤️ great😀 🎬!",
    "don't won't ...!!!??? a--b e-mail $100 #1 @user 7.5/10 (parens) [brackets] {braces}",
    "a\x1cb a\x1db a\x1eb a\x1fb a\x85b a\xa0b a\u2028b a\u2029b a\u3000b a\u200bb \ufeffbom",
    "\x00nul\x00 ctrl\x07bell \x7fdel",
    "mixed\ttabs\nnewlines\r\nCRLF  double  spaces\t\t",
    "«quoted» „Anführungszeichen“ — dash … ellipsis ¿qué? ¡sí!",
    "cafe\u0301 café caf\u00e9",
    "Ω≈ç√∫ 日本語の映画 фильм ХОРОШИЙ",
    "good " * 300,
    "not good not bad not good " * 50,
    LONG,
]
UNSEEN = [
    "A completely unseen sentence with zzyzx words!",
    "İSTANBUL ÉCOLE «new» \x1c",
    "<br />" * 40,
    "x " * 1000,
]
CONFIGS = {
    "unigrams": {"max_tokens": 20000, "sequence_length": 64, "ngrams": None},
    "bigrams": {"max_tokens": 20000, "sequence_length": 160, "ngrams": 2},
    "small-vocab-trigrams": {"max_tokens": 300, "sequence_length": 80, "ngrams": (1, 3)},
    "unpadded": {"max_tokens": 500, "sequence_length": None, "ngrams": None},
    "tf_idf": {"max_tokens": 400, "ngrams": 2, "output_mode": "tf_idf"},
}


@pytest.fixture(scope="module")
def corpus():
    texts, _ = generate_reviews(400, seed=0)
    return texts[:300] + TRICKY, texts[300:] + TRICKY + UNSEEN


@pytest.fixture(scope="module", params=list(CONFIGS), ids=list(CONFIGS))
def exported(request, corpus, tmp_path_factory):
    """(layer, tokenizer read back from disk) for one configuration."""
    train, _ = corpus
    vectorizer = build_vectorizer(train, **CONFIGS[request.param])
    folder = tmp_path_factory.mktemp(request.param)
    save_vocabulary(vectorizer, folder)
    return vectorizer, TextTokenizer.from_folder(folder)


def test_tokenizer_matches_the_layer_on_every_text(exported, corpus):
    vectorizer, tokenizer = exported
    train, held_out = corpus
    texts = train + held_out
    expected = vectorizer(tf.constant(texts)).numpy().tolist()
    assert tokenizer.encode_batch(texts) == expected  # Exact, floats included.
    assert tokenizer.vocabulary == vectorizer.get_vocabulary()


def test_tokenizer_matches_text_by_text(exported):
    vectorizer, tokenizer = exported
    for text in TRICKY + UNSEEN:
        expected = vectorizer(tf.constant([text])).numpy()[0].tolist()
        assert tokenizer.encode(text) == expected, repr(text)


def test_tokens_match_tensorflow_ops():
    ops = tf.strings.split(tf.strings.lower(tf.constant(TRICKY + UNSEEN)))
    assert [[t.decode() for t in row] for row in ops.to_list()] == [
        split_whitespace(text.translate(tokenizer_module._ASCII_LOWER)) for text in TRICKY + UNSEEN
    ]
    for widths in ((1, 2), (2, 1), (3,), (1, 2, 3)):
        grams = tf.strings.ngrams(tf.strings.split(tf.constant(TRICKY)), widths, separator=" ")
        assert [[g.decode() for g in row] for row in grams.to_list()] == [
            tokenizer_module.make_ngrams(split_whitespace(text), widths) for text in TRICKY
        ]


def test_documented_conventions():
    assert standardize_text("ÉCOLE Ünïcode İ") == "École Ünïcode İ"  # ASCII-only lowercase.
    assert standardize_text("nul\x00 <br />x") == "nul  x"  # NUL removed, tags -> space.
    assert standardize_text("a\x85b\u2028c\x1cd\x1fe") == "a b c d\x1fe"
    assert split_whitespace("a\x1cb\u00a0c d\te") == ["a\x1cb\u00a0c", "d", "e"]
    assert "a\x1cb".split() == ["a", "b"]  # Why str.split() would be wrong.
    tokenizer = TextTokenizer(["", "[UNK]", "a", "b", "a b"], sequence_length=4, ngrams=2)
    # Unigrams first, then bigrams; truncation keeps the first ids; 0 pads the end.
    assert tokenizer.tokenize("A b c") == ["a", "b", "c", "a b", "b c"]
    assert tokenizer.encode("A b c") == [2, 3, 1, 4]
    assert tokenizer.encode("") == [0, 0, 0, 0]


@pytest.mark.parametrize("exported", ["bigrams"], indirect=True)
def test_unicode_separators_in_tokens_survive_the_vocab_file(exported):
    _, tokenizer = exported
    for token in ("a\x1fb", "a\xa0b", "a\u3000b", "a\u200bb"):  # TF keeps them in tokens.
        assert token in tokenizer.vocabulary
    for token in ("a\x85b", "a\u2028b", "a\x1cb"):  # splitlines() breaks: made spaces.
        assert token not in tokenizer.vocabulary


@pytest.mark.parametrize("exported", ["unigrams"], indirect=True)
def test_lone_surrogates_are_the_documented_boundary(exported):
    vectorizer, tokenizer = exported
    with pytest.raises(ValueError, match="converting unicode string"):
        vectorizer(tf.constant(["bad \ud800 text"]))
    assert tokenizer.tokenize("BAD \ud800 text") == ["bad", "\ud800", "text"]
    assert len(tokenizer.encode("bad \ud800 text")) == tokenizer.sequence_length


def test_tokenizer_imports_without_tensorflow_or_numpy():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('tok', {tokenizer_module.__file__!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert module.TextTokenizer(['', '[UNK]', 'ok']).encode('OK!') == [2]\n"
        "import kerasopt.text.tokenizer\n"
        "bad = [m for m in ('tensorflow', 'numpy', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_from_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No vocab.txt in .*save_vocabulary"):
        TextTokenizer.from_folder(tmp_path)
    (tmp_path / "vocab.txt").write_text("\n[UNK]\ngood\n", encoding="utf-8")
    config = {"standardize": "lower_and_strip_punctuation", "split": "whitespace"}
    (tmp_path / "tokenizer.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="standardize='lower_and_strip_punctuation'"):
        TextTokenizer.from_folder(tmp_path)
    config.update(standardize="strip_html_lower_punctuation", vocabulary_size=5)
    (tmp_path / "tokenizer.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="holds 3 tokens but tokenizer.json says"):
        TextTokenizer.from_folder(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"vocabulary": ["a", "b"]}, r"starts with \['', '\[UNK\]'\]"),
        ({"output_mode": "count"}, "output_mode='count'"),
        ({"sequence_length": 0}, "sequence_length=0"),
        ({"output_mode": "tf_idf", "vocabulary": ["[UNK]", "a"]}, "Received: None weights"),
        ({"ngrams": (0,)}, r"ngrams=\(0,\)"),
    ],
    ids=["specials", "mode", "length", "idf", "ngrams"],
)
def test_tokenizer_arguments_are_checked(kwargs, match):
    kwargs = {"vocabulary": ["", "[UNK]", "a"], **kwargs}
    with pytest.raises(ValueError, match=match):
        TextTokenizer(**kwargs)


def test_encode_rejects_bytes():
    with pytest.raises(TypeError, match="expects str. Received: bytes"):
        TextTokenizer(["", "[UNK]"]).encode(b"text")


@pytest.mark.parametrize("exported", ["tf_idf"], indirect=True)
def test_tf_idf_values_are_float32_products(exported):
    _, tokenizer = exported
    out = np.array(tokenizer.encode("good good good not good"), dtype="float64")
    assert np.array_equal(out, out.astype("float32").astype("float64"))
    assert out[tokenizer.vocabulary.index("good")] > 0
