"""The idx format MNIST and Fashion-MNIST are distributed in, read and checked.

An idx file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order. The four
files of a dataset (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
`t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`) come gzipped (`.gz`) or not; Debian's
`dataset-fashion-mnist` installs them under `/usr/share/datasets/fashion-mnist/`.

A file that is truncated, has trailing bytes, a wrong magic number, the wrong number of
dimensions, or a count that does not match its partner is refused in one line naming
the file and what is wrong.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from kerasopt.core.errors import MissingFileError
from kerasopt.data.validation import InvalidDataError

#: Type code of the magic number -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
#: The four files of a dataset, as distributed (each may end in `.gz`).
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one idx file (gzipped or not) into an array of its own shape and dtype.

    Raises:
        InvalidDataError: The file is not a complete idx file; the message names it.

    Example:

    >>> folder = "/usr/share/datasets/fashion-mnist"
    >>> labels = read_idx(f"{folder}/t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
    >>> labels.shape, labels.dtype  # doctest: +SKIP
    ((10000,), dtype('uint8'))
    """
    path = Path(path)
    content = _read_bytes(path)
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in IDX_DTYPES:
        raise InvalidDataError(
            f"{path.name}: not an idx file: expected the magic number 00 00 <type> <dims> "
            f"with a type in {[f'0x{code:02X}' for code in IDX_DTYPES]}. Received: "
            f"{content[:4].hex(' ') or 'an empty file'}. Pass the original MNIST-format file."
        )
    dtype, ndim = IDX_DTYPES[content[2]], content[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(content) < header:
        raise InvalidDataError(
            f"{path.name}: truncated header: {ndim} dimensions need {header} bytes, the file "
            f"holds {len(content)}. Re-download or re-install the file."
        )
    shape = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    received = len(content) - header
    if received != expected:
        what = "truncated" if received < expected else "has trailing bytes"
        raise InvalidDataError(
            f"{path.name}: {what}: the header says shape {shape} ({expected:,} bytes of "
            f"data), the file holds {received:,}. Re-download or re-install the file."
        )
    array = np.frombuffer(content, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def find_idx_file(folder: str | os.PathLike, stem: str) -> Path:
    """`folder/stem`, or `folder/stem.gz`; the dotted spelling (`train-images.idx3-ubyte`)
    some mirrors use is accepted too.

    Raises:
        MissingFileError: Neither is there; the message lists what the folder holds.
    """
    folder = Path(folder)
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
        if (folder / name).is_file():
            return folder / name
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise MissingFileError(
        f"{folder}: no {stem}[.gz] in the folder (it holds {present or 'nothing'}). Pass a "
        f"folder with the four idx files {', '.join(IDX_FILES.values())}, gzipped or not."
    )


def load_idx_folder(folder: str | os.PathLike) -> tuple[np.ndarray, ...]:
    """`(x_train, y_train, x_test, y_test)` from the four idx files of an MNIST-format
    dataset, each checked against its partner.

    Images must have 3 dimensions (samples, rows, columns) and labels 1; the image and
    label counts of each split must match, and both splits share one image size.

    Example:

    >>> x_train, y_train, x_test, y_test = load_idx_folder(
    ...     "/usr/share/datasets/fashion-mnist"
    ... )  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (60000, 28, 28)
    """
    folder = Path(folder)
    paths = {key: find_idx_file(folder, stem) for key, stem in IDX_FILES.items()}
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for key, ndim in (("x_train", 3), ("y_train", 1), ("x_test", 3), ("y_test", 1)):
        if arrays[key].ndim != ndim:
            kind = "images (samples, rows, columns)" if ndim == 3 else "labels (samples,)"
            raise InvalidDataError(
                f"{paths[key].name}: expected {ndim} dimensions of {kind}. Received: shape "
                f"{arrays[key].shape}. Check that the file is in its place."
            )
    for part in ("train", "test"):
        images, labels = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(images) != len(labels):
            raise InvalidDataError(
                f"{paths[f'x_{part}'].name} holds {len(images):,} images but "
                f"{paths[f'y_{part}'].name} {len(labels):,} labels: the two files do not "
                "belong together. Re-install both from one source."
            )
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise InvalidDataError(
            f"{paths['x_train'].name} holds {arrays['x_train'].shape[1:]} images, "
            f"{paths['x_test'].name} {arrays['x_test'].shape[1:]}: the splits come from "
            "different datasets. Re-install both from one source."
        )
    return tuple(arrays[key] for key in IDX_FILES)


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise MissingFileError(f"No idx file at {str(path)!r}. Pass an existing file.")
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise InvalidDataError(
            f"{path.name}: a damaged or truncated gzip file ({error}). Re-download or "
            "re-install the file."
        ) from None
