"""Specialize a graph with symbolic sizes to the concrete shapes of one call.

Backends that need static shapes (the LLVM backend) run a graph whose placeholders have
symbolic sizes by specializing it per call signature: placeholders take the fed shapes,
op attributes holding a stand-in size (:mod:`.symsize`) take its value ``k * S + b``, and
every op's specs are inferred again.  Node ids, fusion groups and everything else stay.
:class:`PerShape` keeps one compiled backend per signature (a new batch size compiles
again; that is the cost of this first version).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from ..ir.graph import LEAVES, Graph, normalize_specs
from ..ops.registry import REGISTRY, Spec
from .symsize import find_symbolic, substitute

__all__ = ["specialize", "PerShape"]


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
        if size is not None:
            sym = find_symbolic(attrs)
            if sym:
                attrs = data["attrs"] = substitute(attrs, sym, size)
        ins = [h.input_spec(v) for v in h.inputs_of(n)]
        data["specs"] = normalize_specs(opdef.infer(*ins, **attrs))
    return h


class PerShape:
    """Runs a symbolic-size graph with one backend plan per concrete signature (LRU of ``keep``).

    ``build(graph) -> plan`` makes a plan for a specialized graph; ``plan.run(inputs, size)``.
    """

    def __init__(self, g: Graph, build: Callable, keep: int = 8) -> None:
        self.graph = g
        self._build = build
        self._keep = keep
        self._plans: OrderedDict = OrderedDict()
        self._sym = [n for n in g.placeholders() if None in g.specs(n)[0].shape]

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
        return self.plan_for(inputs, size).run(inputs, size)
