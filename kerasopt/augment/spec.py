"""The policy string syntax: a small, safe parser that builds ops from text.

A spec is a comma-separated list of ops, each a name with optional arguments:

    flip(horizontal), rot90, crop_pad(2), brightness(0.2, value_range=(0, 16)),
    mixup(alpha=0.2)

Arguments are positional (in the order of the op's constructor) or `name=value`.
Values are numbers, strings (`"..."` or `'...'`, or a bare word such as `horizontal`),
booleans (`true`/`false`), `none`, and tuples `(a, b)` or `[a, b]` of those. Nothing is
evaluated: the text is tokenised with one regular expression and read by a recursive
descent parser. Unknown op names and arguments raise `ValueError` naming them, listing
the valid ones, with a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import inspect
import re

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

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<string>"[^"]*"|'[^']*')
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[()\[\],=])
    )""",
    re.VERBOSE,
)
_WORDS = {"true": True, "false": False, "none": None, "null": None}


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _tokenize(text: str) -> list[tuple[str, object, int]]:
    tokens, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return tokens
        match = _TOKEN.match(text, position)
        if match is None:
            raise InvalidValueError(
                f"Cannot read augmentation spec {text!r} at character {position} "
                f"({text[position : position + 10]!r}). Write ops as name(arg, key=value) "
                f"separated by commas, e.g. 'flip(horizontal), crop_pad(2)'."
            )
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        elif kind == "string":
            value = raw[1:-1]
        else:
            value = raw
        tokens.append((kind, value, match.start(kind)))
        position = match.end()


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.index = text, _tokenize(text), 0

    def peek(self, value=None):
        if self.index >= len(self.tokens):
            return None
        token = self.tokens[self.index]
        return token if value is None or token[1] == value and token[0] == "punct" else None

    def error(self, expected: str):
        if self.index < len(self.tokens):
            found = f"{self.tokens[self.index][1]!r} at character {self.tokens[self.index][2]}"
        else:
            found = "the end"
        return ValueError(
            f"Cannot read augmentation spec {self.text!r}: expected {expected}, found {found}. "
            f"Write ops as name(arg, key=value) separated by commas, e.g. "
            f"'flip(horizontal), crop_pad(2)'."
        )

    def take(self, value=None, kind=None):
        token = self.peek()
        if (
            token is None
            or (value is not None and token[1] != value)
            or (kind is not None and token[0] != kind)
        ):
            raise self.error(repr(value) if value is not None else f"a {kind}")
        self.index += 1
        return token

    def ops(self):
        ops = []
        while self.peek() is not None:
            ops.append(self.op())
            if self.peek() is not None:
                self.take(",")
        return ops

    def op(self):
        name = self.take(kind="name")[1]
        args, kwargs = [], {}
        if self.peek("("):
            self.take("(")
            while not self.peek(")"):
                token = self.peek()
                after = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
                if token and token[0] == "name" and after and after[:2] == ("punct", "="):
                    self.index += 2
                    if token[1] in kwargs:
                        raise InvalidValueError(f"Op {name!r} got argument {token[1]!r} twice.")
                    kwargs[token[1]] = self.value()
                elif kwargs:
                    raise self.error("key=value (positional arguments go first)")
                else:
                    args.append(self.value())
                if not self.peek(")"):
                    if not self.peek(","):
                        raise self.error(f"',' or ')' in the arguments of {name!r}")
                    self.take(",")
            self.take(")")
        return name, args, kwargs

    def value(self):
        token = self.peek()
        if token is None:
            raise self.error("a value")
        if token[0] == "punct" and token[1] in "([":
            close = ")" if token[1] == "(" else "]"
            self.index += 1
            items = []
            while not self.peek(close):
                items.append(self.value())
                if not self.peek(close):
                    self.take(",")
            self.take(close)
            return tuple(items)
        if token[0] == "punct":
            raise self.error("a value")
        self.index += 1
        if token[0] == "name":
            return _WORDS.get(token[1].lower(), token[1])
        return token[1]


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
            f"Unknown augmentation op {name!r}.{_did_you_mean(str(name), op_names())} "
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
                f"{_did_you_mean(key, params)} Valid arguments: {', '.join(params)}."
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
    return [make_op(name, args, kwargs) for name, args, kwargs in _Parser(spec).ops()]
