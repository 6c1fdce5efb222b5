"""Algebraic simplification: the rules of :mod:`.rules`, constant folding and CSE applied
until none of them changes anything (a canonicalizer, so running it again is a no-op).

Every rewrite keeps results bit for bit by default (NaN, infinity and signed zeros included):
the driver only accepts a replacement with the node's exact dtype and shape that is not a
wrapped number (which would promote differently downstream).  ``unsafe_math=True`` adds the
rules that do not keep NaN/inf/signed-zero results (``x*0 -> 0``, ``x-x -> 0``, ``x/x -> 1``,
``x + 0.0 -> x``).

Folding is part of the loop because rewrites create constants (``x*0 -> 0`` for integers)
that feed other ops; CSE is, because rewrites create equal nodes (two ``pow(x, 2)`` with
different exponent constants both become ``square(x)``) that identity rules (``x - x``) need
merged.  Only live nodes are rewritten: dead code is :func:`dce`'s business.
"""
from __future__ import annotations

from ...ir.graph import Graph, Value
from ._base import PassStats, Timer, remove_if_dead
from .cse import cse
from .fold import MAX_ELEMENTS, MAX_GROWTH, fold_node, has_symbolic_sizes
from .rules import RULES, NoMatch, Site, rules_for

__all__ = ["simplify", "MAX_ROUNDS"]

MAX_ROUNDS = 100


def _acceptable(g: Graph, new: Value, site: Site) -> bool:
    spec = g.spec(new)
    return (spec.dtype is site.spec.dtype and tuple(spec.shape) == tuple(site.spec.shape)
            and not g.input_spec(new).wrapped)


def _rewrite_once(g: Graph, n: int, table: dict, max_broadcast: int):
    """Try the rules for node ``n``; on the first that fires, move its uses to the replacement
    and return (rule name, replacement value)."""
    data = g.node(n)
    rules = table.get(data["op"])
    if not rules or data.get("opaque") or len(data["specs"]) != 1:
        return None
    site = Site(g, n, max_broadcast)
    for rule in rules:
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


def _round(g: Graph, table: dict, stats: PassStats, fold_constants: bool, max_broadcast: int) -> bool:
    fired = False
    symbolic = fold_constants and has_symbolic_sizes(g)
    for n in g.topo_order():
        if n not in g.nx or n == g.output_node or not g.nx._succ[n]:
            continue  # gone, the output, or dead
        if fold_constants:
            change = fold_node(g, n, MAX_ELEMENTS, max_broadcast, symbolic)
            if change is not None:
                stats.changes.append("simplify: " + change)
                fired = True
                continue
        op = g.op(n)
        done = _rewrite_once(g, n, table, max_broadcast)
        if done is None:
            continue
        name, new = done
        stats.changes.append(f"simplify: {name}: %{n} ({op}) -> %{new.node + new.out} ({g.op(new.node)})")
        remove_if_dead(g, n)
        fired = True
    return fired


def simplify(g: Graph, unsafe_math: bool = False, rules=RULES, max_broadcast: int = MAX_GROWTH,
             fold_constants: bool = True, merge_duplicates: bool = True) -> PassStats:
    """Apply the rewrite ``rules`` to a fixed point (in place).

    ``unsafe_math`` enables the rules marked unsafe; ``max_broadcast`` bounds the constants a
    rewrite or a fold may build from smaller ones (larger ones stay an expanded scalar);
    ``fold_constants`` folds ops whose inputs became constants and ``merge_duplicates`` runs CSE
    after each round that changed something.  Nodes a rewrite leaves unused are removed.
    """
    stats = PassStats("simplify")
    table = rules_for(rules, unsafe_math)
    with Timer(g, stats):
        for _ in range(MAX_ROUNDS):
            if not _round(g, table, stats, fold_constants, max_broadcast):
                break
            if merge_duplicates:
                stats.changes.extend("simplify: " + c for c in cse(g).changes)
        else:
            stats.changes.append(f"simplify: stopped after {MAX_ROUNDS} rounds without reaching a fixed point")
    return stats
