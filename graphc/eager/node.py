"""Autograd graph nodes: what ``tensor.grad_fn`` points at.

A :class:`Node` records one application of a registry op: its inputs, the
``next_functions`` edges to the nodes that produced them, and what its
gradient rule needs.  Leaves that require grad get one :class:`AccumulateGrad`
node each, so ``next_functions`` shows the same object every time.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..ops.registry import GradContext, OpDef

__all__ = ["Node", "AccumulateGrad", "FREED_MESSAGE"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)


_NO_EDGE = (None, 0)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class Node:
    """One recorded op on the tape.

    ``inputs``        the input tensors (read by the gradient rule)
    ``next_functions`` ((node or None, output_nr), ...) per input, as in torch
    ``out_meta``      (shape, dtype) per output, to make zero grads and check shapes
    ``saved``         [(version_counter, version)] checked before the rule runs
    """

    __slots__ = ("op", "attrs", "inputs", "next_functions", "out_meta", "_in_meta", "saved",
                 "_out_data", "_out_tensors", "released", "retained", "hooks", "display_name", "__weakref__")

    def __init__(self, op: OpDef, inputs: tuple, attrs: dict, outputs: tuple):
        self.op = op
        self.attrs = attrs
        self.inputs = inputs
        nexts = []
        for t in inputs:
            if t._requires_grad:
                fn = t.grad_fn
                if fn is None:
                    fn = t._accumulator
                    if fn is None:
                        fn = t._accumulator = AccumulateGrad(t)
                    nexts.append((fn, 0))
                else:
                    nexts.append((fn, t._out))
            else:
                nexts.append(_NO_EDGE)
        self.next_functions = tuple(nexts)
        # recorded now: shape-changing in-place ops (t_, squeeze_) and out= may later change an input's shape
        self._in_meta = tuple([(t._data.shape, t._dtype) for t in inputs])
        self.out_meta = tuple([(o._data.shape, o._dtype) for o in outputs])
        saved = []
        if op.saves_inputs:
            reads = op.reads
            if reads is None:
                for t in inputs:
                    v = t._version
                    saved.append((v, v.v))
            else:
                # only what a needed gradient reads is saved, so x in x * c may change afterwards (torch too)
                want = []
                for i, t in enumerate(inputs):
                    if t._requires_grad:
                        for j in reads.get(i, ()):
                            if j not in want:
                                want.append(j)
                for j in want:
                    v = inputs[j]._version
                    saved.append((v, v.v))
        if op.saves_output:
            self._out_data = [o._data for o in outputs]
            for o in outputs:
                saved.append((o._version, o._version.v))
        else:
            self._out_data = None
        self.saved = saved
        self._out_tensors = None
        self.released = False
        self.retained = None
        self.hooks = None
        self.display_name = None

    @property
    def in_meta(self) -> tuple:
        """(shape, dtype) of each input."""
        return self._in_meta

    def name(self) -> str:
        """Torch-style node name, e.g. ``MulBackward0``."""
        return self.display_name or self.op.extra.get("backward_name") or f"{_camel(self.op.name)}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node runs (torch Node hook)."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)

    # -- used by the engine -------------------------------------------------
    def check_saved(self) -> None:
        if self.released:
            raise RuntimeError(FREED_MESSAGE)
        for counter, v in self.saved:
            if counter.v != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: it is an input or output of {self.name()}, is at version {counter.v}; "
                    f"expected version {v} instead."
                )

    def outputs(self, make):
        """Output tensors for the gradient rule, rebuilt from saved data (no reference cycle)."""
        if self._out_data is None:
            return ()
        if self._out_tensors is None:
            outs = []
            for i, arr in enumerate(self._out_data):
                outs.append(make(arr, self, i))
            self._out_tensors = tuple(outs)
        return self._out_tensors

    def apply(self, grad_outputs: tuple, make) -> tuple:
        """Run the gradient rule: grads w.r.t. each input (None where there is none)."""
        needs = tuple(fn is not None for fn, _ in self.next_functions)
        inputs = self.inputs
        if inputs is not None:
            for t, (shape, _) in zip(inputs, self._in_meta):
                if t._data.shape != shape:
                    inputs = self._shape_stable_inputs()
                    break
        ctx = GradContext(inputs, self.outputs(make), self.attrs, needs)
        grads = self.op.grad(ctx, *grad_outputs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        return grads

    def _shape_stable_inputs(self) -> tuple:
        """Inputs whose shape changed after recording (``t_()``, ``squeeze_()``, ``out=``) replaced by
        stand-ins of the recorded shape: rules read only their shapes (values are version-checked)."""
        out = []
        for t, (shape, dt) in zip(self.inputs, self._in_meta):
            if t._data.shape == shape:
                out.append(t)
            elif t._data.size == int(np.prod(shape)):
                out.append(t.detach().reshape(shape))
            else:
                out.append(t.detach().new_zeros(shape))
        return tuple(out)

    def release(self) -> None:
        """Free saved values after a backward without ``retain_graph``."""
        fctx = self.attrs.get("ctx") if "function" in self.op.extra else None
        if fctx is not None:
            fctx._freed = True
        if self.op.saves != "none" and not self._saves_only_numbers():
            _ = self.in_meta
            self.inputs = None
            self._out_data = None
            self._out_tensors = None
            self.released = True

    def _saves_only_numbers(self) -> bool:
        """Whether every input the gradient reads is a Python number wrapped as a tensor (``x / 2``,
        the ``n`` of a mean): torch keeps such scalars, so a second backward works there."""
        if self.op.saves_output or self.inputs is None:
            return False
        reads = self.op.reads
        if reads is None:
            read = range(len(self.inputs))
        else:
            read = {j for i, t in enumerate(self.inputs) if t._requires_grad for j in reads.get(i, ())}
        return all(getattr(self.inputs[j], "_wrapped", False) for j in read)


class AccumulateGrad:
    """The sink node of a leaf: adds the incoming gradient into ``leaf.grad``."""

    __slots__ = ("_variable", "hooks", "__weakref__")
    next_functions = ()

    def __init__(self, leaf):
        self._variable = weakref.ref(leaf)
        self.hooks = None

    @property
    def variable(self):
        return self._variable()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"

    def register_hook(self, fn):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)


def named(result, name: str):
    """``result`` with its grad_fn shown as torch names it (``MeanBackward0`` for a mean that
    is built from a sum and a division); a result without a grad_fn is returned as it is.

        return named(s / n, "MeanBackward0")
    """
    fn = getattr(result, "grad_fn", None)
    if isinstance(fn, Node):
        fn.display_name = name
    return result
