"""`lazy_attributes`: a package whose public names import their module on first use.

kerasopt's root package and `kerasopt.text` use it so that `import kerasopt` and the
pure-Python tokenizer never load TensorFlow.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping


def lazy_attributes(
    package: str, names: Mapping[str, str], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """`(__getattr__, __dir__, __all__)` for `package`.

    Args:
        package: The package's `__name__`.
        names: Public name -> the module (absolute) that defines it.
        submodules: Subpackages reachable as attributes (`kerasopt.tuning`). Defaults
            to `()`.

    Example:

    >>> __getattr__, __dir__, __all__ = lazy_attributes(
    ...     "kerasopt", {"load_dataset": "kerasopt.data"}, ["data"]
    ... )
    >>> __all__
    ['data', 'load_dataset']
    """
    names = dict(names)
    submodules = tuple(submodules)
    public = sorted([*names, *submodules])

    def __getattr__(name: str) -> object:
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return public

    return __getattr__, __dir__, public
