import json
import re
import zipfile
from collections import Counter

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from text_corpus_files import assert_same_imdb, keras_load_data

from kerasopt.text.review_corpus import generate_reviews, write_aclimdb, write_imdb_npz
from kerasopt.text.tokenizer import split_whitespace, standardize_text


@pytest.fixture(scope="module")
def corpus():
    return generate_reviews(400, seed=0)


def test_generate_reviews_is_deterministic_and_typed(corpus):
    texts, labels = corpus
    again, labels_again = generate_reviews(400, seed=0)
    assert texts == again
    np.testing.assert_array_equal(labels, labels_again)
    assert generate_reviews(400, seed=1)[0] != texts
    assert all(isinstance(t, str) and t for t in texts)
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}
    assert 0.4 < labels.mean() < 0.6


def test_generate_reviews_looks_like_imdb(corpus):
    joined = "\n".join(corpus[0])
    assert "<br /><br />" in joined
    for pattern in (r"[A-Z]", r"\d", r"[!?.,]", r"[éüÉ]", "[😀👍😡👎]", r"\b(not|never)\b"):
        assert re.search(pattern, joined), pattern
    assert any(w.isupper() and len(w) > 3 for w in joined.split())


@pytest.mark.parametrize("n", [-1, 2.5, True], ids=["negative", "float", "bool"])
def test_generate_reviews_rejects_bad_n(n):
    with pytest.raises(ValueError, match=r"non-negative int. Received: n="):
        generate_reviews(n)


def test_bag_of_words_learns_but_does_not_solve_it():
    texts, labels = generate_reviews(700, seed=0)
    test_texts, test_labels = generate_reviews(500, seed=1)
    vectorizer = CountVectorizer(
        preprocessor=standardize_text, tokenizer=split_whitespace, token_pattern=None
    )
    model = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
    accuracy = model.score(vectorizer.transform(test_texts), test_labels)
    assert 0.75 <= accuracy <= 0.95


def test_write_aclimdb_matches_the_stanford_layout(tmp_path):
    root = write_aclimdb(tmp_path / "aclImdb", n_train=30, n_test=20, seed=3, n_unsup=4)
    texts, labels = generate_reviews(30, seed=3)
    counts = {}
    for part, n in (("train", 30), ("test", 20)):
        files = sorted((root / part).glob("*/*.txt"))
        assert len([f for f in files if f.parent.name != "unsup"]) == n
        for label in ("neg", "pos"):
            names = [f.name for f in (root / part / label).iterdir()]
            ids = sorted(int(name.split("_")[0]) for name in names)
            assert ids == list(range(len(names)))
            for name in names:
                assert re.fullmatch(r"\d+_\d+\.txt", name)
                rating = int(name[:-4].split("_")[1])
                assert rating in (range(7, 11) if label == "pos" else range(1, 5))
            counts[part, label] = len(names)
    assert counts["train", "pos"] == int(labels.sum())
    assert len(list((root / "train" / "unsup").glob("*_0.txt"))) == 4
    first_pos = texts[int(np.argmax(labels == 1))]
    pos_file = next((root / "train" / "pos").glob("0_*.txt"))
    assert pos_file.read_text(encoding="utf-8") == first_pos


def test_write_imdb_npz_uses_the_keras_file_format(tmp_path):
    path, index_path = tmp_path / "imdb.npz", tmp_path / "imdb_word_index.json"
    written = write_imdb_npz(path, 60, 40, seed=0, word_index_path=index_path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "x_test.npy",
            "x_train.npy",
            "y_test.npy",
            "y_train.npy",
        ]
    with np.load(path, allow_pickle=True) as npz:  # Our own trusted file.
        x_train, y_train = npz["x_train"], npz["y_train"]
        assert x_train.dtype == object and x_train.shape == (60,)
        assert all(type(row) is list and all(type(w) is int for w in row) for row in x_train)
        assert y_train.dtype == np.int64
    word_index = json.loads(index_path.read_text(encoding="utf-8"))
    assert word_index == written["word_index"]
    assert sorted(word_index.values()) == list(range(1, len(word_index) + 1))
    # Ranks from 1 by training frequency, ties alphabetical; no offset stored in the file.
    counts = Counter(
        t for text in written["texts_train"] for t in split_whitespace(standardize_text(text))
    )
    assert sorted(word_index, key=word_index.get) == sorted(counts, key=lambda w: (-counts[w], w))
    inverted = {rank: word for word, rank in word_index.items()}
    assert [inverted[w] for w in x_train[0]] == split_whitespace(
        standardize_text(written["texts_train"][0])
    )


def test_write_imdb_npz_skips_test_words_unseen_in_training(tmp_path):
    written = write_imdb_npz(tmp_path / "imdb.npz", 40, 60, seed=5)
    inverted = {rank: word for word, rank in written["word_index"].items()}
    for ids, text in zip(written["x_test"], written["texts_test"], strict=True):
        kept = [t for t in split_whitespace(standardize_text(text)) if t in written["word_index"]]
        assert [inverted[w] for w in ids] == kept


def test_keras_load_data_reads_the_written_file(tmp_path, monkeypatch):
    written = write_imdb_npz(tmp_path / "imdb.npz", 50, 30, seed=2)
    (x_train, y_train), (x_test, y_test) = keras_load_data(
        monkeypatch, tmp_path / "imdb.npz", start_char=None, index_from=0, num_words=10**6
    )
    rng = np.random.RandomState(113)
    order = np.arange(50)
    rng.shuffle(order)
    expected = [written["x_train"][i] for i in order]
    assert_same_imdb(
        [(x_train, y_train)], [(np.array(expected, dtype=object), written["y_train"][order])]
    )
    assert len(x_test) == len(y_test) == 30
