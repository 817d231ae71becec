import dataclasses

import numpy as np
import pytest

from kerasopt.data.validation import InvalidDataError
from kerasopt.text.imdb_files import decode_review
from kerasopt.text.review_corpus import generate_reviews
from kerasopt.text.text_splits import TextSplits, carve_text_validation, text_splits_from_ids


@pytest.fixture(scope="module")
def splits():
    texts, labels = generate_reviews(300, seed=0)
    return carve_text_validation(
        "reviews", texts[:200], labels[:200], texts[200:], labels[200:],
        split={"source": "synthetic"},
    )  # fmt: skip


def test_carve_is_the_documented_stratified_split(splits):
    from sklearn.model_selection import train_test_split

    texts, labels = generate_reviews(300, seed=0)
    _, texts_val, _, y_val = train_test_split(
        np.array(texts[:200], dtype=object), labels[:200], test_size=0.1,
        stratify=labels[:200], random_state=0,
    )  # fmt: skip
    assert list(splits.texts_val) == list(texts_val)
    np.testing.assert_array_equal(splits.y_val, y_val)
    assert splits.describe() == {
        "name": "reviews",
        "input_shape": [],
        "input_dtype": "string",
        "num_classes": 2,
        "sizes": {"train": 180, "val": 20, "test": 100},
        "split": {
            "source": "synthetic",
            "validation": "train_test_split(train, test_size=0.1, stratify=y, random_state=0)",
        },
    }


def test_splits_hold_object_str_arrays_and_int64(splits):
    for part in ("train", "val", "test"):
        texts = getattr(splits, f"texts_{part}")
        assert texts.dtype == object and all(isinstance(t, str) for t in texts)
        assert getattr(splits, f"y_{part}").dtype == np.int64
    with pytest.raises(dataclasses.FrozenInstanceError):
        splits.name = "other"


def test_trailing_nul_characters_survive():
    data = carve_text_validation("nul", ["a\x00", "b"] * 10, [0, 1] * 10, ["c\x00"], [1], split={})
    assert data.texts_test[0] == "c\x00"


@pytest.mark.parametrize(
    "change, match",
    [
        ({"y_val": np.array([0, 5])}, r"outside the class range \[0, 1\]: min=0, max=5"),
        ({"texts_test": np.array([], dtype=object), "y_test": np.array([], dtype="int64")},
         "texts_test is empty"),
        ({"texts_val": np.array([b"bytes", "ok"], dtype=object)}, r"item 0 is bytes"),
        ({"texts_val": np.array(["one"], dtype=object)}, "texts_val and y_val have different"),
    ],
    ids=["label-range", "empty-split", "bytes", "length-mismatch"],
)  # fmt: skip
def test_check_names_the_problem(change, match):
    base = dict(
        name="t",
        texts_train=np.array(["a", "b"], dtype=object),
        y_train=np.array([0, 1]),
        texts_val=np.array(["c", "d"], dtype=object),
        y_val=np.array([1, 0]),
        texts_test=np.array(["e"], dtype=object),
        y_test=np.array([1]),
    )
    base.update(change)
    with pytest.raises(InvalidDataError, match=match):
        TextSplits(**base).check()


def test_carve_rejects_a_bad_fraction():
    with pytest.raises(ValueError, match=r"validation_fraction=1.5"):
        carve_text_validation("t", ["a"] * 4, [0, 1] * 2, ["b"], [0], split={},
                              validation_fraction=1.5)  # fmt: skip


def test_from_ids_decodes_with_a_word_index():
    word_index = {"great": 1, "film": 2, "bad": 3}
    x_train = [[1, 4, 5], [1, 6, 5, 2]] * 10
    data = text_splits_from_ids(x_train, [1, 0] * 10, [[1, 6, 99]], [0], word_index,
                                split={"source": "npz:imdb.npz"})  # fmt: skip
    assert set(data.texts_train) | set(data.texts_val) == {"great film", "bad film [UNK]"}
    assert data.texts_test[0] == decode_review([1, 6, 99], word_index) == "bad [UNK]"
    assert data.split["source"] == "npz:imdb.npz"
    assert data.split["text"] == "decode_review(ids, word_index)"


def test_from_ids_without_word_index_uses_w_tokens():
    x_train = [np.array([1, 4, 2, 7, 0, 0])] * 10 + [[1, 5]] * 10
    data = text_splits_from_ids(x_train, [0] * 10 + [1] * 10, [[1, 2, 3, 4]], [1])
    # start_char 1 and padding 0 dropped, oov_char 2 -> [UNK], other ids i -> w{i}.
    assert set(data.texts_train) | set(data.texts_val) == {"w4 [UNK] w7", "w5"}
    assert data.texts_test[0] == "[UNK] w3 w4"
    assert data.split["text"] == "id i -> token 'w{i}'"
