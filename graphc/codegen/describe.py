"""A fusion group as a kernel description: what :func:`graphc.codegen.lower.emit_kernel` writes.

:func:`describe_group` turns the members of a group (elementwise/``expand`` nodes and at
most one final reduction, see :mod:`graphc.static.passes.fusion`) into a
:class:`KernelDesc`: the iteration domain, the memory operands (each with an element
offset and one stride per domain dim, 0 where it broadcasts or is reduced), and the
members as a straight-line list of :class:`Instr`.  Sizes may be
:class:`~graphc.codegen.symint.Sym` values in a dynamic plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from .. import dtypes as _dt
from ..ir.graph import Graph, Value
from ..ops.promotion import compute_dtype, spec_operands
from ..ops.registry import REGISTRY
from . import scalar
from .scalar import Unsupported

__all__ = ["Operand", "Instr", "Reduce", "KernelDesc", "BufferRef", "InlineConst", "describe_group",
           "contiguous_strides", "broadcast_strides"]


class BufferRef(NamedTuple):
    """Where a value lives: storage dtype, element offset and element strides over its own shape."""

    dtype: _dt.DType
    offset: int
    strides: tuple


class InlineConst(NamedTuple):
    """A one-element constant inlined as an immediate (``array`` holds its storage dtype)."""

    array: np.ndarray
    dtype: _dt.DType


@dataclass
class Operand:
    """One pointer argument: element dtype as stored, offset, one stride per domain dim."""

    dtype: _dt.DType
    offset: int
    strides: tuple


@dataclass
class Instr:
    """One member node: ``op`` on ``args`` (refs: ``("in", k)``, ``("tmp", j)``, ``("const", c)``)."""

    node: int
    op: str
    args: list
    attrs: dict
    out: _dt.DType
    promote: _dt.DType | None


@dataclass
class Reduce:
    """The group's final reduction: op, source ref, output operand (stride 0 on reduced dims)."""

    node: int
    op: str
    src: tuple
    out: Operand
    out_dtype: _dt.DType
    acc_dtype: _dt.DType


@dataclass
class KernelDesc:
    """Everything :func:`emit_kernel` needs; ``inputs``/``outputs`` become the function's arguments."""

    name: str
    domain: tuple
    inputs: list
    instrs: list
    outputs: list                 # [(instr index, Operand)]
    reduce: Reduce | None = None
    nodes: list = field(default_factory=list)
    counts: list = field(default_factory=list)   # trip counts, set by emit_kernel
    # extent of the outermost loop when the kernel can run on a sub-range of it (it then takes a
    # trailing ``i64 start`` and ``counts[0]`` acts as the stop); 0 when it cannot.  Set by emit_kernel.
    split: int = 0
    # whether strides or offsets depend on the symbolic size (a dynamic plan): the kernel then takes
    # a last ``i64 size`` argument.  Set by emit_kernel.
    sized: bool = False
    # how many loops each block of an innermost row runs as (1: one loop; see staged.py).  Set by
    # emit_kernel.
    stages: int = 1

    @property
    def operands(self) -> list:
        outs = [o for _, o in self.outputs]
        return self.inputs + outs + ([self.reduce.out] if self.reduce else [])


def contiguous_strides(shape: tuple) -> tuple:
    """C-order element strides of ``shape``."""
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return tuple(reversed(out))


def broadcast_strides(shape: tuple, strides: tuple, domain: tuple) -> tuple:
    """Strides over ``domain`` of a value of ``shape`` that broadcasts to it (right-aligned)."""
    r, s = len(domain), len(shape)
    out = []
    for i in range(r):
        j = i - (r - s)
        if j < 0 or shape[j] == 1:
            out.append(0)
        elif shape[j] != domain[i]:
            raise ValueError(f"shape {shape} does not broadcast to {domain}")
        else:
            out.append(strides[j])
    return tuple(out)


def _reduced_out_strides(domain: tuple, dims: tuple) -> tuple:
    out, step = [0] * len(domain), 1
    for i in range(len(domain) - 1, -1, -1):
        if i not in dims:
            out[i] = step
            step *= domain[i]
    return tuple(out)


def describe_group(g: Graph, members: list, escapes: set, source: Callable[[Value], object],
                   name: str) -> tuple:
    """The :class:`KernelDesc` of a fusion group, with its external input values and output values.

    ``escapes``: the members whose value is used outside the group (stored); ``source(v)``
    gives a :class:`BufferRef` or :class:`InlineConst` for each value the group reads from
    outside.  Returns ``(desc, input_values, output_values)``, the values in argument order.
    Raises :class:`Unsupported` when a member is not an elementwise op with a lowering.
    """
    member_set = set(members)
    last = members[-1]
    red_node = last if g.op(last) in scalar.REDUCTIONS and REGISTRY[g.op(last)].category == "reduction" else None
    if red_node is not None:
        domain = tuple(g.spec(g.inputs_of(red_node)[0]).shape)
    else:
        domain = tuple(g.specs(last)[0].shape)
    if any(d is None for d in domain):
        raise Unsupported("a symbolic size (specialize the graph first)")
    inputs, in_values, in_index = [], [], {}
    instrs, tmp_of = [], {}

    def ref(v: Value) -> tuple:
        if v.node in member_set:
            return ("tmp", tmp_of[v.node])
        hit = in_index.get(v)
        if hit is not None:
            return hit
        src = source(v)
        if isinstance(src, InlineConst):
            r = ("const", src)
        else:
            spec = g.spec(v)
            strides = broadcast_strides(tuple(spec.shape), src.strides, domain)
            inputs.append(Operand(src.dtype, src.offset, strides))
            in_values.append(v)
            r = ("in", len(inputs) - 1)
        in_index[v] = r
        return r

    reduce = None
    for n in members:
        data = g.node(n)
        op = data["op"]
        opdef = REGISTRY.get(op)
        if opdef is None or data.get("opaque") or len(data["specs"]) != 1:
            raise Unsupported(f"%{n} ({op}) is not a registry op with one output")
        ins = g.inputs_of(n)
        args = [ref(v) for v in ins]
        out_dt = data["specs"][0].dtype
        if n == red_node:
            attrs = data["attrs"]
            dims = tuple(attrs["dim"])
            if op in ("amax", "amin") and any(domain[d] == 0 for d in dims):
                raise Unsupported(f"{op} over an empty dim (the kernel raises)")
            acc = _dt.bool if op in ("all", "any") else out_dt
            reduce = Reduce(n, op, args[0], Operand(out_dt, 0, _reduced_out_strides(domain, dims)), out_dt, acc)
            continue
        if opdef.category != "elementwise" and op not in ("expand", "clone"):
            raise Unsupported(f"%{n} ({op}) is not elementwise")
        promote = None
        if opdef.promote is not None:
            promote = compute_dtype(opdef, spec_operands([g.input_spec(v) for v in ins]))
        tmp_of[n] = len(instrs)
        instrs.append(Instr(n, op, args, dict(data["attrs"]), out_dt, promote))
    outputs, out_values = [], []
    for j, ins in enumerate(instrs):
        if ins.node in escapes:
            outputs.append((j, Operand(ins.out, 0, contiguous_strides(domain))))
            out_values.append(Value(ins.node, 0))
    if reduce is not None:
        out_values.append(Value(reduce.node, 0))
    desc = KernelDesc(name, domain, inputs, instrs, outputs, reduce, list(members))
    return desc, in_values, out_values
