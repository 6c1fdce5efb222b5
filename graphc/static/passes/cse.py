"""Common subexpression elimination by value numbering.

Two nodes are the same computation when they apply the same op, with equal attributes,
to the same values; constants are the same when dtype, shape, wrapped-ness and bytes agree.
Random and opaque ops, placeholders and parameters never merge.  Each class of equal nodes
keeps its lowest id, so the result does not depend on the order nodes were visited in.
"""
from __future__ import annotations

import numpy as np

from ...ir.graph import Graph, Value
from ._base import PassStats, Timer, attrs_key, is_pure, registry_op

__all__ = ["cse", "node_key"]


def _constant_key(data: dict):
    val = data.get("value")
    if val is None:
        return None  # an elided value is unknown: it equals nothing
    spec = data["specs"][0]
    return ("constant", spec.dtype.name, tuple(val.shape), bool(data["attrs"].get("wrapped")),
            val.dtype.str, np.ascontiguousarray(val).tobytes())


def node_key(g: Graph, n: int, value_of=None):
    """The CSE key of node ``n``, or None when it must never merge with another node.

    ``value_of`` maps an input Value to the number of its class (identity by default, which keys
    by the inputs themselves).
    """
    data = g.node(n)
    op = data["op"]
    if op == "constant":
        return _constant_key(data)
    if not is_pure(registry_op(g, n)):
        return None  # placeholders, parameters, the output, opaque and random ops
    ins = g.inputs_of(n)
    if value_of is not None:
        ins = [value_of(v) for v in ins]
    return (op, tuple(ins), attrs_key(data["attrs"]))


def cse(g: Graph) -> PassStats:
    """Merge every node into the lowest-id node computing the same thing (in place)."""
    stats = PassStats("cse")
    with Timer(g, stats):
        rep_of: dict = {}        # node -> its class's first-met member
        table: dict = {}         # key -> first-met member
        members: dict = {}       # first-met member -> all members

        def value_of(v: Value) -> Value:
            return Value(rep_of[v.node], v.out)

        for n in g.topo_order():
            key = node_key(g, n, value_of)
            first = n if key is None else table.setdefault(key, n)
            rep_of[n] = first
            members.setdefault(first, []).append(n)
        # the lowest id of each class survives; every use of a member moves to it
        survivor = {}
        for first, group in members.items():
            keep = min(group)
            for m in group:
                survivor[m] = keep
        for first, group in sorted(members.items(), key=lambda kv: min(kv[1])):
            keep = min(group)
            for m in sorted(group):
                if m == keep:
                    continue
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
