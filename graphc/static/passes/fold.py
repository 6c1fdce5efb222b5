"""Constant folding: an op whose inputs are all constants becomes a constant.

The value is the op's own kernel run on the constants with eager dispatch's casting
(:func:`~graphc.static.passes._kernels.run_op`), so folding never changes a result.
Skipped: random and opaque ops, constants whose value is elided, results of symbolic
shape, kernels that raise (the error is left for run time), results larger than
``max_elements``, and results that would blow small constants up into a large one
(more than ``max_growth`` elements and more than the inputs hold together), which is
what a broadcast does: keeping ``expand(c)`` costs nothing, a materialized copy costs memory.
"""
from __future__ import annotations

from ...ir.graph import Graph, Value
from ...ir.printer import format_array
from ._base import PassStats, Timer, is_pure, registry_op, remove_if_dead
from ._kernels import run_op

__all__ = ["fold", "MAX_ELEMENTS", "MAX_GROWTH"]

MAX_ELEMENTS = 1_000_000
MAX_GROWTH = 4096


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _try_fold(g: Graph, n: int, max_elements: int, max_growth: int):
    """The folded output arrays of ``n``, or None when it must stay."""
    op = registry_op(g, n)
    if not is_pure(op):
        return None
    ins = g.inputs_of(n)
    if not ins:
        return None  # nothing to fold (a nullary op would be a factory: leave it to run time)
    arrays = []
    for u, _ in ins:
        data = g.node(u)
        if data["op"] != "constant" or data.get("value") is None:
            return None
        arrays.append(data["value"])
    specs = g.specs(n)
    if any(d is None for s in specs for d in s.shape):
        return None  # the value would fix a size the graph keeps symbolic
    size = sum(_numel(s.shape) for s in specs)
    if size > max_elements or (size > max_growth and size > sum(a.size for a in arrays)):
        return None
    try:
        outs = run_op(op, g.attrs(n), [g.input_spec(v) for v in ins], arrays)
    except Exception:  # noqa: BLE001 - a kernel that refuses these inputs fails at run time instead
        return None
    for arr, spec in zip(outs, specs):
        if arr.shape != tuple(spec.shape) or arr.dtype != spec.dtype.np:
            return None  # the kernel disagrees with the shape rule: do not paper over it
    return outs


def _describe(arr) -> str:
    return format_array(arr) if arr.size <= 4 else f"<{arr.size} elements>"


def fold(g: Graph, max_elements: int = MAX_ELEMENTS, max_growth: int = MAX_GROWTH) -> PassStats:
    """Replace every foldable op by constants (in place), in topological order so chains fold
    entirely; inputs left unused are removed."""
    stats = PassStats("fold")
    with Timer(g, stats):
        for n in g.topo_order():
            if n not in g.nx or n == g.output_node:
                continue
            outs = _try_fold(g, n, max_elements, max_growth)
            if outs is None:
                continue
            data = g.node(n)
            new = []
            for i, (arr, spec) in enumerate(zip(outs, data["specs"])):
                c = g.add_constant(arr, dtype=spec.dtype, loc=data["loc"])
                g.replace_all_uses(Value(n, i), Value(c, 0))
                new.append(c)
            stats.changes.append(f"fold: %{n} ({data['op']}) -> "
                                 + ", ".join(f"%{c} = {_describe(g.value(c))}" for c in new))
            remove_if_dead(g, n)
    return stats
