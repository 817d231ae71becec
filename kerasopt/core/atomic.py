"""Atomic file writes: a killed process never leaves a half-written artifact.

Every artifact kerasopt writes (`.tflite`, `.keras`, `report.json`, plots) goes to a
temporary file in the destination folder first and is then moved into place with
`os.replace`, which is atomic on POSIX and Windows when both paths share a filesystem.
The file gets the mode a plain `open(path, "w")` would give it (0666 less the umask), not
the 0600 of a temporary file, so a model copied to a web server or a shared folder stays
readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def default_file_mode() -> int:
    """0o666 less the process umask: the mode `open(path, "w")` gives a new file.

    Example:

    >>> oct(default_file_mode())  # doctest: +SKIP
    '0o644'
    """
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `path`; on success moves it onto `path`.

    The temporary name keeps the suffix of `path`, so writers that insist on an
    extension (`model.save` wants `.keras`) accept it.

    Example:

    >>> with atomic_path("saved_models/digits/model.keras") as tmp:  # doctest: +SKIP
    ...     model.save(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.partial-", suffix=path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.is_file():  # a writer may have replaced the file (model.save does)
            os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Writes `data` to `path` atomically and returns the path."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Writes UTF-8 `text` to `path` atomically and returns the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_report_files(out_dir: str | os.PathLike, data: dict, markdown: str) -> Path:
    """Writes `report.json` (`data`) and `report.md` (`markdown`) to `out_dir`, each atomically.

    Values JSON cannot hold (paths, numpy scalars) are written as their `str`. Returns
    the folder.

    Example:

    >>> write_report_files("out", {"accuracy": 0.99}, "# Report")  # doctest: +SKIP
    """
    out = Path(out_dir)
    write_text_atomic(out / "report.json", json.dumps(data, indent=2, default=str))
    write_text_atomic(out / "report.md", markdown)
    return out
