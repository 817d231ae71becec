"""The `name(args, key=value)` grammar shared by augmentation and regularizer specs.

A spec is a comma-separated list of calls, each a name with optional arguments:

    flip(horizontal), crop_pad(2), brightness(0.2, value_range=(0, 16))
    l1_l2(l1=1e-5, l2=1e-4)

Arguments are positional, then `name=value`. Values are literals only: numbers, strings
(`"..."` or `'...'`), tuples `(a, b)` or `[a, b]` of values and, where the caller allows
them, bare words (`horizontal` reads as the string `"horizontal"`, `true`/`false`/`none`
as `True`/`False`/`None`). Nothing is evaluated: the text is split by one regular
expression and read by a recursive-descent parser, like `ast.literal_eval` but smaller.

Errors are `SpecSyntaxError`, which says where reading stopped and why; each package
words it for its own spec (`kind` tells an unreadable character, a syntax error and a
bare word where only literals are allowed apart).

Example:

>>> from kerasopt.core.spec_grammar import parse_calls
>>> [(c.name, c.args, c.kwargs) for c in parse_calls("flip(horizontal), crop_pad(pad=2)")]
[('flip', ('horizontal',), {}), ('crop_pad', (), {'pad': 2})]
"""

from __future__ import annotations

import dataclasses
import re

from kerasopt.core.errors import InvalidValueError

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<string>"[^"]*"|'[^']*')
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[()\[\],=])
    )""",
    re.VERBOSE,
)
WORDS = {"true": True, "false": False, "none": None, "null": None}


@dataclasses.dataclass(frozen=True)
class Call:
    """One `name(args, key=value)` of a spec; `position` is the name's first character."""

    name: str
    args: tuple
    kwargs: dict
    position: int


class SpecSyntaxError(InvalidValueError):
    """A spec that does not follow the grammar.

    Attributes:
        text: The whole spec.
        position: The character where reading stopped.
        expected: What the parser expected there, e.g. `"',' or ')'"`.
        found: What it found, e.g. `"'rot90' at character 17"` or `"the end"`.
        kind: `"character"` (no token starts there), `"syntax"`, or `"word"` (a bare
            word or call where the caller allows only literal values).
    """

    def __init__(self, message: str, *, text, position, expected, found, kind):
        super().__init__(message)
        self.text, self.position, self.expected = text, position, expected
        self.found, self.kind = found, kind


def _tokenize(text: str, what: str, usage: str) -> list[tuple[str, object, int]]:
    """The tokens of `text`; an unreadable character ends them with an `"error"` token.

    The error is raised only when the parser reaches it, so a bare word before it is
    reported as such.
    """
    tokens, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return tokens
        match = _TOKEN.match(text, position)
        if match is None:
            found = f"{text[position : position + 10]!r}"
            error = SpecSyntaxError(
                f"Cannot read {what} {text!r} at character {position} ({found}). {usage}",
                text=text, position=position, expected="a token", found=found,
                kind="character",
            )  # fmt: skip
            tokens.append(("error", error, position))
            return tokens
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
    def __init__(self, text: str, bare_words: bool, what: str, usage: str):
        self.text, self.bare_words, self.what, self.usage = text, bare_words, what, usage
        self.tokens, self.index = _tokenize(text, what, usage), 0

    def peek(self, value=None):
        if self.index >= len(self.tokens):
            return None
        token = self.tokens[self.index]
        if token[0] == "error":
            raise token[1]
        return token if value is None or token[1] == value and token[0] == "punct" else None

    def error(self, expected: str, kind: str = "syntax") -> SpecSyntaxError:
        if self.index < len(self.tokens):
            _, value, position = self.tokens[self.index]
            found = f"{value!r} at character {position}"
        else:
            position, found = len(self.text), "the end"
        return SpecSyntaxError(
            f"Cannot read {self.what} {self.text!r}: expected {expected}, found {found}. "
            f"{self.usage}",
            text=self.text, position=position, expected=expected, found=found, kind=kind,
        )  # fmt: skip

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

    def calls(self) -> list[Call]:
        calls = []
        while self.peek() is not None:
            calls.append(self.call())
            if self.peek() is not None:
                self.take(",")
        return calls

    def call(self) -> Call:
        _, name, position = self.take(kind="name")
        args, kwargs = [], {}
        if self.peek("("):
            self.take("(")
            while not self.peek(")"):
                token = self.peek()
                after = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
                if token and token[0] == "name" and after and after[:2] == ("punct", "="):
                    if token[1] in kwargs:
                        raise self.error(f"each argument of {name!r} once")
                    self.index += 2
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
        return Call(name, tuple(args), kwargs, position)

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
        if token[0] == "name":
            if not self.bare_words:
                raise self.error("a number, a string or a list", kind="word")
            self.index += 1
            return WORDS.get(token[1].lower(), token[1])
        self.index += 1
        return token[1]


def parse_calls(
    text: str,
    *,
    bare_words: bool = True,
    what: str = "spec",
    usage: str = "Write calls as name(arg, key=value) separated by commas.",
) -> list[Call]:
    """Parses `"a(1, k=2), b"` into `Call`s, or raises `SpecSyntaxError`.

    Args:
        text: The spec.
        bare_words: Read a bare word as a string (and `true`/`false`/`none` as
            `True`/`False`/`None`); when `False` only numbers, strings and tuples of them
            are values. Defaults to `True`.
        what: What the spec is, for the message, e.g. `"augmentation spec"`. Defaults to
            `"spec"`.
        usage: The sentence that ends each message, saying how to write the spec.

    Example:

    >>> parse_calls("max_norm(2, axis=[0, 1])", bare_words=False)[0].kwargs
    {'axis': (0, 1)}
    """
    return _Parser(text, bare_words, what, usage).calls()
