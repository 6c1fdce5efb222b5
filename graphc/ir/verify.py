"""The IR verifier: is a Graph well formed?

:func:`verify` checks that the graph is acyclic; that each node's argument
positions are 0..k-1 and k fits the op; that every op is registered (or marked
opaque); that each node's specs agree with its op's shape rule re-run on its
inputs; that leaves are well formed (named placeholders and parameters, unique
names, constants matching their spec); and that the outputs exist.  The first
problem raises :class:`VerifyError`, naming the node in text form.
"""
from __future__ import annotations

import inspect

import networkx as nx
import numpy as np

from ..ops.registry import REGISTRY, OpDef, Spec
from .graph import LEAVES, Graph, Value, constant_storage, normalize_specs
from .printer import format_node, format_spec

__all__ = ["verify", "VerifyError", "op_arity"]


class VerifyError(RuntimeError):
    """A Graph is malformed; ``node`` is the offending node's id (None for whole-graph problems)."""

    def __init__(self, message: str, node: int | None = None):
        super().__init__(message)
        self.node = node


def _fail(g: Graph, n: int | None, reason: str):
    where = ""
    if n is not None:
        try:
            where = f"\n  at: {format_node(g, n)}"
        except Exception:  # noqa: BLE001 - a node too broken to print is still named by id
            where = f"\n  at: node %{n}"
    raise VerifyError(f"verify: {reason}{where}", n)


# --------------------------------------------------------------------------- arity
_ARITY_CACHE: dict = {}


def _unwrap(fn, depth: int = 3):
    # kernels are often thin wrappers (error-state guards) around one numpy function
    for _ in range(depth):
        inner = getattr(fn, "__wrapped__", None)
        if inner is None:
            cells = getattr(fn, "__closure__", None) or ()
            called = [c.cell_contents for c in cells if callable(c.cell_contents)]
            inner = called[0] if len(called) == 1 else None
        if inner is None:
            return fn
        fn = inner
    return fn


def _positional_range(fn, attr_names: frozenset):
    """(required, allowed) positional arguments of ``fn`` once ``attr_names`` are passed by keyword;
    None when the signature does not tell (``*args`` or no signature)."""
    if isinstance(fn, np.ufunc):
        return fn.nin, fn.nin, ()
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required, optional = [], 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in attr_names:
            if p.default is p.empty:
                required.append(p.name)
            else:
                optional += 1
    return len(required), len(required) + optional, tuple(required)


def op_arity(op: OpDef, attr_names=()) -> tuple | None:
    """How many inputs ``op`` takes besides the attributes ``attr_names``, as (min, max, names of the
    required parameters), read from its shape rule's or kernel's signature (or ``op.extra['arity']``);
    None when neither tells."""
    names = frozenset(attr_names)
    key = (op, names)
    if key not in _ARITY_CACHE:
        fixed = op.extra.get("arity")
        if fixed is not None:
            res = (fixed, fixed, ()) if isinstance(fixed, int) else (*fixed, ())
        else:
            res = None
            # the shape rule first, then the kernel, then what a (*args) kernel wraps
            for fn in (op.infer, op.kernel, _unwrap(op.kernel)):
                if fn is not None:
                    res = _positional_range(fn, names)
                    if res is not None:
                        break
        _ARITY_CACHE[key] = res
    return _ARITY_CACHE[key]


# --------------------------------------------------------------------------- checks
def _check_structure(g: Graph) -> None:
    outs = [n for n, op in g.nx.nodes(data="op") if op == "output"]
    if len(outs) > 1:
        _fail(g, outs[1], f"the graph has {len(outs)} output nodes ({', '.join(f'%{n}' for n in outs)})")
    out = g.output_node
    if out is None or out not in g.nx:
        _fail(g, None, "the graph has no outputs (call Graph.set_outputs)")
    if not outs or outs[0] != out:
        _fail(g, out, "the output node is not the one the graph records")


def _topo_order(g: Graph) -> list:
    try:
        return g.topo_order()
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(g.nx)
        path = " -> ".join(f"%{u}" for u, *_ in cycle) + f" -> %{cycle[0][0]}"
        _fail(g, cycle[0][0], f"the graph has a cycle: {path}")


def _check_edges(g: Graph, n: int, nodes: dict, pred: dict) -> list:
    edges = sorted((d["arg"], u, d["out"]) for u, keyed in pred[n].items() for d in keyed.values())
    for i, (arg, src, out) in enumerate(edges):
        if arg != i:
            _fail(g, n, f"argument positions {[e[0] for e in edges]} are not 0..{len(edges) - 1}, each once")
        sdata = nodes[src]
        if sdata["op"] == "output":
            _fail(g, n, f"argument {i} reads the output node %{src}")
        if not 0 <= out < len(sdata["specs"]):
            _fail(g, n, f"argument {i} reads output {out} of %{src}, which has {len(sdata['specs'])} output(s)")
    return [Value(src, out) for _, src, out in edges]


def _check_leaf(g: Graph, n: int, data: dict, ins: list, names: dict) -> None:
    op = data["op"]
    if ins:
        _fail(g, n, f"a {op} takes no inputs, this one has {len(ins)}")
    if len(data["specs"]) != 1:
        _fail(g, n, f"a {op} has exactly one spec, this one has {len(data['specs'])}")
    if op in ("placeholder", "parameter"):
        name = data.get("name")
        if not isinstance(name, str) or not name:
            _fail(g, n, f"a {op} needs a name")
        if name in names:
            _fail(g, n, f"the name {name!r} is used by both %{names[name]} and %{n}")
        names[name] = n
    if op == "constant":
        val = data.get("value")
        spec = data["specs"][0]
        if val is None:
            return
        if not isinstance(val, np.ndarray):
            _fail(g, n, f"a constant's value must be a numpy array, got {type(val).__name__}")
        want = constant_storage(spec.dtype, bool(data["attrs"].get("wrapped")))
        if tuple(val.shape) != tuple(spec.shape) or val.dtype != want:
            _fail(g, n, f"the value ({val.dtype} of shape {tuple(val.shape)}) does not match the spec "
                        f"{format_spec(spec)}")


def _shape_agrees(inferred: tuple, have: tuple) -> bool:
    # a symbolic (None) size in the rule's answer admits any size the node records; a node may also
    # record None where its attrs hold the stand-in of a symbolic size (graphc.static.symsize)
    return len(inferred) == len(have) and all(a is None or b is None or a == b for a, b in zip(inferred, have))


def _check_op(g: Graph, n: int, data: dict, ins: list) -> None:
    op = REGISTRY.get(data["op"])
    if op is None:
        _fail(g, n, f"op {data['op']!r} is not registered (mark custom ops opaque)")
    attrs = data["attrs"]
    arity = op_arity(op, attrs)
    if arity is not None and not arity[0] <= len(ins) <= arity[1]:
        lo, hi, required = arity
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        unfilled = required[len(ins):]
        hint = (f" (nothing fills {', '.join(repr(p) for p in unfilled)}: a missing attribute?)"
                if unfilled and len(ins) else "")
        _fail(g, n, f"{op.name} takes {want} input(s) besides its attributes, this node has {len(ins)}{hint}")
    if op.infer is None:
        return
    in_specs = [g.input_spec(v) for v in ins]
    try:
        inferred = normalize_specs(op.infer(*in_specs, **attrs))
    except Exception as e:  # noqa: BLE001 - any failure of the rule is a malformed node
        _fail(g, n, f"the shape rule of {op.name} rejects the inputs "
                    f"({', '.join(format_spec(s) for s in in_specs)}): {type(e).__name__}: {e}")
    have = data["specs"]
    if len(inferred) != len(have):
        _fail(g, n, f"{op.name} has {len(inferred)} output(s), the node records {len(have)} spec(s)")
    for i, (want, got) in enumerate(zip(inferred, have)):
        if want.dtype is not got.dtype or not _shape_agrees(want.shape, got.shape):
            _fail(g, n, f"output {i}: the shape rule gives {format_spec(want)}, the node records {format_spec(got)}")


def _check_node_data(g: Graph, n: int, data: dict) -> None:
    if not isinstance(data.get("op"), str):
        _fail(g, None, f"node %{n} has no op name")
    if not isinstance(data.get("attrs"), dict):
        _fail(g, n, "attrs must be a dict")
    specs = data.get("specs")
    if type(specs) is not tuple or not all(type(s) is Spec for s in specs):
        _fail(g, n, f"specs must be a tuple of Spec, got {specs!r}")


def verify(g: Graph) -> None:
    """Raise :class:`VerifyError` (a RuntimeError) at the first problem in ``g``; return None if it is sound."""
    nodes, pred = g.nx._node, g.nx._pred
    for n, data in nodes.items():
        _check_node_data(g, n, data)
    _check_structure(g)
    names: dict = {}
    for n in _topo_order(g):
        data = nodes[n]
        ins = _check_edges(g, n, nodes, pred)
        op = data["op"]
        if op == "output":
            if data["specs"]:
                _fail(g, n, "the output node has no specs of its own")
        elif op in LEAVES:
            _check_leaf(g, n, data, ins, names)
        elif not data.get("opaque"):
            _check_op(g, n, data, ins)
        if g.nx.out_degree(n) and op == "output":
            _fail(g, n, "the output node is used by another node")
