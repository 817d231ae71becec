"""`find_search_spec`: a spec by path, or by the name of one that ships in `tuning/`.

The specs that come with kerasopt live in the repository's top-level `tuning/` folder
(a wheel installs them under `<prefix>/share/kerasopt/tuning/`), so `"digits"` finds
`tuning/digits.toml` from any working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kerasopt.core.errors import MissingFileError
from kerasopt.core.suggestions import did_you_mean

SPEC_SUFFIX = ".toml"


def bundled_spec_folders() -> list[Path]:
    """The folders holding the specs that ship with kerasopt, the existing ones first.

    Example:

    >>> from kerasopt.tuning.spec_files import bundled_spec_folders
    >>> [folder.name for folder in bundled_spec_folders()][:1]  # doctest: +SKIP
    ['tuning']
    """
    folders = [
        Path(__file__).resolve().parents[2] / "tuning",  # a source or editable install
        Path(sys.prefix) / "share" / "kerasopt" / "tuning",  # a wheel's data files
    ]
    return [folder for folder in folders if folder.is_dir()]


def bundled_spec_names() -> list[str]:
    """Names of the specs that ship with kerasopt (`"digits"`, `"mnist"`, ...), sorted."""
    names = {path.stem for folder in bundled_spec_folders() for path in folder.glob("*.toml")}
    return sorted(names)


def find_search_spec(name_or_path: str | os.PathLike) -> Path:
    """The spec file `name_or_path` names.

    A path that exists is used as it is. Otherwise a bare name (`"digits"` or
    `"digits.toml"`) or a path inside the repository (`"tuning/digits.toml"`) is looked
    up among the specs that ship with kerasopt, wherever the working directory is.

    Example:

    >>> from kerasopt.tuning.spec_files import find_search_spec
    >>> find_search_spec("digits").name  # doctest: +SKIP
    'digits.toml'
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidates = []
    if not path.is_absolute():
        stem = path.name[: -len(SPEC_SUFFIX)] if path.name.endswith(SPEC_SUFFIX) else path.name
        if path.parent == Path(".") or path.parent == Path("tuning"):
            candidates += [folder / f"{stem}{SPEC_SUFFIX}" for folder in bundled_spec_folders()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    names = bundled_spec_names()
    raise MissingFileError(
        f"Search spec {str(name_or_path)!r} does not exist. Expected the path of a .toml "
        f"spec or the name of one that ships with kerasopt: {', '.join(names) or 'none'}."
        + did_you_mean(path.stem, names)
    )
