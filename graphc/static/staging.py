"""Staging: what ``dispatch.apply`` does when an input is symbolic.  The one place ops become nodes.

``apply(op, inputs, attrs)`` turns every input into a value of the graph being
built (eager tensors become leaves, see :meth:`Graph.stage_input`), adds the
node with the specs the op's shape rule gives (symbolic sizes as None, see
:mod:`.symsize`), records the user's ``file:line``, returns symbolic tensors
and records the autograd Node through the same code eager dispatch uses, so
``backward()`` on a symbolic loss runs the same gradient rules and adds the
backward nodes to the same graph.

The other functions here are the hooks eager ``Tensor`` calls when a symbolic
value reaches in-place writes and gradient bookkeeping (installed with
``dispatch.install_static``).
"""
from __future__ import annotations

from ..eager.dispatch import record_node
from ..eager.grad_mode import GRAD
from ..eager.view_tracking import register_view
from ..ir.graph import Value, normalize_specs
from ..ops.registry import OpDef, Spec
from .errors import TracingError, user_location
from .symbolic import SymbolicTensor
from .symsize import EXAMPLE_SIZE, SLACK, affine, plain

__all__ = ["apply", "commit_inplace", "accumulate_grad", "note_grad", "snapshot", "setitem", "alias", "ACTIVE"]


class _Active:
    """The graph gc.compile is tracing into (None outside a trace)."""

    graph = None


ACTIVE = _Active()


def graph_of(tensors):
    """The graph an op on ``tensors`` goes into: that of its symbolic inputs, else the traced one."""
    g = None
    for t in tensors:
        if isinstance(t, SymbolicTensor):
            tg = t._graph
            if g is None or encloses(g, tg):
                g = tg  # a branch of gc.static.cond/while_loop nested in g: the op goes into the branch
            elif tg is not g and not encloses(tg, g):
                raise TracingError(f"an op at {user_location()} mixes tensors of two different graphs")
    active = ACTIVE.graph
    if g is None:
        if active is None:
            raise TracingError("no graph is being built")  # not reachable through dispatch
        return active
    if active is not None and g is not active:
        if encloses(g, active):
            return active  # an outer value used inside a branch: the branch captures it
        if getattr(g, "closed", False):
            raise escaped_error(g)
        raise TracingError(f"a symbolic tensor of a gc.static.Graph reached a function traced by gc.compile at "
                           f"{user_location()}: feed its value as an argument instead")
    if getattr(g, "closed", False):
        raise escaped_error(g)
    return g


def encloses(outer, inner) -> bool:
    """True when the graph ``inner`` is a branch nested (at any depth) in ``outer``."""
    p = getattr(inner, "parent", None)
    while p is not None:
        if p is outer:
            return True
        p = getattr(p, "parent", None)
    return False


def escaped_error(branch) -> TracingError:
    """A value computed inside a finished branch (of cond/while_loop) reached code outside it."""
    return TracingError(
        f"a value computed inside {branch.what} is used outside it at {user_location()}: a branch's values exist "
        "only inside the branch. Return the value from the function instead (and use what cond/while_loop return).")


def _refuse_quadratic_sizes(op: OpDef, example: list) -> None:
    """A dim of about S * S (the outer product of two batch-sized vectors, flattened) would read as
    the affine size 7919 * S: the graph could not follow it, so the trace gives up on symbolic sizes."""
    for spec in example:
        for d in spec.shape:
            kb = affine(d)
            if kb is not None and kb[0] >= EXAMPLE_SIZE - SLACK:
                raise TracingError(f"{op.name} makes a dim of size {d}, about the square of the symbolic size, at "
                                   f"{user_location()}: only sizes a * S + b follow the batch size at run time")


def apply(op: OpDef, inputs: tuple, attrs: dict):
    """Add ``op`` applied to ``inputs`` to the graph; return its symbolic output(s)."""
    g = graph_of(inputs)
    if g._symbolic:
        attrs = plain(attrs)     # sizes user code passed: plain ints in the graph
        if op.name == "basic_index":
            _refuse_stepped_symbolic_slice(inputs[0], attrs["index"])
    syms = [t if isinstance(t, SymbolicTensor) and t._graph is g else g.stage_input(t) for t in inputs]
    if op.infer is None:
        raise TracingError(f"{op.name} has no shape rule, so it cannot be part of a static graph "
                           f"(at {user_location()})")
    sym_specs = [Spec(s._spec.shape, s._dtype, s._wrapped) for s in syms]
    ex_specs = [Spec(tuple(s._data.shape), s._dtype, s._wrapped) for s in syms]
    by_rule = normalize_specs(op.infer(*sym_specs, **attrs))
    example = normalize_specs(op.infer(*ex_specs, **attrs)) if g._symbolic else by_rule
    if g._symbolic:
        _refuse_quadratic_sizes(op, example)
    specs, shapes = [], []
    for a, b in zip(by_rule, example):
        specs.append(Spec(tuple(None if x is None or (g._symbolic and affine(y) is not None) else x
                                for x, y in zip(a.shape, b.shape)), a.dtype))
        shapes.append(tuple(EXAMPLE_SIZE if y is None else y for y in b.shape))
    nid = g.ir.add_node(op.name, [s._value for s in syms], attrs, specs, loc=user_location())
    outs = tuple([SymbolicTensor._new(g, Value(nid, i), spec, shape)
                  for i, (spec, shape) in enumerate(zip(specs, shapes))])
    if op.is_view:
        _link_view(op, attrs, inputs[0], outs[0])
    if GRAD.enabled and op.grad is not None:
        recorded = tuple([t if isinstance(t, SymbolicTensor) else _stand_in(g, t, s) for t, s in zip(inputs, syms)])
        node = record_node(op, recorded, attrs, outs)
        if node is not None and op.saves_output:
            # the rule reads the outputs as graph values (eager rebuilds them from saved arrays)
            node._out_tensors = tuple([_saved_output(o, node, i) for i, o in enumerate(outs)])
    return outs[0] if op.num_outputs == 1 else outs


def _stand_in(g, t, s: SymbolicTensor) -> SymbolicTensor:
    """The graph value of the eager tensor ``t`` with ``t``'s autograd identity (history, leaf
    accumulator, version counter): the tape links to ``t`` as in eager mode, while gradient rules
    read a graph value, so everything they compute is staged too."""
    if t._wrapped and g.ir.op(s._value.node) == "constant":
        return t  # a known Python number: rules may read it (and stage it again when they use it)
    w = SymbolicTensor._new(g, s._value, s._spec, s._data.shape)
    w._wrapped = s._wrapped
    w._version = t._version
    if t._requires_grad:
        w._requires_grad = True
        w.grad_fn = t.grad_fn
        w._out = t._out
        w._accumulator = t._accumulate_node() if t.grad_fn is None else None
    return w


def _link_view(op: OpDef, attrs: dict, src, res: SymbolicTensor) -> None:
    # a graph value never aliases memory, but an in-place write through a view must reach its base
    res._version = src._version
    base = src._base
    if base is None:
        res._base = base = src
        res._view_chain = ((op, attrs),)
    else:
        res._base = base
        res._view_chain = src._view_chain + ((op, attrs),)
    if isinstance(base, SymbolicTensor):
        register_view(base, res)  # an in-place write to the base re-cuts the view (symbolic._refresh_views)


def _saved_output(o: SymbolicTensor, node, i: int) -> SymbolicTensor:
    t = SymbolicTensor._new(o._graph, o._value, o._spec, o._data.shape)
    t._requires_grad = True
    t.grad_fn = node
    t._out = i
    return t


# ----------------------------------------------------------------------------- hooks for eager Tensor
def _graph_for(*tensors):
    for t in tensors:
        if isinstance(t, SymbolicTensor):
            return t._graph
    return graph_of(())


def commit_inplace(target, result, opname: str):
    """An in-place op on the eager ``target`` produced the symbolic ``result``."""
    return _graph_for(result).commit_eager(target, result, opname)


def accumulate_grad(target, g, create_graph: bool) -> None:
    """backward() reached the eager leaf ``target`` with the symbolic gradient ``g``."""
    _graph_for(g).accumulate_eager_grad(target, g)


def note_grad(target) -> None:
    """``target.grad`` is being assigned while gc.compile traces (the trace restores it afterwards)."""
    if ACTIVE.graph is not None:
        ACTIVE.graph.note_grad(target)


def snapshot(target):
    """The current value of the eager ``target`` while gc.compile traces (for an op about to overwrite it)."""
    return graph_of(()).stage_input(target)._snapshot()


def setitem(target, idx, value) -> None:
    """``target[idx] = value`` with a symbolic side."""
    _graph_for(target, value).setitem(target, idx, value)


def alias(target):
    """``target.detach()`` / ``target.data`` of an eager tensor while gc.compile traces: the graph value,
    linked so that an in-place write to it writes ``target`` (they share memory in eager mode)."""
    return graph_of(()).stage_input(target).detach_alias(target)


def contiguous_argument(t) -> bool:
    """Whether ``t`` stands for a C-contiguous argument of the function gc.compile traces (so
    ``t.contiguous()`` is ``t`` itself, as eagerly; contiguity is part of the cache key)."""
    return isinstance(t, SymbolicTensor) and id(t) in getattr(t._graph, "_contiguous_args", ())


def symbolic_dim(t, dim: int) -> bool:
    """Whether dim ``dim`` of ``t`` is a symbolic size (the batch dim under dynamic=True)."""
    return isinstance(t, SymbolicTensor) and t._spec.shape[dim] is None


def _refuse_stepped_symbolic_slice(t, index: tuple) -> None:
    """A slice with a step over a symbolic dim keeps ``ceil((S - start) / step)`` rows, which no
    affine ``a * S + b`` describes (nor the gradient's scatter back into S rows)."""
    d = 0
    for e in index:
        if e is None:
            continue
        if type(e) is tuple and e[2] != 1 and symbolic_dim(t, d):
            raise TracingError(f"a slice with step {e[2]} over dim {d}, a symbolic (dynamic=True) size, at "
                               f"{user_location()}: the number of rows it keeps is not affine in the batch size")
        d += 1


def refuse_data_dependent(inputs: tuple, op: str) -> None:
    """Raise, in a trace of gc.compile, for ``op`` whose result's size depends on the values
    (masked_select): the graph around it would see a stand-in size, so the function runs eagerly,
    as with ``x[mask]``.  A graph built with the static API keeps such ops (the interpreter runs them)."""
    if not getattr(graph_of(inputs), "refuses_data_dependent", False):
        return
    raise TracingError(f"{op} at {user_location()}: its result's size depends on the values, which a static "
                       "graph does not know")


def refuse_size_split(t, dim: int, op: str) -> None:
    """Raise if ``t``'s dim ``dim`` is a symbolic size: ``op`` would cut it into pieces whose sizes
    (``ceil(S / k)``, ``S % k``, ...) no affine ``a * S + b`` describes, so the graph would keep the
    stand-in size's pieces.  gc.compile then traces with static shapes (:mod:`.fallback`)."""
    if symbolic_dim(t, dim):
        raise TracingError(f"{op} over dim {dim}, a symbolic (dynamic=True) size, at {user_location()}: the "
                           "pieces' sizes are not affine in the batch size")

