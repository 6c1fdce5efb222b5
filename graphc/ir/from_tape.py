"""Export the eager tape behind tensors as an IR Graph.

The forward ops recorded on the autograd tape become op nodes (op name, attrs,
specs from ``out_meta``).  Inputs become leaves:

* a leaf that requires grad -> ``parameter`` (named from ``names``, else its
  ``name`` attribute, else ``p0``, ``p1`` ... in the order met);
* an input that does not require grad -> ``constant`` with its current value
  while the tape still holds it (``node.inputs``), else a ``placeholder``
  (``in0``, ``in1`` ...) with the spec from ``in_meta`` (a backward without
  ``retain_graph`` frees the inputs of nodes that saved them);
* a custom ``autograd.Function`` node -> an opaque op named after its class.

Limits, from what the tape records: a non-differentiable output asked for
directly (the indices of ``max``) carries no ``grad_fn``, so it exports as a
constant holding its value; a constant holds the input's value now, after
any later in-place write.

This module reads tape objects by duck typing (``grad_fn``, ``_out``,
``op``, ``attrs``, ``next_functions``, ``inputs``, ``in_meta``, ``out_meta``)
so that ``graphc.ir`` does not import ``graphc.eager``.  The walk is iterative.
"""
from __future__ import annotations

from typing import Any

from ..ops.registry import REGISTRY, Spec
from .graph import Graph, Value

__all__ = ["from_tape"]


class _Exporter:
    def __init__(self, g: Graph, names: dict | None):
        self.g = g
        self.done: dict = {}          # tape node -> IR node id
        self.params: dict = {}        # id(leaf tensor or its AccumulateGrad) -> IR node id
        self.consts: dict = {}        # id(tensor) -> IR node id
        self.keep: list = []          # keeps keyed objects alive so their ids stay unique
        self.user_names = {id(t): name for name, t in (names or {}).items()}
        self.used_names = set(self.user_names.values())
        self.counters = {"p": 0, "in": 0}

    def _fresh(self, prefix: str) -> str:
        while True:
            name = f"{prefix}{self.counters[prefix]}"
            self.counters[prefix] += 1
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def parameter(self, tensor, key_obj, spec) -> Value:
        key = id(key_obj)
        if key not in self.params:
            self.keep.append(key_obj)
            name = self.user_names.get(id(tensor)) if tensor is not None else None
            if name is None:
                own = getattr(tensor, "name", None)
                name = own if isinstance(own, str) and own and own not in self.used_names else None
                name = name or self._fresh("p")
                self.used_names.add(name)
            self.params[key] = self.g.add_parameter(name, spec)
        return Value(self.params[key], 0)

    def constant(self, tensor) -> Value:
        key = id(tensor)
        if key not in self.consts:
            self.keep.append(tensor)
            self.consts[key] = self.g.add_constant(tensor._data, dtype=tensor._dtype,
                                                   wrapped=bool(getattr(tensor, "_wrapped", False)))
        return Value(self.consts[key], 0)

    def tensor_value(self, t) -> Value:
        """The IR value of a tensor the user asked for."""
        fn = t.grad_fn
        if fn is not None:
            return Value(self.export(fn), t._out)
        spec = (tuple(t._data.shape), t._dtype)
        if t._requires_grad:
            return self.parameter(t, t, spec)
        return self.constant(t)

    def _input(self, fn, i: int, nf) -> Value:
        """The value of input ``i`` of tape node ``fn`` whose producer ``nf`` is not a tape node."""
        if nf is not None:  # AccumulateGrad (a leaf's sink: it has no op) of a leaf that requires grad
            var = nf.variable
            if var is not None:
                return self.parameter(var, var, (tuple(var._data.shape), var._dtype))
            return self.parameter(None, nf, fn.in_meta[i])
        if fn.inputs is not None:
            return self.constant(fn.inputs[i])
        shape, dtype = fn.in_meta[i]
        return Value(self.g.add_placeholder(self._fresh("in"), (tuple(shape), dtype)), 0)

    def _emit(self, fn) -> int:
        done = self.done
        inputs = []
        for i, (nf, out) in enumerate(fn.next_functions):
            if nf is not None and hasattr(nf, "op"):
                inputs.append(Value(done[nf], out))
            else:
                inputs.append(self._input(fn, i, nf))
        op = fn.op
        opaque = REGISTRY.get(op.name) is not op
        attrs = {} if opaque else dict(fn.attrs)
        specs = tuple([Spec(tuple(shape), dtype) for shape, dtype in fn.out_meta])
        return self.g._append(op.name, inputs, attrs, specs, opaque)

    def export(self, root) -> int:
        """Emit ``root`` and everything it depends on (inputs first, in argument order); iterative."""
        done = self.done
        stack = [(root, False)]
        while stack:
            fn, ready = stack.pop()
            if fn in done:
                continue
            if ready:
                done[fn] = self._emit(fn)
                continue
            stack.append((fn, True))
            for nf, _ in reversed(fn.next_functions):
                if nf is not None and nf not in done and hasattr(nf, "op"):
                    stack.append((nf, False))
        return done[root]


def from_tape(tensors: Any, names: dict | None = None) -> Graph:
    """The Graph of the forward ops recorded on the tape behind ``tensors`` (a tensor or a sequence).

    ``names`` maps parameter names to leaf tensors (e.g. ``dict(model.named_parameters())``).

    >>> x = gc.ones(3); w = gc.ones(3, requires_grad=True)
    >>> print(gc.ir.from_tape((x * w).sum(), names={"w": w}))
    %0 = constant [1.0, 1.0, 1.0] : f32[3]
    %1 = parameter "w" : f32[3]
    %2 = mul %0, %1 : f32[3]
    %3 = sum %2 {dim=(0,), keepdim=False} : f32[]
    return %3
    """
    outs = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    g = Graph()
    ex = _Exporter(g, names)
    values = [ex.tensor_value(t) for t in outs]
    g.set_outputs(values)
    return g
