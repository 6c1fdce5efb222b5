"""Nested Python structures of tensors (tuples, lists, dicts): flatten to leaves and rebuild.

Arguments of a compiled function and results of a graph keep the structure the
user gave; only the leaves change (tensors become placeholders, graph results
become eager tensors).
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["flatten", "unflatten", "map_leaves", "leaf_paths"]


def flatten(obj: Any) -> tuple:
    """``(leaves, treedef)``: the non-container leaves in order, and what :func:`unflatten` needs."""
    leaves: list = []
    return leaves, _flatten(obj, leaves)


def _flatten(obj: Any, leaves: list):
    tp = type(obj)
    if tp is tuple or tp is list:
        return (tp, tuple(_flatten(x, leaves) for x in obj))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return (tp, tuple(_flatten(x, leaves) for x in obj))
    if tp is dict:
        return (dict, tuple((k, _flatten(v, leaves)) for k, v in obj.items()))
    leaves.append(obj)
    return None


def unflatten(treedef, leaves) -> Any:
    """The structure ``treedef`` with ``leaves`` put back in order."""
    it = iter(leaves)
    return _unflatten(treedef, it)


def _unflatten(td, it):
    if td is None:
        return next(it)
    tp, items = td
    if tp is dict:
        return {k: _unflatten(v, it) for k, v in items}
    vals = [_unflatten(x, it) for x in items]
    if tp is tuple or tp is list:
        return tp(vals)
    return tp(*vals)  # namedtuple


def map_leaves(fn: Callable, obj: Any) -> Any:
    """``obj`` with ``fn`` applied to each leaf."""
    leaves, td = flatten(obj)
    return unflatten(td, [fn(x) for x in leaves])


def leaf_paths(obj: Any, prefix: str) -> list:
    """A label per leaf of ``obj``, in :func:`flatten`'s order: ``prefix``, ``prefix[0]``, ``prefix['k']``..."""
    out: list = []
    stack = [(obj, prefix)]
    while stack:
        o, p = stack.pop()
        tp = type(o)
        if tp is tuple or tp is list or (isinstance(o, tuple) and hasattr(o, "_fields")):
            stack.extend(reversed([(x, f"{p}[{i}]") for i, x in enumerate(o)]))
        elif tp is dict:
            stack.extend(reversed([(v, f"{p}[{k!r}]") for k, v in o.items()]))
        else:
            out.append(p)
    return out
