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

Limits: all symbolic dims of one graph stand for one size S when the graph holds
such values (the executable checks that the feeds agree); sizes turned into
something else in Python (``1 / x.shape[0]``, ``x.shape[0] ** 2``) are not
recognized.  A graph without symbolic placeholders never looks for them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EXAMPLE_SIZE", "SLACK", "affine", "find_symbolic", "substitute", "symbolic_shape", "example_shape", "resolve"]

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
