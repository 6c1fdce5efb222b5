"""Specialize a graph with symbolic sizes to the concrete shapes of one call.

Backends that need static shapes (the LLVM backend) run a graph whose placeholders have
symbolic sizes by specializing it per call signature: placeholders take the fed shapes,
op attributes holding a stand-in size (:mod:`.symsize`) take its value ``k * S + b``, and
every op's specs are inferred again.  Node ids, fusion groups and everything else stay.
:class:`PerShape` runs a dynamic native plan (one module for every size, compiled from the
graph specialized at the stand-in size) and keeps a plan per concrete signature for the sizes
that plan cannot serve, or for every size when the graph has no dynamic plan.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from ..ir.graph import LEAVES, Graph, normalize_specs
from ..ops.registry import REGISTRY, Spec
from .symsize import EXAMPLE_SIZE, affine, example_shape, find_symbolic, substitute

__all__ = ["specialize", "PerShape", "DynamicSizes", "example_specialization"]


def specialize(g: Graph, shapes: dict, size: int | None) -> Graph:
    """A copy of ``g`` with placeholder ``n`` of shape ``shapes[n]`` and symbolic attrs resolved at ``size``."""
    h = g.copy()
    for n in h.topo_order():
        data = h.node(n)
        op = data["op"]
        if op == "placeholder" or op == "parameter":
            if n in shapes:
                spec = data["specs"][0]
                data["specs"] = (Spec(tuple(shapes[n]), spec.dtype),)
            continue
        if op in LEAVES or op == "output":
            continue
        opdef = REGISTRY.get(op)
        if opdef is None or opdef.infer is None or data.get("opaque"):
            if any(None in s.shape for s in data["specs"]):
                raise RuntimeError(f"cannot specialize %{n} ({op}) to concrete shapes: it has no shape rule")
            continue
        attrs = data["attrs"]
        ins = [h.input_spec(v) for v in h.inputs_of(n)]
        if size is not None:
            sym = find_symbolic(attrs)
            if sym:
                attrs = _sizes_at_least_zero(substitute(attrs, sym, size), sym)
                at_size = opdef.extra.get("attrs_at_size")   # bounds past the new size (x[-2:] at S=1)
                attrs = data["attrs"] = at_size(attrs, [s.shape for s in ins]) if at_size else attrs
        data["specs"] = normalize_specs(opdef.infer(*ins, **attrs))
        for spec in data["specs"]:
            if any(isinstance(d, int) and d < 0 for d in spec.shape):
                raise RuntimeError(f"specializing %{n} ({op}) at size {size} gives the shape {list(spec.shape)}")
    return h


# attrs that hold sizes: a size S - 1 traced from a slice (x[1:]) is max(0, S - 1) at S = 0, as the
# slice itself is; left negative, -1 would even read as "infer this dim" in a view
_SIZE_ATTRS = ("shape", "sizes")


def _sizes_at_least_zero(attrs: dict, paths: dict) -> dict:
    for path in paths:
        if path and path[0] in _SIZE_ATTRS:
            value = attrs[path[0]]
            for key in path[1:]:
                value = value[key]
            if isinstance(value, int) and value < 0:
                attrs = substitute(attrs, {path: (0, 0)}, 0)
    return attrs


class DynamicSizes:
    """What a dynamic native plan (graphc.codegen) asks of symbolic sizes: which numbers of a graph
    specialized at the stand-in size stand for ``a * S + b``, and op attributes at a given S."""

    recognize = staticmethod(affine)

    @staticmethod
    def resolve_attrs(attrs: dict, size: int) -> dict:
        """``attrs`` with each stand-in size replaced by its value at ``size`` (once per size: the
        native plan keeps the result in its state for that size)."""
        paths = find_symbolic(attrs)
        return substitute(attrs, paths, size) if paths else attrs


def example_specialization(g: Graph) -> Graph:
    """``g`` specialized with every symbolic size at the stand-in :data:`EXAMPLE_SIZE` (the sizes the
    graph was traced with, so op attributes keep their values)."""
    shapes = {n: example_shape(g.specs(n)[0].shape) for n in g.placeholders() if None in g.specs(n)[0].shape}
    return specialize(g, shapes, EXAMPLE_SIZE)


class PerShape:
    """Runs a symbolic-size graph with one backend plan per concrete signature (LRU of ``keep``).

    ``build(graph) -> plan`` makes a plan for a specialized graph; ``plan.run(inputs, size)``.
    ``generic``: a plan that serves every size >= 1 with one native module (a dynamic NativePlan,
    whose shapes hold ``a * S + b`` values); each new size is first checked against the graph
    specialized at that size, and a size whose shapes are not those (``x[:100]`` on fewer than
    100 rows, say), or size 0, gets a plan of its own instead.
    """

    def __init__(self, g: Graph, build: Callable, keep: int = 8, generic=None) -> None:
        self.graph = g
        self._build = build
        self._keep = keep
        self._plans: OrderedDict = OrderedDict()
        self._sym = [n for n in g.placeholders() if None in g.specs(n)[0].shape]
        self.generic = generic
        self._generic_ok: dict = {}     # size -> whether the generic plan's shapes hold there

    def plan_for(self, inputs: dict, size: int | None):
        key = (tuple(inputs[n].shape for n in self._sym), size)
        plan = self._plans.get(key)
        if plan is None:
            shapes = {n: inputs[n].shape for n in self._sym}
            plan = self._plans[key] = self._build(specialize(self.graph, shapes, size))
            while len(self._plans) > self._keep:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan

    def run(self, inputs: dict, size: int | None = None) -> list:
        if self.generic is not None:
            s = self.generic.size_for(inputs)   # None when the feeds' sizes are not one S
            if s is not None and (size is None or size == s) and self._generic_fits(inputs, s):
                return self.generic.run(inputs, s)
        return self.plan_for(inputs, size).run(inputs, size)

    def _generic_fits(self, inputs: dict, size: int) -> bool:
        ok = self._generic_ok.get(size)
        if ok is None:
            ok = size >= self.generic.min_size and self._shapes_hold(inputs, size)
            if len(self._generic_ok) > 64:
                self._generic_ok.clear()
            self._generic_ok[size] = ok
        return ok

    def _shapes_hold(self, inputs: dict, size: int) -> bool:
        """Whether every spec of the generic plan, at ``size``, is the one inferred at that size."""
        try:
            h = specialize(self.graph, {n: inputs[n].shape for n in self._sym}, size)
        except Exception:  # noqa: BLE001 - a shape rule refusing this size: let the specialized plan report it
            return False
        sym = self.generic.graph
        for n in h.nodes():
            want = h.node(n).get("specs") or ()
            have = sym.node(n).get("specs") or ()
            if len(want) != len(have) or any(self.generic.shape_at(b.shape, size) != tuple(a.shape)
                                             for a, b in zip(want, have)):
                return False
        return True
