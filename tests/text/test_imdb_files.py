import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from text_corpus_files import as_lists, assert_same_imdb, keras_load_data

from kerasopt.data.loaders import DatasetUnavailableError
from kerasopt.data.validation import InvalidDataError
from kerasopt.text.imdb_files import (
    decode_review,
    load_imdb,
    load_imdb_npz,
    load_word_index,
    read_npz_safely,
)
from kerasopt.text.review_corpus import write_imdb_npz


@pytest.fixture(scope="module")
def imdb_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imdb")
    written = write_imdb_npz(
        folder / "imdb.npz", 120, 80, seed=0, word_index_path=folder / "word_index.json"
    )
    return folder, written


KERAS_CASES = {
    "defaults": {},
    "num_words": {"num_words": 50},
    "skip_top": {"num_words": 80, "skip_top": 10},
    "maxlen": {"maxlen": 60},
    "no_oov_char": {"num_words": 40, "oov_char": None},
    "no_start_char": {"start_char": None},
    "no_start_no_offset": {"start_char": None, "index_from": 0},
    "other_seed": {"seed": 7, "index_from": 5, "start_char": 3, "oov_char": 4},
}


@pytest.mark.parametrize("kwargs", list(KERAS_CASES.values()), ids=list(KERAS_CASES))
def test_load_imdb_npz_returns_what_keras_load_data_returns(imdb_file, monkeypatch, kwargs):
    path = imdb_file[0] / "imdb.npz"
    ours = load_imdb_npz(path, **kwargs)
    assert_same_imdb(ours, keras_load_data(monkeypatch, path, **kwargs))
    assert ours[0][0].dtype == object and ours[0][0].ndim == 1


def test_load_imdb_npz_on_a_hand_computed_file(tmp_path, monkeypatch):
    x_train = np.empty(3, dtype=object)
    x_train[:] = [[1, 2, 3], [4], [2, 2, 5, 1]]
    x_test = np.empty(2, dtype=object)
    x_test[:] = [[5, 1], [3, 3, 3]]
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=x_train, y_train=np.array([0, 1, 0]), x_test=x_test,
             y_test=np.array([1, 0]))  # fmt: skip
    (xs, ys), (xt, yt) = load_imdb_npz(path, num_words=7, skip_top=5, maxlen=5)
    order = np.arange(3)
    rng = np.random.RandomState(113)
    rng.shuffle(order)
    test_order = np.arange(2)
    rng.shuffle(test_order)
    # +3 offset, start_char 1 prepended; len(with start) < 5 kept; then every id < 5
    # (skip_top, start_char included: Keras does that too) or >= 7 becomes oov_char 2.
    expected = {0: [2, 2, 5, 6], 1: [2, 2], 2: None}
    kept = [i for i in order if expected[i] is not None]
    assert as_lists(xs) == [expected[i] for i in kept]
    np.testing.assert_array_equal(ys, np.array([0, 1, 0])[kept])
    expected_test = {0: [2, 2, 2], 1: [2, 6, 6, 6]}
    assert as_lists(xt) == [expected_test[i] for i in test_order]
    np.testing.assert_array_equal(yt, np.array([1, 0])[test_order])
    kwargs = {"num_words": 7, "skip_top": 5, "maxlen": 5}
    assert_same_imdb(((xs, ys), (xt, yt)), keras_load_data(monkeypatch, path, **kwargs))


def _npz_with_member(path, name, payload_bytes, shape=(1,)):
    """An .npz whose `name` member is an object-array header followed by `payload_bytes`."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": shape}
    )
    clean = io.BytesIO()
    np.save(clean, np.array([0]))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name + ".npy", header.getvalue() + payload_bytes)
        for key in ("y_train", "x_test", "y_test"):
            archive.writestr(key + ".npy", clean.getvalue())


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.npz"
    _npz_with_member(path, "x_train", pickle.dumps(Exploit(), protocol=2))
    with pytest.raises(ValueError, match=r"evil\.npz:x_train\.npy.*(posix|os|nt)\.system"):
        load_imdb_npz(path)
    with pytest.raises(ValueError, match="Refused to load"):
        read_npz_safely(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "global_name",
    [b"builtins\neval", b"numpy\nload", b"numpy._core.multiarray\nscalar"],
    ids=["eval", "numpy.load", "numpy-scalar"],
)
def test_only_the_array_globals_are_allowed(tmp_path, global_name):
    payload = b"c" + global_name + b"\n(S'1'\ntR."  # GLOBAL, then call it with ('1',).
    path = tmp_path / "bad.npz"
    _npz_with_member(path, "x_train", payload)
    refused = global_name.decode().replace("\n", ".")
    with pytest.raises(ValueError, match=f"global {refused}"):
        read_npz_safely(path)


def test_numpy_1_pickles_are_read(tmp_path):
    array = np.empty(2, dtype=object)
    array[:] = [[1, 2], [3]]
    payload = pickle.dumps(array, protocol=3)  # Text GLOBAL opcodes: easy to respell.
    assert b"numpy._core.multiarray" in payload
    old = payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    _npz_with_member(tmp_path / "old.npz", "x_train", old, shape=(2,))
    assert as_lists(read_npz_safely(tmp_path / "old.npz")["x_train"]) == [[1, 2], [3]]


def test_npz_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No IMDB file at .*missing\.npz"):
        load_imdb_npz(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(InvalidDataError, match="not an .npz"):
        load_imdb_npz(tmp_path / "text.npz")
    with zipfile.ZipFile(tmp_path / "garbled.npz", "w") as archive:
        archive.writestr("x_train.npy", b"not an npy file")
    with pytest.raises(InvalidDataError, match=r"garbled\.npz:x_train\.npy' is not a valid"):
        load_imdb_npz(tmp_path / "garbled.npz")
    np.savez(tmp_path / "partial.npz", x_train=np.zeros(2), y_train=np.zeros(2))
    with pytest.raises(InvalidDataError, match=r"lacks the key\(s\) \['x_test', 'y_test'\]"):
        load_imdb_npz(tmp_path / "partial.npz")


def test_load_imdb_reads_a_path_and_rejects_a_folder(imdb_file):
    folder, _ = imdb_file
    path = folder / "imdb.npz"
    assert_same_imdb(load_imdb(path, num_words=30), load_imdb_npz(path, num_words=30))
    with pytest.raises(ValueError, match="load_aclimdb"):
        load_imdb(folder)


def test_load_imdb_without_path_says_how_to_get_out(monkeypatch):
    import keras

    def offline(**kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.imdb, "load_data", offline)
    with pytest.raises(DatasetUnavailableError) as info:
        load_imdb(num_words=100)
    message = str(info.value)
    assert "\n" not in message
    assert "--data PATH" in message and "aclImdb" in message and "'digits'" in message
    assert "OSError" in message


def test_load_imdb_passes_its_arguments_to_keras(monkeypatch):
    import keras

    seen = {}
    monkeypatch.setattr(keras.datasets.imdb, "load_data", lambda **kw: seen.update(kw))
    load_imdb(num_words=10, maxlen=50, seed=1)
    assert seen == dict(num_words=10, skip_top=0, maxlen=50, start_char=1, oov_char=2,
                        index_from=3, seed=1)  # fmt: skip


def test_load_word_index_validates(tmp_path, imdb_file):
    folder, written = imdb_file
    assert load_word_index(folder / "word_index.json") == written["word_index"]
    cases = {
        "list.json": ([1, 2], "JSON object"),
        "zero.json": ({"the": 0}, "ranks start at 1"),
        "float.json": ({"the": 1.5}, r"'the': 1.5"),
        "bool.json": ({"the": True}, r"'the': True"),
    }
    for name, (content, match) in cases.items():
        (tmp_path / name).write_text(json.dumps(content))
        with pytest.raises(InvalidDataError, match=match):
            load_word_index(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="imdb_word_index.json"):
        load_word_index(tmp_path / "nope.json")


def test_decode_review_conventions():
    word_index = {"the": 1, "film": 2, "good": 3}
    # 0 pad and 1 start dropped; 2 oov -> [UNK]; 4..6 -> ranks 1..3; 3 and 99 unknown.
    assert decode_review([1, 4, 2, 5, 6, 3, 99, 0, 0], word_index) == (
        "the [UNK] film good [UNK] [UNK]"
    )
    assert decode_review([2, 1], word_index, start_char=None, oov_char=None, index_from=0) == (
        "film the"
    )


def test_decode_review_inverts_the_writer(imdb_file):
    from kerasopt.text.tokenizer import split_whitespace, standardize_text

    folder, written = imdb_file
    (x_train, _), _ = load_imdb_npz(folder / "imdb.npz", seed=0, num_words=10**6)
    order = np.arange(120)
    np.random.RandomState(0).shuffle(order)
    for ids, i in list(zip(x_train, order, strict=True))[:20]:
        text = written["texts_train"][i]
        assert decode_review(ids, written["word_index"]) == " ".join(
            split_whitespace(standardize_text(text))
        )
