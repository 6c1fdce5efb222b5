"""One LLVM module per compiled graph: every kernel plus the drivers that call them in order.

    >>> nm = NativeModule("graph")
    >>> k = nm.add_kernel(desc)              # None when a member has no lowering (scalar.Unsupported)
    >>> nm.add_segment("seg0", [(k, [3, 0, 1])])
    >>> compiled = nm.compile(fastmath=False)
    >>> seg = nm.segment_function(compiled, "seg0")   # ctypes: seg(table_address)

A *segment* is ``void seg(i8** table)``: it loads each kernel's pointer arguments from
fixed slots of a pointer table (filled by the backend: arena slots once, feeds and outputs
per call) and calls the kernels in order, so no Python runs between them.  Kernels are
``noinline`` (the module stays small and each kernel keeps its own ``noalias`` arguments);
the module goes through :func:`graphc.codegen.cache.cached_compile` (memory and disk cache).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from llvmlite import ir

from . import cache, jit
from .blas import GemmCall, emit_gemm
from .describe import KernelDesc
from .lower import emit_kernel
from .scalar import Unsupported, mem_type
from .symint import NonAffine, emit_int

__all__ = ["NativeModule", "KernelInfo"]

_I8P = ir.IntType(8).as_pointer()
_I64 = ir.IntType(64)


@dataclass
class KernelInfo:
    """What ``Executable.kernels`` lists: the function, its nodes and ops, domain and flags."""

    name: str
    nodes: list
    ops: list
    domain: tuple
    reduction: str | None
    flags: dict = field(default_factory=dict)
    split: int = 0       # outermost loop extent it can be cut along (0: cannot), see lower.emit_kernel
    threads: int = 1     # how many threads the plan runs it on (set by the backend)
    stages: int = 1      # loops per block of a row (>1: a long element function cut, see staged.py)

    def __repr__(self) -> str:
        nodes = ", ".join(f"%{n} {op}" for n, op in zip(self.nodes, self.ops))
        how = f" in {self.stages} stages" if self.stages > 1 else ""
        return f"<kernel {self.name} over {list(self.domain)}{how}: {nodes}>"


class NativeModule:
    """Builds the module: :meth:`add_kernel`, :meth:`add_segment`, then :meth:`compile`."""

    def __init__(self, name: str = "graphc_graph"):
        self.ir = ir.Module(name=name)
        self.kernels: list = []
        self._descs: dict = {}
        self.segments: list = []

    def add_kernel(self, desc: KernelDesc) -> KernelInfo | None:
        """Emit ``desc`` as a kernel function; None (module unchanged) if some member has no lowering."""
        try:
            emit_kernel(self.ir, desc)
        except (Unsupported, NonAffine):   # NonAffine: a size a dynamic plan cannot compute from S
            # drop the half-built function; helpers it declared are harmless (unused ones are removed)
            self.ir.globals.pop(desc.name, None)
            return None
        ops = [i.op for i in desc.instrs] + ([desc.reduce.op] if desc.reduce else [])
        nodes = [i.node for i in desc.instrs] + ([desc.reduce.node] if desc.reduce else [])
        info = KernelInfo(desc.name, nodes, ops, desc.domain, desc.reduce.op if desc.reduce else None,
                          split=desc.split, stages=desc.stages)
        self.kernels.append(info)
        self._descs[desc.name] = desc
        return info

    def remove_kernel(self, info: KernelInfo) -> None:
        """Take back a kernel no driver calls yet (a plan that gave up on the step it was for)."""
        self.kernels.remove(info)
        del self._descs[info.name]
        self.ir.globals.pop(info.name, None)

    def add_segment(self, name: str, calls: list, size_slot: int | None = None) -> None:
        """A driver ``void name(i8** table)`` calling each ``(kernel, slots)`` in order; ``slots[k]``
        is the table index of the kernel's k-th pointer argument.  In a dynamic plan ``size_slot``
        is the table slot holding the size S, from which the driver computes sizes (symint)."""
        fn = ir.Function(self.ir, ir.FunctionType(ir.VoidType(), [_I8P.as_pointer()]), name=name)
        fn.attributes.add("nounwind")
        table = fn.args[0]
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        size = _load_size(b, table, size_slot)
        for kernel, slots in calls:
            if isinstance(kernel, GemmCall):   # a BLAS call (blas.py): the function comes from the table
                emit_gemm(b, table, kernel, slots, size=size)
                continue
            desc = self._descs[kernel.name]
            counts = [emit_int(b, n, size) for n in desc.counts]
            self._call_kernel(b, table, kernel, slots, counts, ir.Constant(_I64, 0) if desc.split else None, size)
        b.ret_void()
        self.segments.append(name)

    def add_chunk_driver(self, name: str, kernel, slots: list, size_slot: int | None = None) -> None:
        """A driver ``void name(i8** table, i64 start, i64 stop)`` running ``kernel`` (a KernelInfo with
        ``split``, or an unbatched GemmCall) on outer rows [start, stop) only; disjoint ranges may run
        concurrently."""
        fn = ir.Function(self.ir, ir.FunctionType(ir.VoidType(), [_I8P.as_pointer(), _I64, _I64]), name=name)
        fn.attributes.add("nounwind")
        table, start, stop = fn.args
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        size = _load_size(b, table, size_slot)
        if isinstance(kernel, GemmCall):
            emit_gemm(b, table, kernel, slots, rows=(start, stop), size=size)
            b.ret_void()
            self.segments.append(name)
            return
        desc = self._descs[kernel.name]
        counts = [stop] + [emit_int(b, n, size) for n in desc.counts[1:]]
        self._call_kernel(b, table, kernel, slots, counts, start, size)
        b.ret_void()
        self.segments.append(name)

    def _call_kernel(self, b: ir.IRBuilder, table, kernel: KernelInfo, slots: list, counts: list, start,
                     size) -> None:
        desc = self._descs[kernel.name]
        args = []
        for slot, operand in zip(slots, desc.operands):
            raw = b.load(b.gep(table, [ir.Constant(_I64, slot)], inbounds=True))
            args.append(b.bitcast(raw, mem_type(operand.dtype).as_pointer()))
        args.extend(counts)
        if start is not None:
            args.append(start)
        if desc.sized:          # the kernel computes strides and offsets from S
            args.append(size)
        b.call(self.ir.globals[kernel.name], args)

    def text(self) -> str:
        """The unoptimized module text (what the cache keys on)."""
        return str(self.ir)

    def compile(self, fastmath: bool = False, opt_level: int = 3) -> jit.CompiledModule:
        """Optimize and JIT the module (answered from the compile cache when possible)."""
        cm = cache.cached_compile(self.text(), opt_level=opt_level, fastmath=fastmath)
        flags = {"opt_level": opt_level, "fastmath": bool(fastmath), "cpu": cm.flags.target.cpu,
                 "features": cm.flags.target.features}
        for k in self.kernels:
            k.flags = dict(flags)
        return cm

    @staticmethod
    def segment_function(cm: jit.CompiledModule, name: str):
        """The ctypes callable of segment ``name``: ``f(table_address)``."""
        return cm.get_function(name, None, [ctypes.c_void_p])

    @staticmethod
    def chunk_function(cm: jit.CompiledModule, name: str):
        """The ctypes callable of chunk driver ``name``: ``f(table_address, start, stop)``."""
        return cm.get_function(name, None, [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64])


def _load_size(b: ir.IRBuilder, table, slot: int | None):
    """The size S a dynamic plan keeps in table ``slot`` (None for a static plan)."""
    if slot is None:
        return None
    raw = b.load(b.gep(table, [ir.Constant(_I64, slot)], inbounds=True))
    return b.ptrtoint(raw, _I64)
