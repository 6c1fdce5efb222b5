"""``gc.static.grad``: gradients as new nodes of the same graph.

The eager autograd engine runs unchanged on symbolic tensors: each op's gradient
rule is written with tensor methods, so on symbolic inputs it stages backward
nodes instead of computing.  A graph is only Python objects, so nothing is freed
(``retain_graph`` is always on) and the same loss can be differentiated again.
"""
from __future__ import annotations

from ..eager import autograd as _autograd
from ..eager.tensor import Tensor
from .symbolic import SymbolicTensor

__all__ = ["grad"]


def grad(outputs, inputs, grad_outputs=None, allow_unused: bool = False, create_graph: bool = False):
    """Symbolic gradients of ``outputs`` (a tensor or a sequence) w.r.t. ``inputs``.

    ``inputs`` are symbolic leaves that require grad (``g.placeholder(..., requires_grad=True)``,
    ``g.parameter(...)``), eager leaves that require grad used in the graph, or intermediate
    symbolic tensors.  Returns one symbolic tensor per input (a tuple when ``inputs`` is a
    list or tuple, else a single tensor); unused inputs give an error unless ``allow_unused``
    (then None).  ``create_graph=True`` records the backward nodes for higher derivatives.

    >>> (gw,) = gc.static.grad(loss, [w])
    """
    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    outs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor):
            raise TypeError(f"grad(): inputs must be tensors, got {type(x).__name__} at index {i}")
        if not x._requires_grad:
            what = repr(x) if isinstance(x, SymbolicTensor) else f"the eager tensor of shape {list(x.shape)}"
            raise RuntimeError(f"grad(): input {i}, {what}, does not require grad: create placeholders with "
                               "requires_grad=True (parameters require grad by default)")
    for i, y in enumerate(outs):
        if not isinstance(y, SymbolicTensor):
            raise TypeError(f"grad(): output {i} is not a symbolic tensor (got {type(y).__name__})")
    res = _autograd.grad(outs, ins, grad_outputs, retain_graph=True, create_graph=create_graph,
                         allow_unused=allow_unused)
    return res[0] if single else res
