"""`output_lock`: one kerasopt process at a time writes to an output folder.

Two `kerasopt run digits --out same` started together would train on one resume state
and overwrite each other's files. The first takes an exclusive `flock` on
`OUT/.kerasopt.lock` and writes who it is into the file; the second fails at once, in
one line naming the first. The kernel drops the lock when its process dies, however it
dies, so a lock file left by a killed run is simply taken over (and logged). A run that
created the folder and fails before writing anything leaves no folder behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from kerasopt.core.errors import OutputLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_FILE = ".kerasopt.lock"
logger = logging.getLogger(__name__)
#: Folders this process holds, with a nesting count: a run that compresses into its
#: own folder, or a pipeline called from a locked CLI command, takes the lock again.
_HELD: dict[Path, int] = {}


@contextlib.contextmanager
def output_lock(folder: str | os.PathLike, purpose: str = "") -> Iterator[Path]:
    """Holds an exclusive lock on `folder` while the block runs; yields the folder.

    Args:
        folder: The output folder; created if missing.
        purpose: What the holder is doing, shown to a second process
            (e.g. `"kerasopt run digits"`). Defaults to the command line.

    Raises:
        OutputLockedError: Another live process holds the folder.

    Example:

    >>> with output_lock("saved_models/digits", "kerasopt run digits"):  # doctest: +SKIP
    ...     train_and_export()
    """
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    path = folder / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        _acquire(handle, path)
        previous = _read_holder(handle)
        if previous and previous.get("pid") != os.getpid():
            logger.info(
                "Took over %s, left by process %s (%s), which is no longer running.",
                path,
                previous.get("pid"),
                previous.get("purpose", "?"),
            )
        holder = {
            "pid": os.getpid(),
            "purpose": purpose or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder) + "\n")
        handle.flush()
        _HELD[key] = 1
        try:
            yield folder
        finally:
            del _HELD[key]
            handle.seek(0)
            handle.truncate()
            handle.flush()
            if created and [p.name for p in folder.iterdir()] == [LOCK_FILE]:
                path.unlink()  # still holding the lock: nobody else can be using it
                folder.rmdir()
    finally:
        handle.close()  # closing releases the flock


def _acquire(handle, path: Path) -> None:
    if fcntl is None:  # pragma: no cover - Windows: no lock, but no wrong refusal either
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(handle) or {}
        raise OutputLockedError(
            f"{path.parent} is in use by process {holder.get('pid', '?')} "
            f"({holder.get('purpose', 'another kerasopt run')}, started "
            f"{holder.get('started', '?')}). Wait for it to finish, or pass another --out."
        ) from None


def _read_holder(handle) -> dict | None:
    handle.seek(0)
    text = handle.read().strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
