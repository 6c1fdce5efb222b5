"""Fusion: partition the op nodes into groups a code generator emits as one loop nest each.

A fusible node is an elementwise op, an ``expand`` (a broadcast read) or one of the simple
reductions (:data:`FUSIBLE_REDUCTIONS`).  A group is a set of fusible nodes, connected by
producer/consumer edges, that:

* share one iteration domain: the output shape of every elementwise/expand member and the
  input shape of the reduction, if any (so the kernel runs one loop nest over that shape and
  reads other values with broadcasting);
* holds at most one reduction, and no member depends on it (the reduction ends the group);
* leaves the graph of groups acyclic once each group is contracted to one node (a value may
  not leave the group, pass through another kernel and come back).

Every other op (matmul, copying movement, indexing, opaque ops...) is a group of its own, so
groups never cross them.  The partition is built greedily in topological order (a node joins
the groups of its producers when the rules allow), which makes it deterministic.  Each op
node gets the data key ``group`` (an int; groups are numbered in a topological order of the
group graph) and the pass returns the groups in ``PassStats.groups``.
"""
from __future__ import annotations

import networkx as nx

from ...ir.graph import LEAVES, STRUCTURAL, Graph
from ...ops.registry import REGISTRY
from ._base import PassStats, Timer

__all__ = ["fuse", "fusion", "fusion_groups", "groups_of", "format_groups", "group_graph", "FUSIBLE_REDUCTIONS"]

FUSIBLE_REDUCTIONS = frozenset(("sum", "prod", "amax", "amin", "all", "any"))


def _kind(g: Graph, n: int) -> str | None:
    """"elementwise", "reduction" or None (not fusible)."""
    data = g.node(n)
    if data.get("opaque") or len(data["specs"]) != 1:
        return None
    op = REGISTRY.get(data["op"])
    if op is None or op.extra.get("fusible") is False:
        return None
    if op.category == "elementwise" or op.name == "expand":
        return "elementwise"
    if op.name in FUSIBLE_REDUCTIONS:
        return "reduction"
    return None


class _Group:
    __slots__ = ("members", "domain", "closed", "min_pos", "ext")

    def __init__(self, n: int, domain, pos: int):
        self.members = [n]
        self.domain = domain
        self.closed = False
        self.min_pos = pos
        self.ext: set = set()      # nodes outside the group that feed a member (may hold stale members)


class _Partition:
    """Union-find over node ids with one _Group per root."""

    def __init__(self, g: Graph, prune: bool = True):
        self.g = g
        self.prune = prune
        self.order = g.topo_order()
        self.pos = {n: i for i, n in enumerate(self.order)}
        self.parent: dict = {}
        self.group: dict = {}

    def find(self, n: int) -> int:
        root = n
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[n] != root:  # path compression
            self.parent[n], n = root, self.parent[n]
        return root

    def add(self, n: int, domain) -> int:
        self.parent[n] = n
        self.group[n] = _Group(n, domain, self.pos[n])
        return n

    def union(self, a: int, b: int) -> int:
        ga, gb = self.group[a], self.group[b]
        if len(ga.members) < len(gb.members):
            a, b, ga, gb = b, a, gb, ga
        self.parent[b] = a
        ga.members.extend(gb.members)
        ga.ext |= gb.ext
        ga.min_pos = min(ga.min_pos, gb.min_pos)
        ga.closed = ga.closed or gb.closed
        del self.group[b]
        return a

    def reaches(self, sources: set, min_pos: int, starts) -> bool:
        """Does a path lead from a member of the groups ``sources`` (roots) to one of ``starts``
        (nodes outside them) in the graph of groups?  Searched backward from ``starts``; a node
        of another group stands for its whole group (contracted, every member's inputs lead into
        it, even when those members do not reach each other); nodes placed before ``min_pos``
        (the sources' first member) cannot lie on such a path."""
        pos, pred, parent = self.pos, self.g.nx._pred, self.parent
        if not self.prune:
            min_pos = -1
        stack = [q for q in starts if pos[q] > min_pos]
        seen = set(stack)
        expanded: set = set()
        while stack:
            q = stack.pop()
            if q in parent:
                r = self.find(q)
                if r in sources:
                    return True
                if r not in expanded and len(self.group[r].members) > 1:
                    expanded.add(r)
                    for m in self.group[r].members:
                        if m not in seen and pos[m] > min_pos - 1:
                            seen.add(m)
                            stack.append(m)
            for p in pred[q]:
                if p not in seen and pos[p] > min_pos - 1:
                    seen.add(p)
                    stack.append(p)
        return False

    def outside(self, roots: set, nodes) -> list:
        return [q for q in nodes if not (q in self.parent and self.find(q) in roots)]

    def mergeable(self, s: int, s_is_single: bool, t: int) -> bool:
        """Can group ``s`` (holding the newest node) and group ``t`` merge without a cycle?"""
        both = {s, t}
        gs, gt = self.group[s], self.group[t]
        # a path t -> outside -> s
        if self.reaches({t}, gt.min_pos, self.outside(both, gs.ext)):
            return False
        # a path s -> outside -> t; impossible while s is only the newest node (nothing after it is grouped)
        if not s_is_single and self.reaches({s}, gs.min_pos, self.outside(both, gt.ext)):
            return False
        return True


def _domain(g: Graph, n: int, kind: str):
    if kind == "reduction":
        return tuple(g.spec(g.inputs_of(n)[0]).shape)
    return tuple(g.specs(n)[0].shape)


def _partition(g: Graph, prune: bool = True) -> tuple:
    """The groups (lists of node ids in topological order), ordered topologically, and the
    contracted graph's check.

    The merge checks skip nodes placed before the groups they start from (no path can go
    back in topological order), which is exact for single nodes but not for a group whose
    members lie on both sides of that position: a path can enter it through a late member
    and leave through an early one.  When a grouping comes out cyclic, it is redone without
    the shortcut (slower, exact)."""
    part = _Partition(g, prune)
    for n in part.order:
        op = g.node(n)["op"]
        if op in STRUCTURAL:
            continue
        kind = _kind(g, n)
        if kind is None:
            part.add(n, None)  # a group of its own, which nothing joins
            part.group[n].closed = True
            continue
        dom = _domain(g, n, kind)
        s = part.add(n, dom)
        ins = [u for u, _ in g.inputs_of(n)]
        part.group[s].ext.update(ins)
        single = True
        for u in ins:
            if u not in part.parent:
                continue  # a leaf
            t = part.find(u)
            gt = part.group[t]
            if t == s or gt.closed or gt.domain != dom:
                continue
            if part.mergeable(s, single, t):
                s = part.union(s, t)
                single = False
        if kind == "reduction":
            part.group[s].closed = True
    roots = list(part.group)
    pos = part.pos
    for r in roots:
        part.group[r].members.sort(key=pos.__getitem__)
    # contract: one node per group; numbered in topological order, ties by first member
    q = nx.DiGraph()
    q.add_nodes_from(roots)
    for r in roots:
        for m in part.group[r].members:
            for v in g.nx._succ[m]:
                if v in part.parent:
                    rv = part.find(v)
                    if rv != r:
                        q.add_edge(r, rv)
    if not nx.is_directed_acyclic_graph(q):
        if prune:
            return _partition(g, prune=False)
        raise AssertionError("fuse: the grouping made the group graph cyclic")  # pragma: no cover
    first = {r: part.group[r].min_pos for r in roots}
    ordered = list(nx.lexicographical_topological_sort(q, key=first.__getitem__))
    return [part.group[r].members for r in ordered]


def fusion_groups(g: Graph) -> list:
    """The fusion groups of ``g`` (lists of op node ids), without annotating the graph."""
    return _partition(g)


def groups_of(g: Graph) -> list:
    """The groups recorded by the last :func:`fuse` (from the nodes' ``group`` keys), by number."""
    by: dict = {}
    for n, k in g.nx.nodes(data="group"):
        if k is not None:
            by.setdefault(k, []).append(n)
    order = {n: i for i, n in enumerate(g.topo_order())}
    return [sorted(by[k], key=order.__getitem__) for k in sorted(by)]


def group_graph(g: Graph, groups: list) -> nx.DiGraph:
    """The graph with each group contracted to one node (numbered as in ``groups``)."""
    where = {n: i for i, members in enumerate(groups) for n in members}
    q = nx.DiGraph()
    q.add_nodes_from(range(len(groups)))
    for u, v in g.nx.edges():
        if u in where and v in where and where[u] != where[v]:
            q.add_edge(where[u], where[v])
    return q


def format_groups(g: Graph, groups: list) -> str:
    """Comment lines naming each group of more than one node: ``# group 2: %4 add, %5 exp, %6 sum``."""
    lines = []
    for i, members in enumerate(groups):
        if len(members) > 1:
            lines.append(f"# group {i}: " + ", ".join(f"%{m} {g.op(m)}" for m in members))
    return "\n".join(lines)


def fuse(g: Graph) -> PassStats:
    """Annotate each op node of ``g`` with its fusion group (data key ``group``) and return the
    groups in ``stats.groups``; a change line names each multi-node group that is new."""
    stats = PassStats("fuse")
    with Timer(g, stats):
        old = {m: frozenset(members) for members in groups_of(g) for m in members}
        groups = _partition(g)
        for n, data in g.nx.nodes(data=True):
            if data["op"] in LEAVES or data["op"] == "output":
                data.pop("group", None)
        for i, members in enumerate(groups):
            for m in members:
                g.node(m)["group"] = i
        for i, members in enumerate(groups):
            new = frozenset(members)
            was = old.get(members[0])
            if new != was and (len(members) > 1 or (was is not None and len(was) > 1)):
                stats.changes.append(f"fuse: group {i} = " + ", ".join(f"%{m} ({g.op(m)})" for m in members))
        stats.groups = [list(m) for m in groups]
    return stats


fusion = fuse
