"""Data-dependent control flow that a static graph can hold: ``gc.static.cond`` and ``gc.static.while_loop``.

Inside ``gc.compile`` (or on the symbolic tensors of a ``gc.static.Graph``),
``if x.sum() > 0:`` raises :class:`TracingError`: the graph is built once and the
predicate's value is only known when it runs.  These functions put the decision
into the graph instead:

    >>> y = gc.static.cond(x.sum() > 0, lambda x: x * 2, lambda x: -x, x)
    >>> i, acc = gc.static.while_loop(lambda i, acc: i < 10, lambda i, acc: (i + 1, acc * 2), (i0, acc0))

In eager mode (nothing symbolic, no trace running) they are plain Python: ``cond``
calls the chosen branch, ``while_loop`` loops, and autograd flows as usual.  When
staged, each function is traced once into a subgraph (:mod:`.subgraph`: values it
uses from outside are captured as extra operands) and one ``cond`` or
``while_loop`` node (:mod:`graphc.ops.control`) holds the subgraphs; the
interpreter runs the branch the predicate picks, or loops.

Rules, as in JAX's ``lax.cond`` / ``lax.while_loop``: both branches give outputs of
the same structure and specs (shape, with None for a symbolic size, and dtype);
a loop body gives back a carry of the carry's specs.  Branches run under
``no_grad`` while traced and must not change outer state.

Gradients: the gradient of a cond is a cond of the branches' gradients (each
branch's subgraph is replayed on fresh inputs and differentiated by the same
autograd engine), so a compiled training step through a cond gives eager's
gradients.  One difference: a tensor used only by the branch not taken gets a
zero gradient (eager leaves its ``.grad`` None), since the graph does not know
which branch will run.  ``while_loop`` cannot be differentiated in reverse mode
(an error at ``backward()``, as in JAX).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np

from ..eager import autograd as _autograd
from ..eager.grad_mode import enable_grad, no_grad
from ..eager.tensor import Tensor
from ..ir.printer import format_spec
from ..ops import control as _ops
from ..ops.registry import Spec
from . import staging, tree
from .subgraph import BranchGraph, Subgraph, replay
from .symbolic import SymbolicTensor

__all__ = ["cond", "while_loop", "cond_grad"]


# ----------------------------------------------------------------------------- shared helpers
def _staged(tensors) -> bool:
    """Whether the call must become a graph node: a trace is running or a value is symbolic."""
    return staging.ACTIVE.graph is not None or any(isinstance(t, SymbolicTensor) for t in tensors)


def _truth(pred: Any, what: str) -> bool:
    """A concrete predicate as a Python bool (a tensor must have exactly one element)."""
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"{what}: the predicate must be a tensor with exactly one element, got shape "
                               f"{list(pred.shape)}")
        return bool(pred.detach().reshape(()).item())
    if isinstance(pred, (bool, int, float, np.bool_, np.number)):
        return bool(pred)
    raise TypeError(f"{what}: the predicate must be a tensor or a Python bool, got {type(pred).__name__}")


def _check_callable(fn: Any, name: str, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what}: {name} must be callable, got {type(fn).__name__}")


@contextlib.contextmanager
def _building(b: BranchGraph):
    """Ops go into the branch ``b`` while its function runs (without recording autograd history);
    eager tensors made meanwhile are the branch's own (it may write them in place)."""
    prev = staging.ACTIVE.graph
    make = Tensor.__dict__["_make"]
    born = b.born

    def make_born(arr):
        t = make.__func__(arr)
        born[id(t)] = t
        return t

    staging.ACTIVE.graph = b
    Tensor._make = staticmethod(make_born)
    try:
        with no_grad():
            yield
    finally:
        Tensor._make = make
        staging.ACTIVE.graph = prev
        b.restore()


def _as_tensor(x: Any, where: str) -> Tensor:
    """A function's result leaf as a tensor: Python numbers become 0-d tensors (torch's dtypes)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, np.bool_, np.number)):
        from ..eager.creation import tensor

        return tensor(x)
    raise TypeError(f"{where} is a {type(x).__name__}; it must be a tensor (or a Python number)")


class _Traced:
    """One function traced into a branch: the branch graph, its result values, structure and specs."""

    def __init__(self, parent, fn: Callable, name: str, what: str, arg_syms: list, rebuild) -> None:
        self.branch = b = BranchGraph(parent, f"{name} of {what}")
        args = [b.argument(s) for s in arg_syms]
        with _building(b):
            result = rebuild(fn, args)
            leaves, self.treedef = tree.flatten(result)
            outs = [b.stage_input(_as_tensor(x, f"{what}: output {i} of {name}")) for i, x in enumerate(leaves)]
        self.values = [s._value for s in outs]
        self.specs = [Spec(s._spec.shape, s._dtype) for s in outs]
        self.name = name

    def finish(self, order: list, offset: int) -> Subgraph:
        return self.branch.finish(self.values, order, offset)


def _capture_order(*traced: _Traced) -> tuple:
    """The union of the captures of several traced functions: (parent Values, the tensors the user gave)."""
    order, given = [], []
    for tr in traced:
        for v, (t, _) in tr.branch.captures.items():
            if v not in order:
                order.append(v)
                given.append(t)
    return order, given


def _specs_text(specs: list) -> str:
    return "(" + ", ".join(format_spec(s) for s in specs) + ")"


# ----------------------------------------------------------------------------- cond
def cond(pred, true_fn: Callable, false_fn: Callable, *operands):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``, decided when the graph runs.

    ``pred``: a tensor with one element (any dtype; nonzero is true) or a Python bool.
    ``operands``: tensors, or nested tuples/lists/dicts of them (other leaves are passed through
    as Python values).  Each branch returns a tensor or a structure of tensors; both must give the
    same structure and specs.

    Eager (nothing symbolic, no trace running), or with a Python bool ``pred``: calls the chosen
    branch.  Staged: traces both branches and adds one ``cond`` node; values the branches use from
    outside (parameters, captured tensors) become extra operands.  Differentiable (see the module
    docstring).

    >>> y = gc.static.cond(x.sum() > 0, lambda x: x.relu(), lambda x: x * 0.1, x)
    """
    _check_callable(true_fn, "true_fn", "cond")
    _check_callable(false_fn, "false_fn", "cond")
    leaves, treedef = tree.flatten(operands)
    tensors = [x for x in leaves if isinstance(x, Tensor)]
    if not isinstance(pred, Tensor) or not _staged([pred, *tensors]):
        return (true_fn if _truth(pred, "cond") else false_fn)(*operands)

    g = staging.graph_of([pred, *tensors])
    p = g.stage_input(pred)
    if any(d != 1 for d in p._spec.shape):
        raise RuntimeError(f"cond: the predicate must be a tensor with exactly one element, got "
                           f"{format_spec(p._spec)}")
    arg_syms = [g.stage_input(x) for x in tensors]

    def rebuild(fn, args):
        it = iter(args)
        return fn(*tree.unflatten(treedef, [next(it) if isinstance(x, Tensor) else x for x in leaves]))

    t = _Traced(g, true_fn, "true_fn", "gc.static.cond", arg_syms, rebuild)
    f = _Traced(g, false_fn, "false_fn", "gc.static.cond", arg_syms, rebuild)
    if t.treedef != f.treedef:
        raise TypeError(f"cond: true_fn and false_fn must return the same structure: true_fn gives "
                        f"{_structure(t.treedef)} and false_fn gives {_structure(f.treedef)}")
    for i, (a, b) in enumerate(zip(t.specs, f.specs)):
        if a != b:
            raise RuntimeError(f"cond: output {i} of the branches differs: true_fn gives {format_spec(a)} and "
                               f"false_fn gives {format_spec(b)} (both branches must give the same shape and "
                               f"dtype; ? is a symbolic size). All outputs: true_fn {_specs_text(t.specs)}, "
                               f"false_fn {_specs_text(f.specs)}")
    order, given = _capture_order(t, f)
    attrs = {"true_graph": t.finish(order, 1), "false_graph": f.finish(order, 1)}
    outs = staging.apply(_ops.COND, (pred, *tensors, *given), attrs)
    return tree.unflatten(t.treedef, list(outs))


def _structure(treedef) -> str:
    """A readable form of a result's structure: ``tensor``, ``(tensor, tensor)``, ``{'a': tensor}``."""
    if treedef is None:
        return "tensor"
    tp, items = treedef
    if tp is dict:
        return "{" + ", ".join(f"{k!r}: {_structure(v)}" for k, v in items) + "}"
    inner = ", ".join(_structure(x) for x in items)
    return f"[{inner}]" if tp is list else f"({inner}{',' if len(items) == 1 else ''})"


def cond_grad(ctx, grads: tuple) -> tuple:
    """The gradient rule of a ``cond`` node: the cond of the two branches' vector-Jacobian products.

    Each branch's gradient function replays its subgraph on fresh inputs that require grad and runs
    autograd on it; an operand the branch does not use gets zeros."""
    pred, operands = ctx.inputs[0], ctx.inputs[1:]
    needs = ctx.needs_input_grad[1:]
    diff = [i for i, (x, need) in enumerate(zip(operands, needs)) if need and x._dtype.is_floating_point]
    out = [None] * len(ctx.inputs)
    if not diff:
        return tuple(out)
    specs = ctx.attrs["true_graph"].out_specs
    wrt = [j for j, s in enumerate(specs) if s.dtype.is_floating_point]
    vjp_true = _vjp(ctx.attrs["true_graph"], len(operands), diff, wrt)
    vjp_false = _vjp(ctx.attrs["false_graph"], len(operands), diff, wrt)
    res = cond(pred, vjp_true, vjp_false, *operands, *[grads[j] for j in wrt])
    for i, gi in zip(diff, res):
        out[1 + i] = gi
    return tuple(out)


def _vjp(sub: Subgraph, n: int, diff: list, wrt: list) -> Callable:
    """A function of (operands..., output grads...) giving the gradient w.r.t. each operand in ``diff``."""

    def vjp(*args):
        ops, gouts = list(args[:n]), args[n:]
        with enable_grad():
            for i in diff:
                ops[i] = ops[i].detach().requires_grad_(True)
            outs = replay(sub, ops)
            pairs = [(outs[j], g) for j, g in zip(wrt, gouts) if outs[j]._requires_grad]
            grads = [None] * len(diff)
            if pairs:
                grads = _autograd.grad([o for o, _ in pairs], [ops[i] for i in diff], [g for _, g in pairs],
                                       allow_unused=True)
        return tuple(ops[i].new_zeros(tuple(ops[i].shape)) if gi is None else gi for i, gi in zip(diff, grads))

    return vjp


# ----------------------------------------------------------------------------- while_loop
def while_loop(cond_fn: Callable, body_fn: Callable, init):
    """Run ``carry = body_fn(*carry)`` while ``cond_fn(*carry)`` is true; return the final carry.

    ``init``: a tensor or a tuple/list of tensors (the loop carry).  ``cond_fn(*carry)`` gives a
    one-element tensor (or a bool); ``body_fn(*carry)`` gives the new carry with the same specs
    (shapes and dtypes), as a tuple (or a tensor for a one-tensor carry).  Returns a tensor when
    ``init`` is one, else a tuple.

    Eager: a Python ``while`` loop (autograd flows as usual).  Staged: one ``while_loop`` node holding
    the traced condition and body; the interpreter loops.  Not differentiable when staged: calling
    ``backward()`` through it raises NotImplementedError.

    >>> i, s = gc.static.while_loop(lambda i, s: s < 100, lambda i, s: (i + 1, s * 2), (gc.tensor(0), x))
    """
    _check_callable(cond_fn, "cond_fn", "while_loop")
    _check_callable(body_fn, "body_fn", "while_loop")
    single = isinstance(init, Tensor)
    if not single and not isinstance(init, (tuple, list)):
        raise TypeError(f"while_loop: init must be a tensor or a tuple of tensors, got {type(init).__name__}")
    carry = (init,) if single else tuple(init)
    for i, x in enumerate(carry):
        if not isinstance(x, Tensor):
            raise TypeError(f"while_loop: init[{i}] is a {type(x).__name__}; the loop carry holds tensors")
    if not _staged(carry):
        while _truth(cond_fn(*carry), "while_loop: cond_fn"):
            new = _as_carry(body_fn(*carry), len(carry))
            _check_carry([_eager_spec(x) for x in carry], [_eager_spec(x) for x in new])
            carry = new
        return carry[0] if single else tuple(carry)

    g = staging.graph_of(carry)
    syms = [g.stage_input(x) for x in carry]
    run = lambda fn, args: fn(*args)  # noqa: E731 - the carry is passed flat
    c = _Traced(g, cond_fn, "cond_fn", "gc.static.while_loop", syms, run)
    b = _Traced(g, lambda *xs: _as_carry(body_fn(*xs), len(syms)), "body_fn", "gc.static.while_loop", syms, run)
    if len(c.specs) != 1 or any(d != 1 for d in c.specs[0].shape):
        raise RuntimeError(f"while_loop: cond_fn must return one tensor with exactly one element, got "
                           f"{_specs_text(c.specs)}")
    _check_carry([Spec(s._spec.shape, s._dtype) for s in syms], b.specs)
    order, given = _capture_order(c, b)
    attrs = {"cond_graph": c.finish(order, 0), "body_graph": b.finish(order, 0)}
    outs = staging.apply(_ops.WHILE_LOOP, (*carry, *given), attrs)
    return outs[0] if single else tuple(outs)


def _as_carry(result, n: int) -> tuple:
    if isinstance(result, Tensor):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n or not all(isinstance(x, Tensor) for x in result):
        got = f"{len(result)} value(s)" if isinstance(result, (tuple, list)) else f"a {type(result).__name__}"
        raise TypeError(f"while_loop: body_fn must return the loop carry: {n} tensor(s), got {got}")
    return tuple(result)


def _eager_spec(x: Tensor) -> Spec:
    return Spec(tuple(x.shape), x._dtype)


def _check_carry(carry: list, body: list) -> None:
    for i, (a, b) in enumerate(zip(carry, body)):
        if a != b:
            raise RuntimeError(f"while_loop: body_fn gives carry[{i}] as {format_spec(b)} but the carry is "
                               f"{format_spec(a)}: the body must keep each carry value's shape and dtype (? is a "
                               f"symbolic size). Carry {_specs_text(carry)}, body_fn {_specs_text(body)}")

