"""The pass pipeline: run passes in order, verify after each, keep each one's IR text.

A pass is any callable ``pass_(g) -> PassStats`` that rewrites ``g`` in place; options go in
with ``functools.partial`` (``partial(simplify, unsafe_math=True)``).
"""
from __future__ import annotations

from typing import Callable, Sequence

from ...ir.graph import Graph
from ...ir.printer import format_graph
from ...ir.verify import VerifyError, verify as _verify
from ._base import PassStats
from .cse import cse
from .dce import dce
from .fold import fold
from .fusion import format_groups, fuse
from .simplify import simplify

__all__ = ["DEFAULT_PIPELINE", "run_pipeline", "explain"]

# dce first so nothing dead is folded or simplified; cse before fold so equal constants fold once;
# simplify's rewrites can expose duplicates (cse) and leave dead constants (dce); fuse last
DEFAULT_PIPELINE: tuple = (dce, cse, fold, simplify, cse, dce, fuse)


def _name(p: Callable) -> str:
    fn = getattr(p, "func", p)  # functools.partial
    return getattr(fn, "__name__", type(fn).__name__)


def run_pipeline(g: Graph, passes: Sequence[Callable] | None = None, verify: bool = True,
                 keep_ir: bool = True) -> tuple:
    """Run ``passes`` (default :data:`DEFAULT_PIPELINE`) on ``g`` in place; return ``(g, stats)``.

    ``verify`` runs the IR verifier before the first pass and after each one (a failure names
    the pass that broke the graph); ``keep_ir`` stores the graph's text after each pass in
    ``stats[i].ir`` (the fusion pass adds ``# group`` comment lines, which the parser skips).
    """
    passes = DEFAULT_PIPELINE if passes is None else passes
    if verify:
        _verify(g)
    stats_list = []
    for p in passes:
        stats = p(g)
        if not isinstance(stats, PassStats):
            raise TypeError(f"pass {_name(p)} returned {type(stats).__name__}, expected PassStats")
        if verify:
            try:
                _verify(g)
            except VerifyError as e:
                raise VerifyError(f"after pass {stats.name}: {e}", e.node) from e
        if keep_ir:
            text = format_graph(g)
            if stats.groups is not None:
                groups = format_groups(g, stats.groups)
                text = text + "\n" + groups if groups else text
            stats.ir = text
        stats_list.append(stats)
    return g, stats_list


def explain(stats_list: Sequence[PassStats], ir: bool = False) -> str:
    """A report of a pipeline run: each pass's summary and changes (and IR text with ``ir=True``)."""
    parts = []
    for s in stats_list:
        parts.append(str(s))
        if ir and s.ir is not None:
            parts.append("\n".join("    " + line for line in s.ir.splitlines()))
    return "\n".join(parts)
