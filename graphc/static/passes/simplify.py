"""Algebraic simplification: the rules of :mod:`.rules` applied until none fires.

Every rewrite keeps results bit for bit by default (NaN, infinity and signed zeros included):
the driver only accepts a replacement with the node's exact dtype and shape that is not a
wrapped number (which would promote differently downstream).  ``unsafe_math=True`` adds the
rules that do not keep NaN/inf/signed-zero results (``x*0 -> 0``, ``x-x -> 0``, ``x/x -> 1``,
``x + 0.0 -> x``).
"""
from __future__ import annotations

from ...ir.graph import Graph, Value
from ._base import PassStats, Timer, remove_if_dead
from .rules import RULES, NoMatch, Site, rules_for

__all__ = ["simplify", "MAX_ROUNDS"]

MAX_ROUNDS = 100


def _acceptable(g: Graph, new: Value, site: Site) -> bool:
    spec = g.spec(new)
    return (spec.dtype is site.spec.dtype and tuple(spec.shape) == tuple(site.spec.shape)
            and not g.input_spec(new).wrapped)


def _rewrite_once(g: Graph, n: int, table: dict, max_broadcast: int):
    """Try the rules for node ``n``; on the first that fires, rewire its uses and return
    (rule name, replacement value)."""
    data = g.node(n)
    rules = table.get(data["op"])
    if not rules or data.get("opaque") or len(data["specs"]) != 1:
        return None
    for rule in rules:
        site = Site(g, n, max_broadcast)
        try:
            new = rule.fn(site)
        except NoMatch:
            new = None
        if new is None or not _acceptable(g, new, site):
            site.rollback()
            continue
        g.replace_all_uses(Value(n, 0), new)
        return rule.name, new
    return None


def simplify(g: Graph, unsafe_math: bool = False, rules=RULES, max_broadcast: int = 4096) -> PassStats:
    """Apply the rewrite ``rules`` to a fixed point (in place).

    ``unsafe_math`` enables the rules marked unsafe; ``max_broadcast`` bounds the constants a
    rewrite may build (larger ones become an expanded scalar).  Nodes a rewrite leaves unused
    are removed.
    """
    stats = PassStats("simplify")
    table = rules_for(rules, unsafe_math)
    with Timer(g, stats):
        for _ in range(MAX_ROUNDS):
            fired = False
            for n in g.topo_order():
                if n not in g.nx or n == g.output_node or not g.nx._succ[n]:
                    continue  # dead nodes are dce's business: rewriting them would only add more
                op = g.op(n)
                done = _rewrite_once(g, n, table, max_broadcast)
                if done is None:
                    continue
                name, new = done
                stats.changes.append(f"simplify: {name}: %{n} ({op}) -> %{new.node + new.out} ({g.op(new.node)})")
                remove_if_dead(g, n)
                fired = True
            if not fired:
                break
        else:
            stats.changes.append(f"simplify: stopped after {MAX_ROUNDS} rounds without reaching a fixed point")
    return stats
