import numpy as np
import pytest
from mnist_like_files import make_mnist_like_npz
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from kerasopt.data import DatasetUnavailableError, InvalidDataError, load_dataset, load_npz


def test_digits_test_split_is_the_documented_one(digits):
    raw = load_digits()
    _, x_test, _, y_test = train_test_split(
        raw.images, raw.target, test_size=0.2, stratify=raw.target, random_state=0
    )
    np.testing.assert_array_equal(digits.x_test, x_test.astype("float32"))
    np.testing.assert_array_equal(digits.y_test, y_test)
    assert digits.describe()["sizes"] == {"train": 1293, "val": 144, "test": 360}


def test_digits_keeps_raw_pixel_values(digits):
    assert digits.input_shape == (8, 8)
    assert digits.x_train.min() == 0 and digits.x_train.max() == 16


def test_digits_splits_do_not_overlap(digits):
    rows = lambda x: {r.tobytes() for r in x}  # noqa: E731
    assert not rows(digits.x_val) & rows(digits.x_test)
    assert len(digits.y_train) + len(digits.y_val) == 1437


def test_npz_in_mnist_format_loads_with_validation_carved(tmp_path):
    arrays = make_mnist_like_npz(tmp_path / "mnist.npz")
    data = load_dataset("mnist", tmp_path / "mnist.npz")
    assert data.x_train.dtype == np.uint8 and data.input_shape == (28, 28)
    assert data.describe()["sizes"] == {"train": 108, "val": 12, "test": 40}
    np.testing.assert_array_equal(data.x_test, arrays["x_test"])
    assert data.split["source"] == "npz:mnist.npz"


def test_npz_missing_key_names_the_key(tmp_path):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((4, 2)), y_train=np.zeros(4))
    with pytest.raises(InvalidDataError, match=r"lacks the key\(s\) \['x_test', 'y_test'\]"):
        load_npz(tmp_path / "bad.npz")


def test_npz_with_object_arrays_is_refused_not_unpickled(tmp_path):
    objects = np.array([{"a": 1}, None], dtype=object)
    np.savez(
        tmp_path / "pickled.npz", x_train=objects, y_train=objects, x_test=objects, y_test=objects
    )
    with pytest.raises(InvalidDataError, match="would unpickle"):
        load_npz(tmp_path / "pickled.npz")


def test_npz_with_nan_names_the_array(tmp_path):
    arrays = make_mnist_like_npz(tmp_path / "m.npz")
    x_train = arrays["x_train"].astype("float32")
    x_train[3, 4, 5] = np.nan
    np.savez(tmp_path / "nan.npz", **{**arrays, "x_train": x_train})
    with pytest.raises(InvalidDataError, match=r"x_train contains 1 NaN/Inf.*\(3, 4, 5\)"):
        load_dataset("mnist", tmp_path / "nan.npz")


def test_missing_npz_path_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="x_train, y_train, x_test, y_test"):
        load_dataset("mnist", tmp_path / "nope.npz")


def test_offline_keras_dataset_gives_one_line_with_both_ways_out(monkeypatch):
    import urllib.error

    import keras

    def offline():
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "--data PATH" in message and "'digits'" in message and "\n" not in message


@pytest.mark.parametrize(
    "name, path, match",
    [("imagenet", None, "Unknown dataset 'imagenet'"), ("digits", "x.npz", "takes no data_path")],
    ids=["unknown", "digits-with-path"],
)
def test_bad_dataset_arguments(name, path, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(name, path)


def test_any_classification_npz_loads_by_path(tmp_path):
    from kerasopt.data import load_dataset_or_file

    make_mnist_like_npz(tmp_path / "letters.npz", n_train=200, n_test=40)
    data = load_dataset_or_file(str(tmp_path / "letters.npz"))
    assert data.name == "letters" and data.num_classes == 10
    assert len(data.y_train) + len(data.y_val) == 200 and len(data.y_test) == 40
    assert load_dataset_or_file("digits").name == "digits"


def test_unknown_name_or_missing_file_is_named(tmp_path):
    from kerasopt.data import load_dataset_or_file

    with pytest.raises(ValueError, match=r"Unknown dataset 'digitz'. Expected one of"):
        load_dataset_or_file("digitz")
    with pytest.raises(FileNotFoundError, match=r"No dataset file at"):
        load_dataset_or_file(str(tmp_path / "missing.npz"))


def test_system_idx_folder_is_read_when_keras_has_no_cache(tmp_path, monkeypatch):
    from mnist_like_files import make_idx_folder

    from kerasopt.data import loaders

    folder = tmp_path / "fashion-mnist"
    make_idx_folder(folder, n_train=100, n_test=10, seed=3)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    monkeypatch.setitem(loaders.SYSTEM_IDX_FOLDERS, "fashion_mnist", folder)
    data = load_dataset("fashion_mnist")
    assert data.describe()["split"]["source"] == f"idx:{folder}"
    assert len(data.y_test) == 10 and data.class_names[0] == "T-shirt/top"


def test_keras_cache_wins_over_the_system_folder(tmp_path, monkeypatch):
    import keras

    from kerasopt.data import loaders

    cached = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    cached.mkdir(parents=True)
    (cached / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setitem(loaders.SYSTEM_IDX_FOLDERS, "fashion_mnist", tmp_path / "unused")
    x = np.zeros((100, 28, 28), "uint8")
    y = np.arange(100) % 10
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: ((x, y), (x, y)))
    data = load_dataset("fashion_mnist")
    assert data.describe()["split"]["source"] == "keras.datasets.fashion_mnist"


def test_offline_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    import urllib.error

    import keras

    from kerasopt.data import loaders

    def offline():
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setitem(loaders.SYSTEM_IDX_FOLDERS, "fashion_mnist", tmp_path / "absent")
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DatasetUnavailableError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion_mnist")
