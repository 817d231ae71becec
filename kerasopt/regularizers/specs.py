"""Parses regularizer and constraint specs such as `"l2(1e-4)"` without `eval`."""

from __future__ import annotations

from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.spec_grammar import SpecSyntaxError, parse_calls
from kerasopt.core.suggestions import did_you_mean

# spec name -> (Keras class name, positional parameter names in order)
REGULARIZERS = {
    "l1": ("L1", ("l1",)),
    "l2": ("L2", ("l2",)),
    "l1_l2": ("L1L2", ("l1", "l2")),
    "orthogonal": ("OrthogonalRegularizer", ("factor", "mode")),
}
CONSTRAINTS = {
    "max_norm": ("MaxNorm", ("max_value", "axis")),
    "min_max_norm": ("MinMaxNorm", ("min_value", "max_value", "rate", "axis")),
    "unit_norm": ("UnitNorm", ("axis",)),
    "non_neg": ("NonNeg", ()),
}


def _normalize(name: str) -> str:
    return name.lower().replace("_", "")


def _lookup(table: dict) -> dict:
    """Accepts `l1_l2`, `l1l2`, `L1L2`, `orthogonal_regularizer`, `MaxNorm`, ..."""
    found = {}
    for spec_name, (class_name, params) in table.items():
        for alias in (spec_name, class_name):
            found[_normalize(alias)] = (spec_name, class_name, params)
    return found


def _literal(value, argument: str, text: str):
    """Numbers and strings as they are, tuples of ints as lists (axes); anything else fails."""
    if isinstance(value, tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return list(value)
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    raise InvalidValueError(
        f"{argument}={text!r}: arguments must be numbers, strings or lists of axes, got "
        f"{value!r}. Example: 'l1_l2(l1=1e-5, l2=1e-4)'."
    )


def _split_call(text: str, argument: str) -> tuple[str, list, dict]:
    """Splits `"name(1e-4, mode='rows')"` into `("name", [1e-4], {"mode": "rows"})`.

    The text is read by the spec grammar of `kerasopt.core.spec_grammar`; nothing in it is
    executed.
    """
    usage = (
        f"Expected NAME or NAME(arguments), e.g. 'l2(1e-4)' or 'max_norm(3)'. "
        f"Received: {argument}={text!r}."
    )
    try:
        calls = parse_calls(text, bare_words=False, what=argument, usage=usage)
    except SpecSyntaxError as error:
        if error.kind == "word":
            raise InvalidValueError(
                f"{argument}={text!r}: arguments must be numbers, strings or lists of axes, "
                f"got {error.found}. Example: 'l1_l2(l1=1e-5, l2=1e-4)'."
            ) from error
        raise InvalidValueError(f"Could not parse {argument}. {usage}") from error
    if len(calls) != 1:
        raise InvalidValueError(f"Could not parse {argument}. {usage}")
    call = calls[0]
    args = [_literal(a, argument, text) for a in call.args]
    kwargs = {k: _literal(v, argument, text) for k, v in call.kwargs.items()}
    return call.name, args, kwargs


def _build(module, entry, args, kwargs, argument, text):
    spec_name, class_name, params = entry
    if len(args) > len(params):
        raise InvalidValueError(
            f"{argument}={text!r}: {spec_name} takes at most {len(params)} positional "
            f"argument(s) {params}, got {len(args)}."
        )
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise InvalidValueError(
            f"{argument}={text!r}: {spec_name} has no parameter(s) {unknown}. "
            f"Valid parameters: {list(params)}."
        )
    merged = dict(zip(params, args, strict=False))
    duplicated = sorted(set(merged) & set(kwargs))
    if duplicated:
        raise InvalidValueError(f"{argument}={text!r}: {duplicated} given twice.")
    merged.update(kwargs)
    try:
        return getattr(module, class_name)(**merged)
    except (TypeError, ValueError) as error:
        raise InvalidValueError(f"Could not build {argument} from {text!r}: {error}") from error


def _parse(spec, argument: str, kind: str):
    import keras

    module = keras.regularizers if kind == "regularizer" else keras.constraints
    base = module.Regularizer if kind == "regularizer" else module.Constraint
    table = REGULARIZERS if kind == "regularizer" else CONSTRAINTS
    other = CONSTRAINTS if kind == "regularizer" else REGULARIZERS
    example = "l2(1e-4)" if kind == "regularizer" else "max_norm(3)"
    if spec is None or isinstance(spec, base):
        return spec
    if isinstance(spec, dict):
        return module.deserialize(spec)
    if not isinstance(spec, str):
        raise InvalidTypeError(
            f"{argument} must be a keras.{module.__name__.split('.')[-1]}.{base.__name__}, "
            f"a spec string such as {example!r} or a serialized config dict. "
            f"Received: {argument}={spec!r} ({type(spec).__name__}). Plain functions are "
            "refused because a model holding one cannot be saved and reloaded."
        )
    name, args, kwargs = _split_call(spec, argument)
    entry = _lookup(table).get(_normalize(name))
    if entry is not None:
        return _build(module, entry, args, kwargs, argument, spec)
    if _normalize(name) in _lookup(other):
        other_kind = "constraint" if kind == "regularizer" else "regularizer"
        fixed = argument.replace(kind, other_kind)
        raise InvalidValueError(
            f"{argument}={spec!r} names a {other_kind}, not a {kind}. Pass it as {fixed}={spec!r}."
        )
    if not args and not kwargs:
        try:  # a registered custom object, e.g. "kerasopt>MyRegularizer"
            return module.get(name)
        except (TypeError, ValueError):
            pass
    known = sorted(table)
    close = did_you_mean(name.lower(), known, cutoff=0.5)
    raise InvalidValueError(
        f"Unknown {kind} {name!r} in {argument}={spec!r}.{close} Known: {known}."
    )


def parse_regularizer(spec, argument: str = "kernel_regularizer"):
    """Turns a regularizer spec into a Keras regularizer.

    Accepts a `keras.regularizers.Regularizer`, a serialized config dict, a Keras
    identifier (`"l2"`, which means Keras' default `L2(0.01)`), or a spec string with
    numeric arguments: `"l1(1e-5)"`, `"l2(1e-4)"`, `"l1_l2(l1=1e-5, l2=1e-4)"`,
    `"orthogonal(0.01)"` or `"orthogonal(0.01, mode='columns')"`. Class names work too
    (`"L1L2(...)"`). The string is parsed by the spec grammar, never evaluated.

    Args:
        spec: The regularizer, its spec, or `None` (returned unchanged).
        argument: Name used in error messages. Defaults to `"kernel_regularizer"`.

    Example:

    >>> from kerasopt.regularizers import parse_regularizer
    >>> parse_regularizer("l1_l2(l1=1e-5, l2=1e-4)").get_config()
    {'l1': 1e-05, 'l2': 0.0001}
    """
    return _parse(spec, argument, "regularizer")


def parse_constraint(spec, argument: str = "kernel_constraint"):
    """Turns a constraint spec into a Keras constraint.

    Accepts a `keras.constraints.Constraint`, a serialized config dict, or a spec string:
    `"max_norm(3)"`, `"max_norm(2, axis=[0, 1, 2])"`, `"min_max_norm(0.5, 2)"`,
    `"unit_norm"`, `"non_neg"`. The string is parsed by the spec grammar, never evaluated.

    Args:
        spec: The constraint, its spec, or `None` (returned unchanged).
        argument: Name used in error messages. Defaults to `"kernel_constraint"`.

    Example:

    >>> from kerasopt.regularizers import parse_constraint
    >>> parse_constraint("max_norm(3)").get_config()
    {'max_value': 3, 'axis': 0}
    """
    return _parse(spec, argument, "constraint")
