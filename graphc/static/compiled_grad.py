"""Gradients through a compiled function: its outputs join the caller's autograd tape.

As with ``torch.compile``, a compiled function called with grad enabled and inputs that
require grad (tensor arguments, or parameters it reads) returns outputs with a ``grad_fn``:
``loss = compiled_model(x); loss.backward()`` fills the parameters' ``.grad``.

When a trace ends with such outputs, :func:`plan_backward` builds their vector-Jacobian
product into the same graph: the per-op gradient rules run symbolically
(``gc.autograd.grad`` with one placeholder per upstream gradient).  That second program is
compiled on the first backward only (:class:`BackwardPlan`), so inference pays nothing.
It recomputes the forward values it needs from the saved inputs instead of keeping the
forward's intermediates, and a saved input changed in place before backward raises, as in
torch.  A function that already ran ``backward`` on its result while tracing (a whole
training step) has no tape left to differentiate: its outputs stay plain tensors.
"""
from __future__ import annotations

import numpy as np

from ..eager import autograd as _autograd
from ..eager.autograd import Function
from ..eager.node import FREED_MESSAGE
from ..eager.tensor import Tensor
from .errors import TracingError

__all__ = ["BackwardPlan", "plan_backward"]


class BackwardPlan:
    """The backward program of one trace and how to feed it (see the module docstring).

    ``outputs``: positions of the differentiable results; ``wrt``: ``("arg", leaf index)`` or
    ``("state", tensor)`` per input the program returns a gradient for; ``ups``: the upstream
    gradient placeholder node per differentiable result.
    """

    def __init__(self, program, bound: dict, backend: str, fastmath: bool, outputs: list, wrt: list,
                 ups: list) -> None:
        self._program, self._bound = program, bound
        self._backend, self._fastmath = backend, fastmath
        self.outputs, self.wrt, self.ups = outputs, wrt, ups
        self._exe = None

    def executable(self):
        """The compiled backward program (compiled on first use)."""
        if self._exe is None:
            from .executable import Executable

            self._exe = Executable(self._program, self._bound, None, [], backend=self._backend,
                                   fastmath=self._fastmath)
        return self._exe

    def attach(self, results: list, leaves: list, feeds: dict) -> list:
        """``results`` (the call's output tensors) with the differentiable ones on the tape."""
        inputs = [leaves[k] if kind == "arg" else k for kind, k in self.wrt]
        if not any(t._requires_grad for t in inputs):
            return results
        outs = tuple(results[i] for i in self.outputs)
        versions = [t._version.v for t in inputs]
        tracked = CompiledFunction.apply(self, feeds, versions, outs, *inputs)
        tracked = tracked if isinstance(tracked, tuple) else (tracked,)
        results = list(results)
        for i, t in zip(self.outputs, tracked):
            results[i] = t
        return results


class CompiledFunction(Function):
    """The tape node of a compiled call (``grad_fn`` shows ``CompiledFunctionBackward``, as in torch)."""

    @staticmethod
    def forward(ctx, plan, feeds, versions, outs, *inputs):
        ctx.plan, ctx.feeds, ctx.versions, ctx.inputs = plan, feeds, versions, inputs
        ctx.out_meta = [(o._data.shape, o._data.dtype) for o in outs]
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        if getattr(ctx, "_freed", False):  # released by a backward without retain_graph, as torch frees it
            raise RuntimeError(FREED_MESSAGE)
        plan = ctx.plan
        for t, v in zip(ctx.inputs, ctx.versions):
            if t._version.v != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: a {t._dtype.short}{list(t.shape)} input of a compiled function is at version "
                    f"{t._version.v}; expected version {v} instead")
        feeds = dict(ctx.feeds)
        for node, (shape, npd), g in zip(plan.ups, ctx.out_meta, grads):
            feeds[node] = np.zeros(shape, npd) if g is None else np.asarray(g._data, dtype=npd)
        exe = plan.executable()
        arrays = exe.run_arrays({n: a for n, a in feeds.items() if n in exe.graph})
        return (None, None, None, None) + tuple(Tensor._make(a) for a in arrays)


def plan_backward(g, out_tensors: list, arg_syms: list, state: list):
    """``(positions, wrt, ups, grad values)`` for the differentiable outputs of a finished trace,
    or None: built into ``g`` while its tracing context is still active."""
    diff = [(k, x) for k, x in enumerate(out_tensors) if x._requires_grad and x._dtype.is_floating_point]
    wrt = [(("arg", i), s) for i, s, _ in arg_syms if s._requires_grad]
    wrt += [(("state", t), t) for t in state if t._requires_grad]
    if not diff or not wrt:
        return None
    ups = [g.placeholder(f"grad_out{k}", tuple(x.spec.shape), x._dtype) for k, x in diff]
    try:
        grads = _autograd.grad([x for _, x in diff], [t for _, t in wrt], grad_outputs=ups, allow_unused=True,
                               retain_graph=True)
    except (RuntimeError, TypeError, NotImplementedError) as e:
        if isinstance(e, RuntimeError) and "a second time" in str(e):
            return None     # the function ran backward itself (a training step): plain outputs
        # outputs that silently lost their gradient would break training: the trace fails, so the
        # call runs eagerly (or, under dynamic=True, is traced again with static shapes)
        raise TracingError(f"the backward of this function's outputs could not be traced: "
                           f"{type(e).__name__}: {e}") from e
    keep = [(key, gr) for (key, _), gr in zip(wrt, grads) if gr is not None]
    if not keep:
        return None
    return ([k for k, _ in diff], [key for key, _ in keep], [u._value.node for u in ups],
            [g.stage_input(gr)._value for _, gr in keep])
