"""Control-flow primitives: ``cond`` and ``while_loop``, whose attributes hold subgraphs.

* ``cond(pred, *operands, true_graph, false_graph)``: runs ``true_graph`` on the
  operands when the one-element ``pred`` is true, else ``false_graph``; both
  give outputs of the same specs, which are the node's outputs.
* ``while_loop(*carry, *captured, cond_graph, body_graph)``: while
  ``cond_graph(carry, captured)`` is true, ``carry = body_graph(carry, captured)``;
  the outputs are the final carry (as many as ``body_graph`` has outputs).

A subgraph attribute is an object made by :mod:`graphc.static.subgraph` (a
traced function).  This module does not import graphc.static: kernels and
shape rules only call what such an object offers (duck typing, as gradient
rules call tensor methods): ``run(arrays, size) -> [arrays]``, ``in_specs``,
``out_specs``, ``out_specs_for(in_specs)`` (concrete when the inputs fix the
symbolic size: a graph specialized to one shape).  The gradient of ``cond`` is the ``cond`` of the branches'
gradients, which only graphc.static can build: it installs that rule with
:func:`install_static` when it is imported.  ``while_loop`` has no gradient (the
number of iterations is only known when the graph runs; JAX refuses it too).

Both ops have a variable number of outputs (``num_outputs=0``: as many as the
subgraph gives); a kernel returns the array itself for a node with one output and
a tuple otherwise, as runners read multi-output kernels by the node's output
count.  The interpreter passes the graph's symbolic size (``size=``) because
subgraphs may hold stand-in sizes in their attributes (:mod:`graphc.static.symsize`);
without it a subgraph reads the size from its inputs.  ``extra["subgraphs"]`` names
the attributes that hold subgraphs (the IR printer prints their bodies).  Neither
op is folded or merged by the passes (``impure``): folding would run a loop while
compiling, and it reads a kernel's outputs by ``num_outputs``.
"""
from __future__ import annotations

import numpy as np

from .registry import Spec, op_error, register

__all__ = ["COND", "WHILE_LOOP", "install_static"]

_static = None  # graphc.static.control_flow, which builds cond's gradient


def install_static(hooks) -> None:
    """Called once by graphc.static: the object whose ``cond_grad(ctx, grads)`` differentiates a cond."""
    global _static
    _static = hooks


def _fmt(spec) -> str:
    return spec.dtype.short + "[" + ",".join("?" if d is None else str(d) for d in spec.shape) + "]"


def _truth(pred: np.ndarray, op: str) -> bool:
    a = np.asarray(pred)
    if a.size != 1:
        raise op_error(RuntimeError, f"{op}: the predicate must have exactly one element, got shape {list(a.shape)}")
    return bool(a.reshape(()))


def _check_inputs(op: str, which: str, specs: tuple, sub) -> None:
    """The node's operands fit the subgraph's inputs: same count, dtypes, ranks, and sizes where both are known."""
    want = sub.in_specs
    if len(specs) != len(want):
        raise op_error(RuntimeError, f"{op}: {which} takes {len(want)} input(s), the node gives {len(specs)}")
    for i, (got, w) in enumerate(zip(specs, want)):
        if not _fits(got, w):
            raise op_error(RuntimeError, f"{op}: input {i} of {which} is {_fmt(w)}, the node gives {_fmt(got)}")


def _fits(a, b) -> bool:
    """Same dtype and rank, and equal sizes where both are known (None: a symbolic size)."""
    return a.dtype is b.dtype and len(a.shape) == len(b.shape) and all(
        x is None or y is None or x == y for x, y in zip(a.shape, b.shape))


def _plain(specs) -> tuple:
    return tuple([Spec(tuple(s.shape), s.dtype) for s in specs])


# ----------------------------------------------------------------------------- cond
def _results(arrays: list):
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _cond_kernel(pred, *operands, true_graph, false_graph, size=None):
    branch = true_graph if _truth(pred, "cond") else false_graph
    return _results(branch.run(operands, size))


def _cond_infer(pred, *operands, true_graph, false_graph):
    if any(d != 1 for d in pred.shape):
        raise op_error(RuntimeError, f"cond: the predicate must have exactly one element, got {_fmt(pred)}")
    _check_inputs("cond", "true_graph", operands, true_graph)
    _check_inputs("cond", "false_graph", operands, false_graph)
    t, f = _plain(true_graph.out_specs_for(operands)), _plain(false_graph.out_specs_for(operands))
    if t != f:
        raise op_error(RuntimeError, f"cond: the branches give different outputs: true_graph "
                                     f"({', '.join(map(_fmt, t))}) and false_graph ({', '.join(map(_fmt, f))})")
    return t


def _cond_grad(ctx, *grads):
    if _static is None:  # pragma: no cover - a cond node is only ever made by graphc.static
        raise RuntimeError("cond: its gradient needs graphc.static")
    return _static.cond_grad(ctx, grads)


COND = register(
    "cond", "control", kernel=_cond_kernel, infer=_cond_infer, grad=_cond_grad, num_outputs=0,
    nondiff_inputs=(0,),
    extra={"subgraphs": ("true_graph", "false_graph"), "impure": True, "backward_name": "CondBackward0"},
    doc="Run one of two subgraphs on the operands, chosen by a one-element predicate.",
)


# ----------------------------------------------------------------------------- while_loop
def _while_kernel(*operands, cond_graph, body_graph, size=None):
    n = len(body_graph.out_specs)
    carry, captured = list(operands[:n]), list(operands[n:])
    while _truth(cond_graph.run(carry + captured, size)[0], "while_loop: cond_fn"):
        carry = body_graph.run(carry + captured, size)
    return _results(carry)


def _while_infer(*operands, cond_graph, body_graph):
    _check_inputs("while_loop", "cond_graph", operands, cond_graph)
    _check_inputs("while_loop", "body_graph", operands, body_graph)
    n = len(body_graph.out_specs)
    carry, body = _plain(operands[:n]), _plain(body_graph.out_specs)
    if len(carry) != len(body) or not all(_fits(a, b) for a, b in zip(carry, body)):
        raise op_error(RuntimeError, f"while_loop: body_graph gives ({', '.join(map(_fmt, body))}) for a carry of "
                                     f"({', '.join(map(_fmt, carry))})")
    return carry


def _while_grad(ctx, *grads):
    raise op_error(NotImplementedError,
                   "while_loop: reverse-mode differentiation through gc.static.while_loop is not supported (the "
                   "number of iterations is only known when the graph runs, so the values of every iteration "
                   "would have to be kept; JAX refuses it too). Use a Python for loop with a fixed trip count "
                   "(it unrolls into the graph) or gc.static.cond, or compute the loop outside the gradient "
                   "(under gc.no_grad(), or on .detach()ed tensors).")


WHILE_LOOP = register(
    "while_loop", "control", kernel=_while_kernel, infer=_while_infer, grad=_while_grad, num_outputs=0,
    extra={"subgraphs": ("cond_graph", "body_graph"), "impure": True, "backward_name": "WhileLoopBackward0"},
    doc="Run a body subgraph on a loop carry while a condition subgraph is true.",
)
