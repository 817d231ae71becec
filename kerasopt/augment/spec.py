"""The policy string syntax: a small, safe parser that builds ops from text.

A spec is a comma-separated list of ops, each a name with optional arguments:

    flip(horizontal), rot90, crop_pad(2), brightness(0.2, value_range=(0, 16)),
    mixup(alpha=0.2)

Arguments are positional (in the order of the op's constructor) or `name=value`.
Values are numbers, strings (`"..."` or `'...'`, or a bare word such as `horizontal`),
booleans (`true`/`false`), `none`, and tuples `(a, b)` or `[a, b]` of those. Nothing is
evaluated: the grammar is `kerasopt.core.spec_grammar`, shared with the regularizer
specs. Unknown op names and arguments raise `ValueError` naming them, listing the valid
ones, with a "did you mean" suggestion.
"""

from __future__ import annotations

import inspect

from kerasopt.augment import (  # noqa: F401 - importing the op modules registers them.
    color,
    crop_pad,
    erasing,
    flip,
    label_mixing,
    noise,
    rand_augment,
    random_affine,
    rot90,
)
from kerasopt.augment._base import AugmentOp, op_class, op_names
from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.spec_grammar import parse_calls
from kerasopt.core.suggestions import did_you_mean

_USAGE = (
    "Write ops as name(arg, key=value) separated by commas, e.g. 'flip(horizontal), crop_pad(2)'."
)


def make_op(name: str, args=(), kwargs=None) -> AugmentOp:
    """Builds the op registered as `name` from positional and keyword arguments.

    Args:
        name: An op name, e.g. `"flip"`, `"crop_pad"`, `"mixup"`.
        args: Positional arguments, in the order of the op's constructor. Defaults to `()`.
        kwargs: Keyword arguments. Defaults to `None`.

    Example:

    >>> from kerasopt.augment.spec import make_op
    >>> op = make_op("crop_pad", [2])
    """
    kwargs = dict(kwargs or {})
    cls = op_class(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidValueError(
            f"Unknown augmentation op {name!r}.{did_you_mean(name, op_names())} "
            f"Valid ops: {', '.join(op_names())}."
        )
    params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    if len(args) > len(params):
        raise InvalidValueError(
            f"Op {name!r} ({cls.__name__}) takes at most {len(params)} arguments "
            f"({', '.join(params)}). Received {len(args)}: {tuple(args)!r}."
        )
    for key in kwargs:
        if key not in params:
            raise InvalidValueError(
                f"Unknown argument {key!r} for op {name!r} ({cls.__name__})."
                f"{did_you_mean(key, params)} Valid arguments: {', '.join(params)}."
            )
    for key, value in zip(params, args, strict=False):
        if key in kwargs:
            raise InvalidValueError(
                f"Op {name!r} got argument {key!r} twice: {value!r} and by name."
            )
        kwargs[key] = value
    return cls(**kwargs)


def op_from_dict(entry: dict) -> AugmentOp:
    """Builds an op from `{"name": "crop_pad", "pad": 2}` (the TOML inline-table form)."""
    if "name" not in entry:
        raise InvalidValueError(
            f"An augmentation op given as a table needs a 'name' key, e.g. "
            f'{{name = "crop_pad", pad = 2}}. Received: {entry!r}.'
        )
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items() if k != "name"}
    return make_op(entry["name"], (), kwargs)


def parse_spec(spec: str) -> list[AugmentOp]:
    """Parses a spec string such as `"flip(horizontal), rot90, crop_pad(2)"` into ops.

    Args:
        spec: Comma-separated ops; see the module docstring for the syntax.

    Example:

    >>> from kerasopt.augment.spec import parse_spec
    >>> ops = parse_spec("flip(horizontal), crop_pad(pad=2), brightness(0.2)")
    """
    if not isinstance(spec, str):
        raise InvalidTypeError(f"parse_spec expects a string. Received: {spec!r} ({type(spec)}).")
    calls = parse_calls(spec, what="augmentation spec", usage=_USAGE)
    return [make_op(call.name, call.args, call.kwargs) for call in calls]
