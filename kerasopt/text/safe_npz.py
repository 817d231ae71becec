"""`read_npz_safely`: reads an `.npz`, unpickling object arrays with a restricted unpickler.

numpy saves ragged object arrays (such as IMDB's lists of word ranks) as pickle streams,
and `np.load(allow_pickle=True)` would run whatever a tampered file asks for. The
unpickler here resolves only numpy's array-reconstruction globals and refuses every
other one with `RefusedPickleError`.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.data.validation import InvalidDataError

#: The only globals an object array of lists needs (numpy < 2 and >= 2 spellings).
ALLOWED_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class RefusedPickleError(InvalidDataError):
    """Raised when an `.npz` member's pickle asks for anything but numpy arrays."""


def _reconstruct():
    # Files pickled by numpy 1 name numpy.core.multiarray, which numpy 2 still imports
    # but with a DeprecationWarning; both spellings resolve to the installed function.
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Resolves numpy's array-reconstruction globals and refuses every other one."""

    def __init__(self, file, source: str):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED_PICKLE_GLOBALS:
            return {"ndarray": np.ndarray, "dtype": np.dtype}.get(name) or _reconstruct()
        raise RefusedPickleError(
            f"Refused to load {self.source!r}: its pickle asks for the global "
            f"{module}.{name}, and only numpy array reconstruction "
            f"({', '.join(sorted('.'.join(g) for g in ALLOWED_PICKLE_GLOBALS))}) is "
            "allowed. The file is corrupted or malicious; use the genuine imdb.npz, or store "
            "sequences as Python lists of int."
        )


def read_npz_safely(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads every `.npy` member of an `.npz`; object arrays via a restricted unpickler.

    Example:

    >>> arrays = read_npz_safely("imdb.npz")  # doctest: +SKIP
    >>> sorted(arrays)  # doctest: +SKIP
    ['x_test', 'x_train', 'y_test', 'y_train']
    """
    path = Path(path)
    arrays = {}
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise InvalidDataError(f"{str(path)!r} is not an .npz (zip) archive: {error}.") from error
    with archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as raw:
                buffer = io.BytesIO(raw.read())
            arrays[member[: -len(".npy")]] = _read_npy(buffer, f"{path}:{member}")
    return arrays


def _read_npy(fp: io.BytesIO, source: str) -> np.ndarray:
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):
            # 3.0 differs from 2.0 only by a UTF-8 (not latin-1) header; same layout.
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise InvalidValueError(f"unsupported .npy format version {version}")
    except ValueError as error:
        raise InvalidDataError(f"{source!r} is not a valid .npy array: {error}.") from error
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    try:
        array = _ArrayOnlyUnpickler(fp, source).load()
    except RefusedPickleError:
        raise
    except Exception as error:  # Truncated or garbled pickle streams.
        raise InvalidDataError(f"Could not unpickle {source!r}: {error!r}.") from error
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise InvalidDataError(
            f"{source!r} should hold an array of shape {shape}. Received: "
            f"{type(array).__name__} {getattr(array, 'shape', '')}."
        )
    return array
