"""Symbolic sizes: how a graph keeps a dimension (a batch size) open until it runs.

A symbolic tensor's ``_data`` is a zero-byte stand-in array, so every front-end
function validates its arguments on it unchanged.  A symbolic dimension (None in
a placeholder's shape) gets the stand-in size :data:`EXAMPLE_SIZE`, a prime no
real shape is likely to use.  Front-end code then computes with it like with any
size: ``x.view(x.shape[0], -1)`` gives a shape attribute ``(7919, 12)``, a mean
over that dim divides by the wrapped number ``7919 * k``, ``x[:-1]`` slices up to
``7918``.  Such values, integers ``k * EXAMPLE_SIZE + b`` with ``k >= 1`` and
``|b| <= SLACK``, stand for ``k * S + b``, S being the size actually fed for the
symbolic dims.  Such a number becomes a graph input that the executable sets at
each run (a placeholder named ``?``, ``5*?``, ``?-1``; being an input, no pass can
fold it into a constant).  In op attributes the stand-in values stay, and the
interpreter substitutes ``k * S + b`` when it runs a graph whose placeholders have
symbolic sizes.  Output specs show such sizes as None (``?`` in the text form).

User code sees a symbolic size as a :class:`StandInSize` (``x.shape[0]``,
``x.size(0)``, ``x.numel()``): an int that graphc's own code computes with as
usual, and that lets user code add, subtract and multiply it by integers (the
result is again ``k * S + b``).  Anything else user code does with it (``//``,
``/``, ``**``, a comparison such as ``if x.shape[0] > 4``, ``int()``,
``range()``, a numpy size) would bake the stand-in into the graph, so it raises
a TracingError; ``gc.compile(dynamic=True)`` then traces with static shapes.

Limits: all symbolic dims of one graph stand for one size S when the graph holds
such values (the executable checks that the feeds agree).  A graph without
symbolic placeholders never looks for them.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .errors import TracingError, user_location

__all__ = ["EXAMPLE_SIZE", "SLACK", "affine", "find_symbolic", "substitute", "symbolic_shape", "example_shape",
           "resolve", "StandInSize", "plain"]

EXAMPLE_SIZE = 7919
SLACK = 8


def affine(v: Any) -> tuple | None:
    """``(k, b)`` when the integer (or integral float) ``v`` is ``k * EXAMPLE_SIZE + b`` (k >= 1,
    |b| <= SLACK), else None."""
    if isinstance(v, (float, np.floating)):
        if not float(v).is_integer():
            return None
        v = int(v)
    elif type(v) is bool or not isinstance(v, (int, np.integer)):
        return None
    v = int(v)
    if v < EXAMPLE_SIZE - SLACK:
        return None
    k = (v + SLACK) // EXAMPLE_SIZE
    b = v - k * EXAMPLE_SIZE
    return (k, b) if abs(b) <= SLACK else None


def find_symbolic(obj: Any, path: tuple = ()) -> dict:
    """``{path: (k, b)}`` for every symbolic-size integer inside nested attrs (dicts, tuples, lists)."""
    found: dict = {}
    stack = [(obj, path)]
    while stack:
        o, p = stack.pop()
        if isinstance(o, dict):
            stack.extend((v, p + (k,)) for k, v in o.items())
        elif isinstance(o, (tuple, list)):
            stack.extend((v, p + (i,)) for i, v in enumerate(o))
        else:
            kb = affine(o)
            if kb is not None:
                found[p] = kb
    return found


def resolve(kb: tuple, size: int) -> int:
    """The value ``k * size + b`` that ``(k, b)`` stands for."""
    return kb[0] * size + kb[1]


def substitute(obj: Any, paths: dict, size: int) -> Any:
    """A copy of nested attrs with each recorded path replaced by its value at ``size``."""
    for path, kb in paths.items():
        obj = _set_in(obj, path, resolve(kb, size))
    return obj


def _set_in(obj: Any, path: tuple, value: int) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        out = dict(obj)
        out[head] = _set_in(obj[head], rest, value)
        return out
    items = list(obj)
    items[head] = _set_in(items[head], rest, value)
    return tuple(items) if isinstance(obj, tuple) else items


def symbolic_shape(shape: tuple) -> tuple:
    """An example shape with its symbolic sizes as None."""
    return tuple(None if d is None or affine(d) is not None else d for d in shape)


def example_shape(shape: tuple) -> tuple:
    """A spec's shape with each None given the stand-in size."""
    return tuple(EXAMPLE_SIZE if d is None else d for d in shape)


# --------------------------------------------------------------------------- stand-ins in user code
def _in_user_code() -> bool:
    """Whether the operator on a StandInSize runs in user code (not in graphc's own modules):
    the frame two levels up is the one that applied it."""
    name = sys._getframe(2).f_globals.get("__name__", "")
    return not (name == "graphc" or name.startswith("graphc."))


def _refuse(what: str, value: int) -> TracingError:
    return TracingError(
        f"{what} of the symbolic size {value} (a stand-in for a size only known when the graph runs) at "
        f"{user_location(3) or '<unknown location>'}: the graph cannot follow it at run time. Pass sizes to "
        "tensor ops as they are (x.view(x.shape[0], -1)), use tensor ops for the rest, or give that "
        "dimension a fixed size (dynamic=False).")


_value = int.__int__      # the plain int of a StandInSize (int() itself is refused in user code)


class StandInSize(int):
    """A symbolic size as Python code sees it (see the module docstring): in graphc's code a plain
    int; in user code ``+``, ``-`` and ``*`` by integers keep it a stand-in, other uses raise."""

    __slots__ = ()
    __hash__ = int.__hash__

    def __reduce__(self):            # pickles (graph attrs, caches) as the plain int
        return (int, (_value(self),))


def _keeps(name: str):
    """An operator whose result stays k * S + b when it is such a value (+, -, * by an int)."""
    base = getattr(int, name)

    def method(self, *args):
        res = base(_value(self), *[_value(a) if isinstance(a, StandInSize) else a for a in args])
        if res is NotImplemented or not _in_user_code():
            return res
        # S * S is not affine (k * S + b), though its stand-in value 7919 * 7919 looks it
        squared = name in ("__mul__", "__rmul__") and isinstance(args[0], StandInSize)
        if isinstance(res, int) and affine(res) is not None and not squared:
            return StandInSize(res)
        raise _refuse(f"'{name.strip('_')}'", _value(self))
    method.__name__ = name
    return method


def _refuses(name: str):
    """An operator user code may not apply (it leaves the k * S + b family or reads the value)."""
    base = getattr(int, name)

    def method(self, *args):
        if _in_user_code():
            raise _refuse(f"'{name.strip('_')}'", _value(self))
        return base(_value(self), *[_value(a) if isinstance(a, StandInSize) else a for a in args])
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__pos__",
              "__trunc__", "__floor__", "__ceil__", "__round__"):
    setattr(StandInSize, _name, _keeps(_name))
for _name in ("__floordiv__", "__rfloordiv__", "__truediv__", "__rtruediv__", "__mod__", "__rmod__",
              "__divmod__", "__rdivmod__", "__pow__", "__rpow__", "__neg__", "__lshift__", "__rlshift__",
              "__rshift__", "__rrshift__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
              "__invert__", "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__bool__",
              "__int__", "__index__", "__float__"):
    setattr(StandInSize, _name, _refuses(_name))


def plain(obj: Any) -> Any:
    """``obj`` with every StandInSize inside (dicts, tuples, lists) turned into a plain int."""
    if isinstance(obj, StandInSize):
        return _value(obj)
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)) and any(isinstance(v, (StandInSize, tuple, list, dict)) for v in obj):
        return type(obj)(plain(v) for v in obj) if type(obj) in (tuple, list) else obj
    return obj

