"""Named datasets: `digits` (offline), `mnist`, `fashion_mnist`, `cifar10`, or local files.

`digits` is scikit-learn's bundled 8x8 handwritten digits and needs no network. The Keras
datasets load through `keras.datasets` when the genuine file is cached (or downloadable),
from the idx files a system package installed (Debian's `dataset-fashion-mnist`) when
Keras has none cached, or from local files given as `data_path`: a folder with the four
idx files MNIST and Fashion-MNIST are distributed in (`kerasopt.data.idx_files`), or a
`.npz` with keys `x_train, y_train, x_test, y_test`.
The `.npz` is read with `np.load(allow_pickle=False)`: `load_data()` rejects paths and
deletes a cached file whose hash differs, and a user's file must never be unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kerasopt.core.errors import InvalidValueError, KerasoptError, MissingFileError
from kerasopt.data.idx_files import load_idx_folder
from kerasopt.data.splits import SPLIT_SEED, DatasetSplits, carve_validation
from kerasopt.data.validation import InvalidDataError

DIGITS_TEST_SIZE = 0.2
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
KERAS_DATASETS = {"mnist": 10, "fashion_mnist": 10, "cifar10": 10}
DATASETS = ("digits", *KERAS_DATASETS)
#: Where a system package installs a dataset's original idx files (Debian's
#: `dataset-fashion-mnist`); read when Keras has not cached the dataset.
SYSTEM_IDX_FOLDERS = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}
#: How to get a dataset without the network, where there is a way.
OFFLINE_INSTALL = {
    "fashion_mnist": "apt-get install dataset-fashion-mnist (then --data "
    "/usr/share/datasets/fashion-mnist)"
}
#: The first file `keras.datasets.<name>.load_data()` caches under `~/.keras/datasets`.
_KERAS_CACHE_FILES = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist/train-labels-idx1-ubyte.gz",
    "cifar10": "cifar-10-batches-py",
}
#: Names of the classes, in label order, where the labels are not the names themselves.
CLASS_NAMES = {
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    "cifar10": (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
}


class DatasetUnavailableError(KerasoptError, RuntimeError):
    """Raised when a dataset is neither cached, downloadable, nor given as a file."""


def load_dataset(name: str, data_path: str | os.PathLike | None = None) -> DatasetSplits:
    """Loads a named dataset with fixed, documented splits.

    Args:
        name: One of `"digits"`, `"mnist"`, `"fashion_mnist"`, `"cifar10"`.
        data_path: Local files used instead of `keras.datasets`: a folder with the four
            idx files (`train-images-idx3-ubyte[.gz]`, ...), or a `.npz` with keys
            `x_train, y_train, x_test, y_test` in the Keras dataset's format. Defaults to
            `None`: Keras' cache (or download), or, when Keras has not cached it, the
            files a system package installed (`SYSTEM_IDX_FOLDERS`).

    Returns:
        A `DatasetSplits`. Test split: `digits` uses
        `train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)`; the Keras
        datasets use their official test set. Validation is a stratified 10 % of the
        training part (`random_state=0`).

    Example:

    >>> data = load_dataset("digits")
    >>> len(data.y_test)
    360
    """
    if name not in DATASETS:
        raise InvalidValueError(
            f"Unknown dataset {name!r}. Expected one of {list(DATASETS)}, or pass a "
            "local .npz with data_path (--data PATH)."
        )
    if name == "digits":
        if data_path is not None:
            raise InvalidValueError(
                "The 'digits' dataset ships with scikit-learn and takes no data_path "
                f"(--data). Received: data_path={str(data_path)!r}."
            )
        return _load_digits()
    if data_path is None and not _cached_by_keras(name) and _has_idx_files(name):
        data_path = SYSTEM_IDX_FOLDERS[name]
    if data_path is not None:
        arrays, source = load_local_files(data_path)
    else:
        arrays = _load_keras_dataset(name)
        source = f"keras.datasets.{name}"
    split = {"source": source, "test": "official test set"}
    return carve_validation(
        name,
        *arrays,
        num_classes=KERAS_DATASETS[name],
        split=split,
        class_names=CLASS_NAMES.get(name),
    )


def load_local_files(path: str | os.PathLike) -> tuple[tuple[np.ndarray, ...], str]:
    """`((x_train, y_train, x_test, y_test), source)` from an idx folder or a `.npz`.

    Example:

    >>> arrays, source = load_local_files("/usr/share/datasets/fashion-mnist")  # doctest: +SKIP
    >>> source  # doctest: +SKIP
    'idx:/usr/share/datasets/fashion-mnist'
    """
    path = Path(path)
    if path.is_dir():
        return load_idx_folder(path), f"idx:{path}"
    return load_npz(path), f"npz:{path.name}"


def load_dataset_or_file(name_or_path: str, data_path: str | os.PathLike | None = None):
    """A named dataset (`load_dataset`), or any classification `.npz` given by its path.

    A path (an idx folder or a `.npz`) loads `x_train, y_train, x_test, y_test` with
    `load_local_files`, names the dataset after the file or folder, counts classes as the
    largest label + 1, and carves the usual stratified validation split. This is what
    `--data SCENARIO|PATH` accepts.

    Example:

    >>> data = load_dataset_or_file("digits")
    >>> data = load_dataset_or_file("my_images.npz")  # doctest: +SKIP
    """
    if name_or_path in DATASETS:
        return load_dataset(name_or_path, data_path)
    path = Path(name_or_path)
    if path.suffix != ".npz" and not path.exists():
        raise InvalidValueError(
            f"Unknown dataset {name_or_path!r}. Expected one of {list(DATASETS)}, the "
            "path of a .npz with x_train, y_train, x_test, y_test, or a folder of idx files."
        )
    arrays, source = load_local_files(path)
    labels = np.concatenate([np.asarray(arrays[1]).reshape(-1), np.asarray(arrays[3]).reshape(-1)])
    if labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise InvalidDataError(
            f"{str(path)!r}: y_train and y_test must hold integer class ids. Received dtype "
            f"{labels.dtype} with {labels.size} labels."
        )
    split = {"source": source, "test": "the file's x_test/y_test"}
    return carve_validation(path.stem, *arrays, num_classes=int(labels.max()) + 1, split=split)


def load_npz(path: str | os.PathLike) -> tuple[np.ndarray, ...]:
    """Reads `(x_train, y_train, x_test, y_test)` from a local `.npz`, without pickle.

    Example:

    >>> x_train, y_train, x_test, y_test = load_npz("mnist.npz")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"No dataset file at {str(path)!r}. Pass the path of a .npz with keys "
            f"{', '.join(NPZ_KEYS)} (for MNIST, the mnist.npz that Keras downloads)."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise InvalidDataError(
                    f"{str(path)!r} lacks the key(s) {missing}; it has {npz.files}. A "
                    f"dataset .npz needs the keys {list(NPZ_KEYS)}."
                )
            return tuple(npz[k] for k in NPZ_KEYS)
    except ValueError as error:
        if isinstance(error, InvalidDataError):
            raise
        raise InvalidDataError(
            f"Could not read {str(path)!r} as a .npz of plain arrays ({error}). Object "
            "arrays are refused because loading them would unpickle the file."
        ) from error


def _load_digits() -> DatasetSplits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.images.astype("float32")  # (1797, 8, 8), values 0..16
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=SPLIT_SEED
    )
    split = {
        "source": "sklearn.datasets.load_digits",
        "test": (
            f"train_test_split(X, y, test_size={DIGITS_TEST_SIZE}, stratify=y, "
            f"random_state={SPLIT_SEED})"
        ),
    }
    return carve_validation("digits", x_train, y_train, x_test, y_test, num_classes=10, split=split)


def _cached_by_keras(name: str) -> bool:
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return (home / "datasets" / _KERAS_CACHE_FILES[name]).exists()


def _has_idx_files(name: str) -> bool:
    folder = SYSTEM_IDX_FOLDERS.get(name)
    return folder is not None and folder.is_dir() and any(folder.glob("train-images-idx3*"))


def _load_keras_dataset(name: str) -> tuple[np.ndarray, ...]:
    import keras

    module = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as error:  # urllib, http and hash errors all mean "not here".
        offline = f"; offline: {OFFLINE_INSTALL[name]}" if name in OFFLINE_INSTALL else ""
        raise DatasetUnavailableError(
            f"Dataset {name!r} is not cached and could not be downloaded "
            f"({type(error).__name__}): pass --data PATH to a folder of its idx files or a "
            f".npz with keys {', '.join(NPZ_KEYS)}, or use the offline dataset "
            f"'digits'{offline}."
        ) from error
    return x_train, y_train, x_test, y_test
