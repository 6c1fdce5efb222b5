"""Read the text form (see :mod:`graphc.ir.printer`) back into a Graph.

``parse(str(g))`` equals ``g`` (``Graph.equals``), except for constants too large
to print inline, which come back with their value elided (None).  A trailing
``# ...`` comment on a node line is its ``loc``; whole-line comments are ignored.
The parser checks syntax and that every value is defined before use; whether
the ops and shapes make sense is :func:`graphc.ir.verify`'s business, so tests
can state broken graphs as text.
"""
from __future__ import annotations

import json
import re

import numpy as np

from .. import dtypes as _dt
from ..ops.registry import get as _get_op
from .graph import Graph, Value, constant_storage

__all__ = ["parse", "ParseError"]

_DTYPES = {d.short: d for d in _dt.ALL_DTYPES}
_KEYWORDS = {"True": True, "False": False, "None": None}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#.*)
  | (?P<value>%\d+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:inf|nan)(?![\w.])|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<ellipsis>\.\.\.)
  | (?P<opref>@[A-Za-z_]\w*)
  | (?P<ident>[A-Za-z_][\w.]*)
  | (?P<punct>[=,:\[\](){}?])
  | (?P<bad>.)
""", re.VERBOSE)


class ParseError(ValueError):
    """The text is not in the IR's text form; the message gives the line and the offending text."""


class _Tokens:
    """The tokens of one line, with one-token lookahead."""

    def __init__(self, line: str, lineno: int):
        self.line, self.lineno = line, lineno
        self.toks: list = []
        self.comment: str | None = None
        for m in _TOKEN.finditer(line):
            kind = m.lastgroup
            if kind == "ws":
                continue
            if kind == "comment":
                self.comment = m.group()[1:].strip() or None
            elif kind == "bad":
                self.fail(f"unexpected character {m.group()!r} at column {m.start() + 1}")
            else:
                self.toks.append((kind, m.group()))
        self.i = 0

    def fail(self, msg: str):
        raise ParseError(f"line {self.lineno}: {msg}: {self.line.strip()!r}")

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def next(self):
        tok = self.peek()
        if tok[0] == "end":
            self.fail("unexpected end of line")
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.peek()[1] == text and self.peek()[0] in ("punct", "ident", "ellipsis"):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(f"expected {text!r}, found {self.peek()[1] or 'end of line'!r}")

    def expect_kind(self, kind: str) -> str:
        k, t = self.peek()
        if k != kind:
            self.fail(f"expected a {kind}, found {t or 'end of line'!r}")
        self.i += 1
        return t

    def at_end(self) -> bool:
        return self.i >= len(self.toks)


def _number(text: str):
    if any(c in text for c in ".eE") or "inf" in text or "nan" in text:
        return float(text)
    return int(text)


def _attr_value(tk: _Tokens):
    kind, text = tk.next()
    if kind == "number":
        return _number(text)
    if kind == "string":
        return json.loads(text)
    if kind == "ellipsis":
        return Ellipsis
    if kind == "opref":
        try:
            return _get_op(text[1:])
        except KeyError as e:
            tk.fail(str(e))
    if kind == "ident":
        if text in _KEYWORDS:
            return _KEYWORDS[text]
        if text in _DTYPES:
            return _DTYPES[text]
        if text == "slice":
            tk.expect("(")
            a = _attr_value(tk)
            tk.expect(",")
            b = _attr_value(tk)
            tk.expect(",")
            c = _attr_value(tk)
            tk.expect(")")
            return slice(a, b, c)
        if text == "array":
            tk.expect("(")
            data = _attr_value(tk)
            tk.expect(",")
            dt = _attr_value(tk)
            tk.expect(",")
            shape = _attr_value(tk)
            tk.expect(")")
            if not isinstance(dt, _dt.DType):
                tk.fail(f"array(...) needs a dtype, got {dt!r}")
            return np.array(data, dtype=dt.np).reshape(shape)
        tk.fail(f"unknown name {text!r} in an attribute value")
    if text == "(":
        return tuple(_sequence(tk, ")"))
    if text == "[":
        return _sequence(tk, "]")
    if text == "{":
        return _dict(tk)
    tk.fail(f"unexpected {text!r} in an attribute value")


def _sequence(tk: _Tokens, close: str) -> list:
    items = []
    while not tk.accept(close):
        items.append(_attr_value(tk))
        if not tk.accept(","):
            tk.expect(close)
            break
    return items


def _dict(tk: _Tokens) -> dict:
    out = {}
    while not tk.accept("}"):
        kind, text = tk.next()
        if kind == "ident" and text not in _KEYWORDS:
            key = text
        elif kind == "string":
            key = json.loads(text)
        elif kind == "number":
            key = _number(text)
        else:
            tk.fail(f"expected an attribute name, found {text!r}")
        tk.expect("=")
        out[key] = _attr_value(tk)
        if not tk.accept(","):
            tk.expect("}")
            break
    return out


def _specs(tk: _Tokens) -> list:
    if tk.accept("("):
        tk.expect(")")
        return []
    specs = []
    while True:
        short = tk.expect_kind("ident")
        if short not in _DTYPES:
            tk.fail(f"unknown dtype {short!r}")
        tk.expect("[")
        shape = []
        while not tk.accept("]"):
            if tk.accept("?"):
                shape.append(None)
            else:
                d = _number(tk.expect_kind("number"))
                if not isinstance(d, int):
                    tk.fail(f"a size must be an integer, got {d!r}")
                shape.append(d)
            if not tk.accept(","):
                tk.expect("]")
                break
        specs.append((tuple(shape), _DTYPES[short]))
        if not tk.accept(","):
            return specs


def _operands(tk: _Tokens, values: dict) -> list:
    out = []
    if tk.peek()[0] != "value":
        return out
    while True:
        ref = tk.expect_kind("value")
        k = int(ref[1:])
        if k not in values:
            tk.fail(f"{ref} is used before it is defined")
        out.append(values[k])
        if not tk.accept(","):
            return out


def _node_line(tk: _Tokens, g: Graph, values: dict) -> None:
    ids = [int(tk.expect_kind("value")[1:])]
    while tk.accept(","):
        ids.append(int(tk.expect_kind("value")[1:]))
    tk.expect("=")
    for k in ids:
        if k in values:
            tk.fail(f"%{k} is defined twice")
    if ids != list(range(ids[0], ids[0] + len(ids))):
        tk.fail("the results of one node must be numbered consecutively")
    op = tk.expect_kind("ident")
    opaque = op.startswith("opaque.")
    if opaque:
        op = op[len("opaque."):]
    if op in ("output", "return"):
        tk.fail(f"{op!r} is not a node kind here (the results go on a final 'return' line)")
    name = json.loads(tk.next()[1]) if tk.peek()[0] == "string" else None
    literal, elided = None, False
    if op == "constant":
        if tk.accept("..."):
            elided = True
        else:
            literal = _attr_value(tk)
    inputs = _operands(tk, values)
    attrs = _dict(tk) if tk.accept("{") else {}
    tk.expect(":")
    specs = _specs(tk)
    if not tk.at_end():
        tk.fail(f"unexpected {tk.peek()[1]!r} after the specs")
    if len(ids) != max(1, len(specs)):
        tk.fail(f"{len(ids)} result name(s) for {len(specs)} spec(s)")
    value = None
    if op == "constant":
        if len(specs) != 1:
            tk.fail("a constant has exactly one spec")
        shape, dtype = specs[0]
        if not elided:
            try:
                arr = np.array(literal, dtype=constant_storage(dtype, bool(attrs.get("wrapped"))))
                value = arr.reshape(shape)
            except (TypeError, ValueError) as e:
                tk.fail(f"constant value does not fit {dtype.short}{list(shape)}: {e}")
            value.flags.writeable = False
    try:
        n = g.add_node(op, inputs, attrs, specs, name, tk.comment, value=value, opaque=opaque, node_id=ids[0])
    except (KeyError, IndexError, ValueError, TypeError) as e:
        tk.fail(str(e))
    for i, k in enumerate(ids):
        values[k] = Value(n, i)


def parse(text: str) -> Graph:
    """The Graph that ``text`` (the printer's form) describes; raises :class:`ParseError`.

    >>> g = parse('''
    ...     %0 = placeholder "x" : f32[2,3]
    ...     %1 = exp %0 : f32[2,3]
    ...     return %1
    ... ''')
    """
    g = Graph()
    values: dict = {}
    returned = False
    for lineno, line in enumerate(text.splitlines(), 1):
        tk = _Tokens(line, lineno)
        if tk.at_end():
            continue
        if returned:
            tk.fail("nothing may follow the 'return' line")
        if tk.peek() == ("ident", "return"):
            tk.next()
            outs = _operands(tk, values)
            if not tk.at_end():
                tk.fail(f"unexpected {tk.peek()[1]!r} in the return line")
            g.set_outputs(outs)
            returned = True
        else:
            _node_line(tk, g, values)
    return g
