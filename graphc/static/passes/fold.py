"""Constant folding: an op whose inputs are all constants becomes a constant.

The value is the op's own kernel run on the constants with eager dispatch's casting
(:func:`~graphc.static.passes._kernels.run_op`), so folding never changes a result.
Skipped: random and opaque ops, constants whose value is elided, results of symbolic
shape, kernels that raise (the error is left for run time), results larger than
``max_elements``, and results that would blow small constants up into a large one
(more than ``max_growth`` elements and more than the inputs hold together), which is
what a broadcast does: keeping ``expand(c)`` costs nothing, a materialized copy costs memory.
In a graph with symbolic sizes, an op whose attributes hold a symbolic size's stand-in value
(:mod:`graphc.static.symsize`) is not folded either: the interpreter substitutes the real size
at run time, folding would freeze the stand-in.
"""
from __future__ import annotations

from ...ir.graph import Graph, Value
from ...ir.printer import format_array
from ..symsize import find_symbolic
from ._base import PassStats, Timer, is_pure, registry_op, remove_if_dead
from ._kernels import run_op

__all__ = ["fold", "fold_node", "has_symbolic_sizes", "MAX_ELEMENTS", "MAX_GROWTH"]

MAX_ELEMENTS = 1_000_000
MAX_GROWTH = 4096


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def has_symbolic_sizes(g: Graph) -> bool:
    """True when some placeholder has a symbolic size (then attributes may hold stand-in sizes)."""
    return any(None in g.spec(p).shape for p in g.placeholders())


def _try_fold(g: Graph, n: int, max_elements: int, max_growth: int, symbolic: bool):
    """The folded output arrays of ``n``, or None when it must stay."""
    nodes, pred = g.nx._node, g.nx._pred[n]
    if not pred or any(nodes[u]["op"] != "constant" for u in pred):
        return None  # the common case, decided before anything costlier
    op = registry_op(g, n)
    if not is_pure(op):
        return None
    ins = g.inputs_of(n)
    arrays = []
    for u, _ in ins:
        data = g.node(u)
        if data["op"] != "constant" or data.get("value") is None:
            return None
        arrays.append(data["value"])
    specs = g.specs(n)
    if any(d is None for s in specs for d in s.shape):
        return None  # the value would fix a size the graph keeps symbolic
    if symbolic and find_symbolic(g.attrs(n)):
        return None
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


def fold_node(g: Graph, n: int, max_elements: int = MAX_ELEMENTS, max_growth: int = MAX_GROWTH,
              symbolic: bool | None = None) -> str | None:
    """Fold node ``n`` if it can be (its uses move to new constants at its ``loc``; it and the
    inputs it leaves unused are removed); return the change line, or None if ``n`` stays.
    ``symbolic`` is :func:`has_symbolic_sizes` of ``g`` (computed when None)."""
    if symbolic is None:
        symbolic = has_symbolic_sizes(g)
    outs = _try_fold(g, n, max_elements, max_growth, symbolic)
    if outs is None:
        return None
    data = g.node(n)
    new = []
    for i, (arr, spec) in enumerate(zip(outs, data["specs"])):
        c = g.add_constant(arr, dtype=spec.dtype, loc=data["loc"])
        g.replace_all_uses(Value(n, i), Value(c, 0))
        new.append(c)
    remove_if_dead(g, n)
    return f"fold: %{n} ({data['op']}) -> " + ", ".join(f"%{c} = {_describe(g.value(c))}" for c in new)


def fold(g: Graph, max_elements: int = MAX_ELEMENTS, max_growth: int = MAX_GROWTH) -> PassStats:
    """Replace every foldable op by constants (in place), in topological order so chains fold
    entirely; inputs left unused are removed."""
    stats = PassStats("fold")
    with Timer(g, stats):
        symbolic = has_symbolic_sizes(g)
        for n in g.topo_order():
            if n not in g.nx or n == g.output_node:
                continue
            change = fold_node(g, n, max_elements, max_growth, symbolic)
            if change is not None:
                stats.changes.append(change)
    return stats
