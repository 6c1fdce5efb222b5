"""Tracing: run a Python function once on symbolic arguments and keep the graph it builds.

While a trace runs, ``Tensor._symbolic`` is True for every tensor, so every op
(even one on captured eager tensors only) is staged into the
:class:`TracingGraph`.  Eager tensors become graph leaves read at each call or
constants:

* a leaf that requires grad: a ``parameter`` node; the ``.grad`` of one, and any
  tensor of the captured state (buffers, frozen parameters, optimizer state,
  captured tensors; see :mod:`.capture`): a placeholder bound to it;
* a tensor the function makes (``gc.zeros(3)``): a constant, which becomes an
  input if the function writes to it in place and keeps it (optimizer state made
  on the first step); one it only uses locally starts fresh at each call.

Effects on eager state are recorded, not done, and become extra graph outputs
that :meth:`Trace.write_back` applies after each call:

* in-place writes to eager tensors (``p -= lr * p.grad``, ``optimizer.step()``):
  the new value is copied into the tensor's memory, as eager mode would;
* ``.grad`` changes (``backward()`` accumulating, ``p.grad = None``);
* tensors a traced ``optimizer.step()`` puts into the optimizer's state (the
  momentum buffers of the first step).

Random ops cannot be staged yet: drawing from the global random stream while
tracing raises :class:`TracingError` instead of baking the numbers into the graph.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from ..eager import dispatch as _dispatch
from ..eager import random as _random
from ..eager.grad_mode import GRAD
from ..eager.tensor import Tensor
from . import capture, tree
from .builder import Graph
from .capture import (is_module, is_optimizer, optimizer_states, python_state, restore, restore_optimizer_states,
                      state_changed)
from .compiled_grad import BackwardPlan, plan_backward
from .errors import TracingError, user_location
from .executable import Executable, as_feed_array
from .staging import ACTIVE
from .symbolic import SymbolicTensor, meta_array

__all__ = ["TracingGraph", "Trace", "trace", "tracing_active"]


def tracing_active() -> bool:
    """True while gc.compile runs a function to trace it."""
    return ACTIVE.graph is not None


class TracingGraph(Graph):
    """The graph of one trace: a :class:`Graph` that also records effects on eager state."""

    # gc.compile runs a function with a value-dependent size (masked_select) eagerly instead
    refuses_data_dependent = True

    def __init__(self, labels: dict, state: set) -> None:
        super().__init__()
        self._labels = labels        # id(tensor) -> a readable name (from the captured modules)
        self._state = state          # ids of captured tensors: read at each call, never baked in
        self._grad_owner: dict = {}  # id(grad tensor) -> the tensor whose .grad it is
        self._const_of: dict = {}    # id(eager tensor) -> its constant node (an input if it gets written)
        self._written: dict = {}     # id(eager tensor) -> tensor: written in place, to write back
        self._grad_orig: dict = {}   # id(tensor) -> (tensor, its .grad before the trace)
        self._hidden: dict = {}      # id(eager tensor) -> (tensor, real data) while its data is hidden
        self._born: dict = {}        # id(eager tensor) -> tensor: made while tracing (gc.zeros(...) ...)
        self._nonleaf_args: set = set()  # ids of argument tensors that require grad and have history
        self._contiguous_args: set = set()  # ids of argument tensors that are C-contiguous (key: capture)

    # ------------------------------------------------------------------ eager tensors as leaves
    def _param_name(self, t: Tensor, prefix: str = "p") -> str:
        label = self._labels.get(id(t))
        if label is not None and label not in self._names:
            self._names.add(label)
            return label
        return super()._param_name(t, prefix)

    def _stage_eager(self, t: Tensor) -> SymbolicTensor:
        owner = self._grad_owner.get(id(t))
        if owner is not None and owner._grad is t:
            name = self._labels.get(id(owner))
            name = f"{name}.grad" if name and f"{name}.grad" not in self._names else self._fresh_name("grad")
            self._names.add(name)
            return self._bind(t, "placeholder", name, ("grad", owner))
        if id(t) in self._state and not (t._requires_grad and t.grad_fn is None):
            return self._bind(t, "placeholder", self._param_name(t, "state"), ("data", t))
        s = super()._stage_eager(t)
        if self.ir.op(s._value.node) == "constant":
            self._const_of[id(t)] = s._value.node
        return s

    def register_grads(self, tensors) -> None:
        """Let the current ``.grad`` of these tensors be read as inputs (not constants) when used."""
        for t in tensors:
            if t._grad is not None:
                self._grad_owner[id(t._grad)] = t

    # ------------------------------------------------------------------ effects on eager state
    def rebind_eager(self, target: Tensor, value: SymbolicTensor) -> None:
        self._eager[id(target)] = (target, value)
        self._written[id(target)] = target
        target._version.v += 1
        if id(target) not in self._hidden:
            # its memory now holds a stale value: eager code reading it must fail, not read the old numbers
            self._hidden[id(target)] = (target, target._data)
            target._data = meta_array(target._data.shape, target._dtype, writeable=target._data.flags.writeable)

    def persistent_writes(self, reachable: set) -> list:
        """The tensors written in place whose new values must reach them after each call: all but those
        the function made itself and kept nowhere (a local buffer starts fresh at each call)."""
        out = []
        for t in self._written.values():
            if id(t) in self._born and id(t) not in reachable and self._real_data(t).flags.owndata:
                continue
            node = self._const_of.pop(id(t), None)
            if node is not None:
                self._lift_constant(node, t)
            out.append(t)
        return out

    def _real_data(self, t: Tensor) -> np.ndarray:
        hidden = self._hidden.get(id(t))
        return t._data if hidden is None else hidden[1]

    def _lift_constant(self, node: int, t: Tensor) -> None:
        """A constant whose tensor the function writes to becomes an input read at each call."""
        data = self.ir.node(node)
        data["op"] = "placeholder"
        data["name"] = self._fresh_name("state")
        data["attrs"] = {}
        data.pop("value", None)
        self._bound[node] = ("data", t)

    def note_grad(self, target: Tensor) -> None:
        if isinstance(target, SymbolicTensor):
            return
        if id(target) not in self._grad_orig:
            self._grad_orig[id(target)] = (target, target._grad)
            if target._grad is not None:
                self._grad_owner[id(target._grad)] = target

    def accumulate_eager_grad(self, target: Tensor, g: Tensor) -> None:
        self.note_grad(target)
        g = self.stage_input(g)
        cur = target._grad
        target._grad = g if cur is None else self.stage_input(cur) + g

    def restore(self) -> None:
        """Undo what the trace did to eager tensors: hidden memory and ``.grad`` (each call redoes it)."""
        for t, data in self._hidden.values():
            t._data = data
        self._hidden.clear()
        for t, orig in self._grad_orig.values():
            t._grad = orig


class Trace:
    """One traced graph of a compiled function and how to call it.

    ``feeds``: (leaf index, placeholder node, kind) per tensor argument ("data", or "grad" for
    the current ``.grad`` of an argument that requires grad); ``outputs``: the result's structure;
    ``effects``: the write-backs; ``guards``: conditions on eager state the graph assumes;
    ``trace_seconds`` (running the function on symbolic tensors) and ``compile_seconds`` (the
    passes and the backend's preparation).
    """

    def __init__(self, exe: Executable, feeds: list, out_treedef, out_leaves: list, n_results: int,
                 effects: list, guards: list, trace_seconds: float = 0.0, compile_seconds: float = 0.0,
                 backward: BackwardPlan | None = None, aliases: dict | None = None) -> None:
        self.executable = exe
        self.backward = backward   # the outputs' gradient program (compiled_grad.py), or None
        self.trace_seconds = trace_seconds
        self.compile_seconds = compile_seconds
        self.feeds = feeds
        self.out_treedef = out_treedef
        self.out_leaves = out_leaves
        self.n_results = n_results
        self.effects = effects
        self.guards = guards
        # the signature fixes the arguments' shapes and dtypes, not those of their .grad: checked per call
        specs = {n: (name, spec) for name, n, spec in exe._feeds}
        self._grad_feeds = [(i,) + specs[node] for i, node, kind in feeds if kind == "grad" and node in specs]
        # outputs that are an argument or captured tensor, or a view of one (see _output_aliases)
        self.aliases = aliases or {}
        # the result is one tensor: no structure to rebuild
        self._single = (out_treedef is None and n_results == 1 and isinstance(out_leaves[0], Tensor)
                        and not self.aliases)

    @property
    def graph(self):
        return self.executable.graph

    def failed_guard(self) -> str | None:
        """A description of the first guard that no longer holds, or None."""
        for label, check, want in self.guards:
            got = check()
            if got != want:
                return f"{label} {want} -> {got}"
        return None

    def run(self, leaves: list):
        """Run on the flattened arguments; apply the effects; return the result structure."""
        # the cache key matched: shapes and dtypes are the traced ones
        for i, name, spec in self._grad_feeds:
            as_feed_array(name, leaves[i]._grad._data, spec)
        feeds = {node: leaves[i]._data if kind == "data" else leaves[i]._grad._data for i, node, kind in self.feeds}
        outs = self.executable.run_arrays(feeds)
        if self.effects:
            self.write_back(outs, leaves)
        if self.backward is not None and GRAD.enabled:
            results = self.backward.attach([Tensor._make(a) for a in outs[:self.n_results]], leaves, feeds)
            if self._single:
                return results[0]
            results = iter(results)
        elif self._single:
            return Tensor._make(outs[0])
        else:
            results = iter([Tensor._make(a) for a in outs[:self.n_results]])
        if self.aliases:
            results = [_alias(self.aliases[k], leaves) if k in self.aliases else r for k, r in enumerate(results)]
            results = iter(results)
        return tree.unflatten(self.out_treedef,
                              [next(results) if isinstance(x, Tensor) else x for x in self.out_leaves])

    def write_back(self, outs: list, leaves: list) -> None:
        for kind, target, k in self.effects:
            if kind == "data":
                np.copyto(target._data, outs[k], casting="unsafe")
                target._version.v += 1
            elif kind == "grad":
                target._grad = Tensor._make(outs[k])
            elif kind == "grad_none":
                target._grad = None
            elif kind == "grad_const":
                target._grad = Tensor._make(np.array(k._data, copy=True))
            elif kind == "arg_grad":
                leaves[target]._grad = Tensor._make(outs[k])
            elif kind == "arg_data":
                arg = leaves[target]
                np.copyto(arg._data, outs[k], casting="unsafe")
                arg._version.v += 1
            elif kind == "item":
                container, key = target
                container[key] = Tensor._make(outs[k])


@contextlib.contextmanager
def _staging_everything(g: TracingGraph):
    """Every tensor is symbolic, ops go into ``g`` and the global random stream refuses to draw."""
    if ACTIVE.graph is not None:
        raise TracingError("a trace is already running")
    gen = _random.default_generator
    real_np = gen._np
    make = Tensor.__dict__["_make"].__func__
    born = g._born

    def make_traced(arr):
        t = make(arr)
        born[id(t)] = t
        return t

    ACTIVE.graph = g
    Tensor._symbolic = True
    Tensor._make = staticmethod(make_traced)
    gen._np = _NoRandom()
    try:
        yield
    finally:
        gen._np = real_np
        Tensor._make = staticmethod(make)
        Tensor._symbolic = False
        ACTIVE.graph = None


class _NoRandom:
    """Stands for the global numpy Generator while tracing: a draw would bake numbers into the graph."""

    def __getattr__(self, name):
        raise TracingError(
            f"a random op at {user_location()} draws from the global random stream while gc.compile traces: "
            "the numbers would be baked into the graph as constants. graphc cannot compile random ops yet: "
            "put the model in eval mode (dropout), pass random tensors in as arguments, or run this code "
            "eagerly (GRAPHC_DISABLE_COMPILE=1)."
        )


def trace(fn, args: tuple, kwargs: dict, names: list, dynamic: bool, captures: list, backend: str,
          fastmath: bool = False) -> Trace:
    """Trace ``fn(*args, **kwargs)`` into a graph and compile it (see the module docstring).

    ``names``: a placeholder name per flattened argument; ``captures``: from :func:`capture.captured`."""
    labels = {}
    params = []
    for label, obj in captures:
        for name, t in _tensors_of(label, obj):
            labels.setdefault(id(t), name)
            params.append(t)
    g = TracingGraph(labels, _reachable(captures))
    g.register_grads(params)
    leaves, treedef = tree.flatten((args, kwargs))
    batch = capture.symbolic_batch(leaves, dynamic)
    sym_leaves, feeds, arg_syms = [], [], []
    for i, (x, name) in enumerate(zip(leaves, names)):
        if not isinstance(x, Tensor):
            sym_leaves.append(x)
            continue
        if isinstance(x, SymbolicTensor):
            raise TracingError(f"gc.compile: argument {name} is a symbolic tensor; call compiled functions with "
                               "eager tensors")
        shape = capture.leading_symbolic(x._data.shape, batch)
        s = g.placeholder(name, shape, x._dtype, requires_grad=x._requires_grad)
        s._arg_node = s._value.node
        if x._requires_grad and x.grad_fn is not None:
            g._nonleaf_args.add(id(s))
        if x._data.flags.c_contiguous:
            g._contiguous_args.add(id(s))
        feeds.append((i, s._value.node, "data"))
        if x._requires_grad and x._grad is not None:
            gs = g.placeholder(f"{name}.grad", shape, x._dtype)
            feeds.append((i, gs._value.node, "grad"))
            s._grad = gs
            arg_syms.append((i, s, gs))
        else:
            arg_syms.append((i, s, None))
        sym_leaves.append(s)
    sym_args, sym_kwargs = tree.unflatten(treedef, sym_leaves)
    t0 = time.perf_counter()
    py_state, opt_states = python_state(captures), optimizer_states(captures)
    try:
        with _staging_everything(g):
            result = fn(*sym_args, **sym_kwargs)
            changed = state_changed(py_state)
            if changed:
                # Python state (a scheduler's step, an lr set in the function) changes once per
                # call eagerly; a graph would run it only while tracing: this call runs eagerly
                raise TracingError(f"the function changes Python state a graph cannot repeat at each "
                                   f"call ({changed})")
            out_leaves, out_td = tree.flatten(result)
            staged = [g.stage_input(x) for x in out_leaves if isinstance(x, Tensor)]
            values = [x._value for x in staged]
            # outputs that the caller may differentiate: their backward, built into the same graph
            vjp = plan_backward(g, staged, arg_syms, params) if GRAD.enabled else None
        n_results = len(values)
        effects, guards = _effects(g, values, arg_syms, captures)
    except BaseException:
        for container, key, _ in _leaked(captures):
            del container[key]  # symbolic tensors must not outlive a failed trace
        restore(py_state)       # the eager run that follows must find the state as it was
        restore_optimizer_states(opt_states)
        raise
    finally:
        g.restore()
    t1 = time.perf_counter()
    exe = Executable(g.program(values), g._bound, None, [], backend=backend, fastmath=fastmath)
    backward = None
    if vjp is not None:
        positions, wrt, ups, grad_values = vjp
        backward = BackwardPlan(g.program(grad_values), g._bound, backend, fastmath, positions, wrt, ups)
    aliases = _output_aliases([x for x in out_leaves if isinstance(x, Tensor)], arg_syms, g._born, dynamic)
    return Trace(exe, feeds, out_td, out_leaves, n_results, effects, guards, t1 - t0, time.perf_counter() - t1,
                 backward, aliases)


def _output_aliases(outs: list, arg_syms: list, born: dict, dynamic: bool) -> dict:
    """Which results alias memory the caller holds, as torch.compile keeps them: {result index: how}.

    A result that *is* an argument (returned as is, or after an in-place change) or a captured
    eager tensor is that object; a view of one is the same view of it, made again at each call
    from the recorded view ops, so that it shares memory (and autograd history) with its base;
    a view without history (``detach()``, ``.data``, or a view of one) is detached again.
    The graph still computes those results; the copies are dropped.  Views are not remade under
    ``dynamic=True``, where their attributes may hold the stand-in batch size.  A tensor made
    while tracing (``born``) is the function's own: each call makes it afresh."""
    args = {id(s): i for i, s, _ in arg_syms}
    aliases = {}
    for k, t in enumerate(outs):
        if id(t) in args:
            aliases[k] = ("arg", args[id(t)], (), False)
        elif not isinstance(t, SymbolicTensor):
            if id(t) not in born:
                aliases[k] = ("object", t, (), False)
        elif t._base is not None and not dynamic and all(op.num_outputs == 1 for op, _ in t._view_chain):
            base = t._base
            # cut from the tape while its base is on it (detach(), .data): detached again
            detach = GRAD.enabled and base._requires_grad and not t._requires_grad
            if id(base) in args:
                aliases[k] = ("arg", args[id(base)], t._view_chain, detach)
            elif not isinstance(base, SymbolicTensor) and id(base) not in born:
                aliases[k] = ("object", base, t._view_chain, detach)
    return aliases


def _alias(how: tuple, leaves: list) -> Tensor:
    kind, what, chain, detach = how
    t = leaves[what] if kind == "arg" else what
    for op, attrs in chain:
        t = _dispatch.apply(op, (t,), attrs)
    return t.detach() if detach else t


def _tensors_of(label: str, obj):
    """(name, tensor) for the tensors a captured object holds: parameters, then buffers."""
    if isinstance(obj, Tensor):
        yield label, obj
    elif is_module(obj):
        for name, p in obj.named_parameters():
            yield (f"{label}.{name}" if label != "self" else name), p
        if hasattr(obj, "named_buffers"):
            for name, b in obj.named_buffers():
                yield (f"{label}.{name}" if label != "self" else name), b
    elif is_optimizer(obj):
        for gi, group in enumerate(obj.param_groups):
            for j, p in enumerate(group["params"]):
                yield f"{label}.param_groups[{gi}][{j}]", p


def _effects(g: TracingGraph, values: list, arg_syms: list, captures: list) -> tuple:
    """The write-backs (appending their values to ``values``) and guards of a finished trace."""
    effects, guards = [], []

    def out(v: SymbolicTensor) -> int:
        values.append(v._value)
        return len(values) - 1

    for t in g.persistent_writes(_reachable(captures)):
        effects.append(("data", t, out(g._eager[id(t)][1])))
    for t, orig in g._grad_orig.values():
        final = t._grad
        t._grad = orig  # the trace changes nothing; each call does
        guards.append((f"{_label(g, t)}.grad", _is_none_check(t), "None" if orig is None else "set"))
        if final is orig:
            continue
        if final is None:
            effects.append(("grad_none", t, None))
        elif isinstance(final, SymbolicTensor):
            bound = g._bound.get(final._value.node)
            if bound == ("grad", t):
                continue  # unchanged
            effects.append(("grad", t, out(final)))
        else:
            effects.append(("grad_const", t, final))
    for i, s, gs in arg_syms:
        if s._value.node != s._arg_node:
            # written in place (``x.mul_(2)``, ``x[0] = 1``): the argument gets the new values, as eagerly
            effects.append(("arg_data", i, out(s)))
        if s._grad is not None and s._grad is not gs:
            effects.append(("arg_grad", i, out(s._grad)))
    for container, key, v in _leaked(captures):
        effects.append(("item", (container, key), out(v)))
        del container[key]  # until a call computes its value
    for n, (kind, t) in g._bound.items():
        label = g.ir.name(n)
        if kind == "data":
            guards.append((label, _meta_check(t), _meta(t)))
        elif kind == "grad":
            guards.append((label, _grad_meta_check(t), _grad_meta(t)))
    return effects, guards


def _label(g: TracingGraph, t: Tensor) -> str:
    return g._labels.get(id(t)) or f"tensor {list(t.shape)}"


def _meta(t: Tensor) -> tuple:
    return (tuple(t._data.shape), t._dtype.name, t._requires_grad)


def _meta_check(t: Tensor):
    return lambda: _meta(t)


def _grad_meta(t: Tensor):
    g = t._grad
    return None if g is None else (tuple(g._data.shape), g._dtype.name)


def _grad_meta_check(t: Tensor):
    return lambda: _grad_meta(t)


def _is_none_check(t: Tensor):
    return lambda: "None" if t._grad is None else "set"


def _leaked(captures: list) -> list:
    """Symbolic tensors the function stored in a captured optimizer's state or module's buffers."""
    found = []
    for _, obj in captures:
        if is_optimizer(obj):
            for st in list(obj.state.values()):
                if isinstance(st, dict):
                    found.extend((st, k, v) for k, v in st.items() if isinstance(v, SymbolicTensor))
        if is_module(obj):
            for m in obj.modules() if hasattr(obj, "modules") else (obj,):
                bufs = m.__dict__.get("_buffers")
                if isinstance(bufs, dict):
                    found.extend((bufs, k, v) for k, v in bufs.items() if isinstance(v, SymbolicTensor))
    return found


def _reachable(captures: list) -> set:
    """Ids of the tensors kept in captured state (parameters, buffers, optimizer state, captured containers)."""
    ids = set()
    for label, obj in captures:
        for _, t in _tensors_of(label, obj):
            ids.add(id(t))
        if is_optimizer(obj):
            for st in list(obj.state.values()):
                if isinstance(st, dict):
                    ids.update(id(v) for v in st.values() if isinstance(v, Tensor))
    return ids
