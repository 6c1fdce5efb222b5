"""Common subexpression elimination by value numbering.

Two nodes are the same computation when they apply the same op, with equal attributes,
to the same values; constants are the same when dtype, shape, wrapped-ness and bytes agree.
Random and opaque ops, placeholders and parameters never merge.  Each class of equal nodes
keeps its lowest id, so the result does not depend on the order nodes were visited in.
"""
from __future__ import annotations

import numpy as np

from ...ir.graph import Graph
from ._base import PassStats, Timer, attrs_key, is_pure, registry_op

__all__ = ["cse", "node_key"]


def _constant_key(data: dict):
    val = data.get("value")
    if val is None:
        return None  # an elided value is unknown: it equals nothing
    spec = data["specs"][0]
    return ("constant", spec.dtype.name, tuple(val.shape), bool(data["attrs"].get("wrapped")),
            val.dtype.str, np.ascontiguousarray(val).tobytes())


def _key(g: Graph, n: int, number: dict | None):
    """The key of node ``n`` with each input node replaced by ``number[input]`` (itself if None)."""
    data = g.nx._node[n]
    op = data["op"]
    if op == "constant":
        return _constant_key(data)
    if not is_pure(registry_op(g, n)):
        return None  # placeholders, parameters, the output, opaque and random ops
    ins = sorted((d["arg"], u if number is None else number[u], d["out"])
                 for u, keyed in g.nx._pred[n].items() for d in keyed.values())
    return (op, tuple((u, o) for _, u, o in ins), attrs_key(data["attrs"]))


def node_key(g: Graph, n: int):
    """The CSE key of node ``n``: equal keys mean equal results; None for a node that must never
    merge with another (placeholders, parameters, opaque and random ops, elided constants)."""
    return _key(g, n, None)


def cse(g: Graph) -> PassStats:
    """Merge every node into the lowest-id node computing the same thing (in place)."""
    stats = PassStats("cse")
    with Timer(g, stats):
        number: dict = {}        # node -> the first-met member of its class (its value number)
        table: dict = {}         # key -> first-met member
        classes: dict = {}       # first-met member -> all members
        for n in g.topo_order():
            key = _key(g, n, number)
            first = n if key is None else table.setdefault(key, n)
            number[n] = first
            classes.setdefault(first, []).append(n)
        survivor = {}
        for group in sorted(classes.values(), key=min):
            keep = min(group)
            for m in sorted(group):
                survivor[m] = keep
                if m != keep:
                    stats.changes.append(f"cse: %{m} merged into %{keep} ({g.op(m)})")
        merged = [m for m, keep in survivor.items() if m != keep]
        if merged:
            _redirect(g, survivor, merged)
    return stats


def _redirect(g: Graph, survivor: dict, merged: list) -> None:
    """Point every edge that leaves a merged node at its survivor, then drop the merged nodes."""
    nxg = g.nx
    moved = []
    for m in merged:
        for _, v, k, d in list(nxg.out_edges(m, keys=True, data=True)):
            moved.append((survivor[m], v, d["arg"], d["out"]))
            nxg.remove_edge(m, v, key=k)
    nxg.remove_nodes_from(merged)
    for src, v, arg, out in moved:
        if v in nxg:  # an edge into another merged node goes away with it
            nxg.add_edge(src, v, arg=arg, out=out)
