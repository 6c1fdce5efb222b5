"""What every pass shares: the :class:`PassStats` record, purity tests, canonical attribute keys,
and the local clean-up a rewrite does after it replaces a node."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ... import dtypes as _dt
from ...ir.graph import LEAVES, STRUCTURAL, Graph
from ...ops.registry import REGISTRY, OpDef

__all__ = ["PassStats", "Timer", "node_count", "registry_op", "is_pure", "attrs_key", "canonical",
           "remove_if_dead"]

# categories and OpDef.extra flags whose results are not a function of the inputs alone
_IMPURE_CATEGORIES = frozenset(("random", "opaque"))
_IMPURE_FLAGS = ("random", "nondeterministic", "impure", "side_effects")


@dataclass
class PassStats:
    """What one pass did to a graph.

    ``changes`` holds one human-readable line per rewrite (``"cse: %7 merged into %4 (mul)"``);
    ``nodes_*`` count every node but the output node, ``ops_*`` only op nodes;
    ``ir`` is the graph's text after the pass (filled by :func:`run_pipeline`);
    ``groups`` is set by the fusion pass (lists of node ids, one per kernel).
    """

    name: str
    nodes_before: int = 0
    nodes_after: int = 0
    ops_before: int = 0
    ops_after: int = 0
    changes: list = field(default_factory=list)
    seconds: float = 0.0
    ir: str | None = None
    groups: list | None = None

    @property
    def changed(self) -> bool:
        """True when the pass rewrote anything."""
        return bool(self.changes)

    def summary(self) -> str:
        """One line: ``cse: 12 -> 9 nodes (3 changes, 0.1 ms)``."""
        return (f"{self.name}: {self.nodes_before} -> {self.nodes_after} nodes, {self.ops_before} -> "
                f"{self.ops_after} ops ({len(self.changes)} change{'s' * (len(self.changes) != 1)}, "
                f"{self.seconds * 1e3:.2f} ms)")

    def __str__(self) -> str:
        return "\n".join([self.summary(), *("  " + c for c in self.changes)])


def node_count(g: Graph) -> tuple:
    """(nodes but the output node, op nodes) of ``g``."""
    total = g.nx.number_of_nodes() - (g.output_node is not None and g.output_node in g.nx)
    return total, len(g)


class Timer:
    """Fills a PassStats' counts and time around a pass body: ``with Timer(g, stats): ...``."""

    def __init__(self, g: Graph, stats: PassStats):
        self.g, self.stats = g, stats

    def __enter__(self) -> PassStats:
        self.stats.nodes_before, self.stats.ops_before = node_count(self.g)
        self.t0 = time.perf_counter()
        return self.stats

    def __exit__(self, *exc) -> None:
        self.stats.seconds = time.perf_counter() - self.t0
        self.stats.nodes_after, self.stats.ops_after = node_count(self.g)


def registry_op(g: Graph, n: int) -> OpDef | None:
    """The OpDef node ``n`` applies, or None for structural and opaque nodes."""
    data = g.node(n)
    if data["op"] in STRUCTURAL or data.get("opaque"):
        return None
    return REGISTRY.get(data["op"])


def is_pure(op: OpDef | None) -> bool:
    """True when ``op``'s results depend only on its inputs and attributes (so CSE and folding may
    touch it): not random, not opaque, no impurity flag in ``op.extra``."""
    if op is None or op.category in _IMPURE_CATEGORIES:
        return False
    return not any(op.extra.get(flag) for flag in _IMPURE_FLAGS)


def canonical(v):
    """A hashable key equal for attribute values that mean the same thing.

    Attributes hold tuples, lists, dicts, slices, dtypes, OpDefs (view chains) and arrays; the
    key tags each value with its kind so ``True``, ``1`` and ``1.0`` stay apart, and floats go by
    ``repr`` so NaN equals NaN and ``-0.0`` differs from ``0.0``.  Unknown objects key by identity.
    """
    # iterative would be overkill: attribute nesting is a few levels deep
    if v is None or v is Ellipsis:
        return (repr(v),)
    if isinstance(v, (bool, np.bool_)):
        return ("bool", bool(v))
    if isinstance(v, (int, np.integer)):
        return ("int", int(v))
    if isinstance(v, (float, np.floating)):
        return ("float", repr(float(v)))
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, _dt.DType):
        return ("dtype", v.name)
    if isinstance(v, OpDef):
        return ("op", v.name)
    if isinstance(v, tuple):
        return ("tuple",) + tuple(canonical(x) for x in v)
    if isinstance(v, list):
        return ("list",) + tuple(canonical(x) for x in v)
    if isinstance(v, dict):
        return ("dict",) + tuple(sorted(((canonical(k), canonical(x)) for k, x in v.items()), key=repr))
    if isinstance(v, slice):
        return ("slice", canonical(v.start), canonical(v.stop), canonical(v.step))
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape, np.ascontiguousarray(v).tobytes())
    return ("object", id(v))


def attrs_key(attrs: dict) -> tuple:
    """The canonical key of a node's attribute dict."""
    return canonical(attrs) if attrs else ()


def remove_if_dead(g: Graph, n: int) -> list:
    """Remove ``n`` if nothing uses it, then each input that this leaves unused (op nodes and
    constants only: placeholders and parameters are the graph's signature); return the removed ids."""
    removed = []
    stack = [n]
    while stack:
        m = stack.pop()
        if m not in g.nx or g.nx._succ[m] or m == g.output_node:
            continue
        op = g.node(m)["op"]
        if op in LEAVES and op != "constant":
            continue
        preds = list(g.nx._pred[m])
        g.nx.remove_node(m)
        removed.append(m)
        stack.extend(preds)
    return removed
