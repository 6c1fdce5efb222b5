"""Subgraphs: Python functions traced into graphs of their own, for control-flow nodes.

``gc.static.cond`` traces each branch, and ``gc.static.while_loop`` its
condition and body, into a :class:`BranchGraph`: a builder nested in the graph
being built (its ``parent``).  The function's arguments are its first
placeholders.  Any other value it uses is *captured*: a symbolic tensor of an
enclosing graph, a parameter, a tensor from the function's closure.  A
captured value becomes one more placeholder, and the enclosing graph passes it
to the control-flow node as one more operand.  Eager tensors are staged in the
enclosing graph first (recursively up to the outermost one), so parameters,
captured state and write-back stay where gc.compile handles them, and a
gradient reaches them through the control-flow node.

A branch must be a pure function of its inputs: writing into an outer tensor
in place (tensors it makes itself are fine), assigning ``.grad`` or calling
``backward()`` inside it raises :class:`TracingError`, and so does using one of
its values after it returned.

A finished branch is a :class:`Subgraph`: the IR graph, the placeholders that
take the node's operands (in order), the output specs; it runs with its own
interpreter :class:`~graphc.static.interp.Plan`.  :func:`replay` stages a
subgraph's ops again on new inputs (how a cond's gradient differentiates a branch).
"""
from __future__ import annotations

from ..eager.tensor import Tensor
from ..ir.graph import Graph as IRGraph, LEAVES, Value, normalize_specs
from ..ir.verify import verify
from ..ops.registry import REGISTRY, Spec
from .builder import Graph
from .errors import TracingError, user_location
from .interp import Plan
from .staging import encloses
from .symbolic import SymbolicTensor, meta_array
from .symsize import find_symbolic, substitute

__all__ = ["BranchGraph", "Subgraph", "replay", "encloses"]


class Subgraph:
    """A traced function: ``graph`` (an IR Graph) whose placeholders ``inputs`` take the operands of its
    control-flow node from position ``offset`` on (1 for cond, after the predicate; 0 for while_loop).

    ``symbolic``: the enclosing graph has a symbolic size, so attributes inside may hold its stand-in.
    """

    __slots__ = ("graph", "inputs", "offset", "symbolic", "_plan", "_hash", "_specs_cache")

    def __init__(self, graph: IRGraph, inputs: list, offset: int, symbolic: bool) -> None:
        self.graph = graph
        self.inputs = tuple(inputs)
        self.offset = offset
        self.symbolic = symbolic
        self._plan = None
        self._hash = None
        self._specs_cache = None

    @property
    def in_specs(self) -> list:
        return [self.graph.input_spec(Value(n, 0)) for n in self.inputs]

    @property
    def out_specs(self) -> list:
        return [self.graph.spec(v) for v in self.graph.outputs]

    def out_specs_for(self, in_specs) -> list:
        """The output specs when the inputs have ``in_specs``: :attr:`out_specs`, or, when those fix every
        symbolic size of the inputs (a graph specialized to concrete shapes), the specs the shape rules
        give for them (stand-in sizes in attributes resolved)."""
        size = None
        for spec, want in zip(in_specs, self.in_specs):
            for d, w in zip(spec.shape, want.shape):
                if w is None:
                    if d is None or (size is not None and d != size):
                        return self.out_specs
                    size = d
        if size is None:
            return self.out_specs
        key = tuple((tuple(s.shape), s.dtype) for s in in_specs)
        cache = self._specs_cache if self._specs_cache is not None else {}
        self._specs_cache = cache
        if key not in cache:
            cache[key] = _infer_specs(self, in_specs, size)
        return cache[key]

    def plan(self) -> Plan:
        """The interpreter plan (made on first use; the graph never changes afterwards)."""
        if self._plan is None:
            self._plan = Plan(self.graph, symbolic=self.symbolic)
        return self._plan

    @property
    def needs_size(self) -> bool:
        """Whether running it needs the enclosing graph's symbolic size."""
        return self.plan().needs_size

    def run(self, arrays, size: int | None = None) -> list:
        """The output arrays for the input ``arrays`` (one per input), ``size`` the graph's symbolic size
        (read from the inputs when not given: a runner of specialized graphs does not know it)."""
        plan = self.plan()
        if size is None and plan.needs_size:
            size = self._size_of(arrays)
        return plan.run(dict(zip(self.inputs, arrays)), size)

    def _size_of(self, arrays) -> int:
        for spec, a in zip(self.in_specs, arrays):
            for d, n in zip(spec.shape, a.shape):
                if d is None:
                    return n
        raise RuntimeError("this subgraph computes with the graph's symbolic size, which was not given and "
                           "none of its inputs has a symbolic dimension to read it from")

    def hash(self) -> str:
        """The content hash of the graph (see :meth:`graphc.ir.Graph.graph_hash`)."""
        if self._hash is None:
            self._hash = self.graph.graph_hash()
        return self._hash

    def __repr__(self) -> str:
        # the hash makes the text form (and graph_hash of the enclosing graph) tell subgraphs apart
        return f"subgraph({len(self.graph)} ops, #{self.hash()[:12]})"


class BranchGraph(Graph):
    """The builder of one traced function nested in ``parent`` (see the module docstring).

    ``what`` names the function in error messages ("true_fn of gc.static.cond").
    """

    def __init__(self, parent: Graph, what: str) -> None:
        super().__init__()
        self.parent = parent
        self.what = what
        self.closed = False
        self._symbolic = parent._symbolic
        self.args: list = []       # placeholder nodes of the function's arguments
        self.captures: dict = {}   # parent Value -> (the value as the user gave it, placeholder node here)
        self.born: dict = {}       # id -> eager tensors the function made (it may write those in place)
        self._hidden: dict = {}    # id -> (tensor, real data) of those it wrote

    # ------------------------------------------------------------------ inputs
    def argument(self, like: SymbolicTensor) -> SymbolicTensor:
        """A new placeholder for one argument, with the spec of ``like`` (a value of the parent)."""
        s = self._input(f"arg{len(self.args)}", like)
        self.args.append(s._value.node)
        return s

    def _input(self, name: str, like: SymbolicTensor) -> SymbolicTensor:
        self._names.add(name)
        nid = self.ir.add_placeholder(name, like._spec[:2], loc=user_location(), wrapped=bool(like._wrapped))
        s = SymbolicTensor._new(self, Value(nid, 0), Spec(like._spec.shape, like._dtype), like._data.shape)
        s._wrapped = like._wrapped
        return s

    def capture(self, given: Tensor, outer: SymbolicTensor) -> SymbolicTensor:
        """The placeholder standing for ``outer`` (a value of the parent; ``given`` is what the
        function used: an eager tensor or a symbolic tensor of some enclosing graph)."""
        hit = self.captures.get(outer._value)
        if hit is None:
            s = self._input(f"cap{len(self.captures)}", outer)
            self.captures[outer._value] = (given, s._value.node)
            return s
        s = SymbolicTensor._new(self, Value(hit[1], 0), Spec(outer._spec.shape, outer._dtype), outer._data.shape)
        s._wrapped = outer._wrapped
        return s

    def stage_input(self, t: Tensor) -> SymbolicTensor:
        if isinstance(t, SymbolicTensor):
            if t._graph is self:
                return t
            if encloses(t._graph, self):
                return self.capture(t, self.parent.stage_input(t))
            return super().stage_input(t)  # a graph that does not enclose this one: the error
        if t._wrapped:
            return self._wrapped_constant(t)  # a Python number stays in the branch
        hit = self._eager.get(id(t))
        if hit is not None:
            return hit[1]
        s = self.capture(t, self.parent.stage_input(t))
        self._eager[id(t)] = (t, s)
        return s

    def _size_input(self, kb: tuple, dtype, wrapped: bool) -> SymbolicTensor:
        # a number computed from the symbolic size is an input of the outermost graph, captured
        outer = self.parent._size_input(kb, dtype, wrapped)
        outer._wrapped = wrapped
        return self.capture(outer, outer)

    # ------------------------------------------------------------------ a branch has no effects
    def _no_effects(self, what: str) -> TracingError:
        return TracingError(
            f"{what} at {user_location()} inside {self.what}: a branch (or loop body) must be a pure function "
            "of its inputs, because the graph decides at run time which branch runs and how often. Return the "
            "new value from the function instead (and assign it outside).")

    def rebind_eager(self, target: Tensor, value: SymbolicTensor) -> None:
        if id(target) not in self.born:
            raise self._no_effects(f"an in-place write into an outer tensor of shape {list(target.shape)}")
        # a buffer the function made itself (out = gc.zeros(n); out[i] = v): it stands for the new value
        self._eager[id(target)] = (target, value)
        target._version.v += 1
        if id(target) not in self._hidden:  # its memory holds a stale value now: reading it must fail
            self._hidden[id(target)] = (target, target._data)
            target._data = meta_array(target._data.shape, target._dtype, writeable=target._data.flags.writeable)

    def restore(self) -> None:
        """Give the buffers the function wrote their memory back (the branch is traced, not run)."""
        for t, data in self._hidden.values():
            t._data = data
        self._hidden.clear()

    def accumulate_eager_grad(self, target: Tensor, g: Tensor) -> None:
        raise self._no_effects("backward() reaching an outer tensor")

    def note_grad(self, target: Tensor) -> None:
        raise self._no_effects("changing the .grad of a tensor")

    # ------------------------------------------------------------------ finishing
    def finish(self, outputs: list, order: list, offset: int) -> Subgraph:
        """The Subgraph computing the values ``outputs``; its inputs are the arguments, then the
        captures in ``order`` (parent Values; one this function did not use gets an unused placeholder)."""
        self.closed = True
        g = self.ir
        inputs = list(self.args)
        for v in order:
            hit = self.captures.get(v)
            if hit is None:
                outer = SymbolicTensor._new(self.parent, v, self.parent.ir.spec(v))
                outer._wrapped = bool(self.parent.ir.input_spec(v).wrapped)
                hit = (None, self.capture(outer, outer)._value.node)
            inputs.append(hit[1])
        g.set_outputs(outputs)
        keep = g.ancestors(outputs) | {g.output_node} | set(inputs)
        for n in [n for n in g.nx.nodes if n not in keep]:
            g.remove_node(n, force=True)
        for k, n in enumerate(inputs):  # in<k> takes the node's operand k (counted from offset)
            g.node(n)["name"] = f"in{k}"
        verify(g)
        return Subgraph(g, inputs, offset, self._symbolic)


def replay(sub: Subgraph, args: list) -> list:
    """Stage ``sub``'s ops again on ``args`` (symbolic tensors of one graph, one per input) through
    dispatch, so they record on the autograd tape as ordinary ops do; return its outputs.  Nodes keep
    their ``loc``."""
    from ..eager.dispatch import apply

    if len(args) != len(sub.inputs):
        raise TypeError(f"replay: the subgraph takes {len(sub.inputs)} inputs, got {len(args)}")
    src = sub.graph
    g = args[0]._graph if args else None
    env = {Value(n, 0): a for n, a in zip(sub.inputs, args)}
    for n in src.topo_order():
        data = src.node(n)
        op = data["op"]
        if op == "output" or op in ("placeholder", "parameter"):
            continue
        if op == "constant":
            env[Value(n, 0)] = _constant(g, data)
            continue
        if data.get("opaque") or op in LEAVES:
            raise TracingError(f"replay: the subgraph holds %{n} ({op}), which cannot be staged again")
        outs = apply(REGISTRY[op], tuple([env[v] for v in src.inputs_of(n)]), data["attrs"])
        outs = outs if isinstance(outs, tuple) else (outs,)
        for i, o in enumerate(outs):
            env[Value(n, i)] = o
        if outs:
            o = outs[0]
            o._graph.ir.node(o._value.node)["loc"] = data["loc"]
    return [env[v] for v in src.outputs]


def _constant(g, data: dict) -> Tensor:
    """A constant of a subgraph, for replay: a wrapped number stays an eager wrapped number (gradient
    rules read those, as in staging), any other constant becomes a constant node of ``g``."""
    spec = data["specs"][0]
    if data["attrs"].get("wrapped"):
        t = Tensor._make(data["value"])
        t._dtype = spec.dtype  # a wrapped float keeps double precision and promotes as the default float
        t._wrapped = True
        return t
    if g is None:
        raise TracingError("replay: a subgraph without inputs has no graph to go into")
    nid = g.ir.add_constant(data["value"], spec.dtype, loc=data["loc"])
    return SymbolicTensor._new(g, Value(nid, 0), Spec(spec.shape, spec.dtype))


def _infer_specs(sub: Subgraph, in_specs, size: int) -> list:
    """The subgraph's output specs for concrete ``in_specs``, re-running each shape rule (symbolic
    stand-ins in attributes take ``size``)."""
    g = sub.graph
    specs: dict = {}
    given = dict(zip(sub.inputs, in_specs))
    for n in g.topo_order():
        data = g.node(n)
        op = data["op"]
        if op == "output":
            continue
        if op in LEAVES:
            spec = given.get(n, data["specs"][0])
            wrapped = bool(data["attrs"].get("wrapped"))
            specs[(n, 0)] = Spec(tuple(spec.shape), spec.dtype, wrapped)
            continue
        attrs = data["attrs"]
        sym = find_symbolic(attrs)
        if sym:
            attrs = substitute(attrs, sym, size)
        out = normalize_specs(REGISTRY[op].infer(*[specs[tuple(v)] for v in g.inputs_of(n)], **attrs))
        for i, spec in enumerate(out):
            specs[(n, i)] = Spec(tuple(spec.shape), spec.dtype)
    return [Spec(specs[tuple(v)].shape, specs[tuple(v)].dtype) for v in g.outputs]
