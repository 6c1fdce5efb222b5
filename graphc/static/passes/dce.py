"""Dead code elimination: drop every node the outputs do not need.

Placeholders and parameters stay even when unused: they are the graph's signature.
"""
from __future__ import annotations

from ...ir.graph import Graph
from ...ir.printer import format_node
from ._base import PassStats, Timer

__all__ = ["dce", "dead_nodes"]

_SIGNATURE = frozenset(("placeholder", "parameter"))


def dead_nodes(g: Graph) -> list:
    """The ids :func:`dce` removes: nodes not needed by the outputs, except placeholders and
    parameters, sorted."""
    out = g.output_node
    if out is None:
        raise ValueError("dce: the graph has no outputs (call Graph.set_outputs first)")
    live = g.ancestors([out])
    return sorted(n for n, op in g.nx.nodes(data="op") if n not in live and op not in _SIGNATURE)


def dce(g: Graph) -> PassStats:
    """Remove the nodes the outputs do not depend on (in place); one change line per node removed."""
    stats = PassStats("dce")
    with Timer(g, stats):
        dead = dead_nodes(g)
        for n in dead:
            stats.changes.append(f"dce: removed {format_node(g, n)}")
        g.nx.remove_nodes_from(dead)
    return stats
