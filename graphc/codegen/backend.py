"""The native backend: a graph with static shapes as one LLVM module plus a hybrid run plan.

:class:`NativePlan` prepares an optimized graph (fusion groups assigned by the default
pipeline, :mod:`graphc.static.passes.fusion`) once:

* every fusion group whose members all have a scalar lowering becomes one kernel
  (:mod:`.lower`); consecutive kernels form a *segment*, one driver function that calls
  them in order on preplanned buffers (:mod:`.module`);
* ``reshape``/``view`` of a contiguous value, ``permute``, ``expand``, ``basic_index``
  (slices with a positive step, int selects, new axes) and ``flip`` (negative strides) cost
  nothing:
  the result is the same buffer read with other strides (an *alias*);
* a float32/float64 ``matmul`` is a cblas ``?gemm`` call inside the segment (:mod:`.blas`,
  numpy's own OpenBLAS found at run time), so the kernel that follows (bias, activation)
  runs right after it with no Python between; integer, empty or oddly strided matmuls, or
  no BLAS found, fall back to ``np.matmul`` into the planned buffer;
* a large kernel whose outer loop walks outputs only runs its rows on several threads
  (:mod:`.threads`), bit-identical to one thread;
* ``cat`` is one copy kernel per input, each writing its block of the output buffer;
* **this version is a hybrid**: every other node (other copying movement, index
  ops, sort, linalg, scans, opaque and control-flow ops, and groups with an op or dtype the
  scalar table refuses, e.g. integer division or float16) runs its numpy kernel from
  Python between two native segments.  Lowering those (copies,
  gathers) so that a whole graph is one native call is the next increment.

Running a plan (per-size state, feeds, outputs, the steps) is :mod:`.runtime`'s half of the class.

Memory: intermediates of native kernels live in one arena allocated once per plan and kept
between calls; a buffer is reused by a later kernel once its last reader has run (buffers
a numpy step reads are never reused, since numpy results may be views of them).  Graph
outputs are fresh arrays each call, taken from a small pool per output that hands an array
out again only once nothing else references it.  Feeds are checked (shape, dtype) before
native code runs, and non-contiguous or misaligned feeds are copied first.

Sizes: a plan's graph has concrete shapes.  A *dynamic* plan (``sizes=``) takes a graph
specialized at the stand-in size and holds every size that stands for ``a * S + b`` as a
:class:`~graphc.codegen.symint.Sym`: the native code computes strides, offsets and counts
from S, and the run-time state (arena layout, pointer table, thread ranges, feed and output
shapes) is made per S (``_make_state``), so one module serves every ``S >= min_size``.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from .. import dtypes as _dt
from ..ir.graph import STRUCTURAL, Graph, Value
from ..ops.promotion import compute_dtype, spec_operands
from ..ops.registry import REGISTRY
from .blas import GemmCall, plan_gemm, split_rows
from .describe import (BufferRef, InlineConst, Instr, KernelDesc, Operand, broadcast_strides, contiguous_strides,
                       describe_group)
from .module import KernelInfo, NativeModule
from .threads import PARALLEL_MIN_ELEMENTS, chunk_bounds, thread_count
from .scalar import REDUCTIONS, SUPPORTED_DTYPES, Unsupported
from .runtime import ARENA_ALIGN, PlanRuntime
from .symint import NonAffine, from_example, is_sym, prod

__all__ = ["NativePlan", "ALIAS_OPS"]

ALIAS_OPS = frozenset(("reshape", "view", "permute", "expand", "basic_index", "flip"))
class _Buffer:
    """A memory region: ``kind`` feed, const, arena, out (fresh per call) or dyn (a numpy result).
    ``shape`` and ``nbytes`` may depend on the symbolic size (symint.Sym) in a dynamic plan."""

    __slots__ = ("id", "kind", "dtype", "shape", "nbytes", "slot", "pinned", "first", "last",
                 "array", "root", "native_use", "numpy_written")

    def __init__(self, bid: int, kind: str, dtype: _dt.DType, shape: tuple, root: Value):
        self.id, self.kind, self.dtype, self.shape, self.root = bid, kind, dtype, shape, root
        self.nbytes = prod(shape) * dtype.itemsize
        self.slot = None
        self.pinned = False
        self.first = self.last = -1
        self.array = None      # a constant's value
        self.native_use = False
        self.numpy_written = False


class _NumpyStep:
    __slots__ = ("node", "op", "ins", "outs", "attrs", "cast", "native_outs", "control", "into")

    def __init__(self, node, op, ins, outs, attrs, cast, into=None):
        self.node, self.op, self.ins, self.outs, self.attrs, self.cast = node, op, ins, outs, attrs, cast
        self.native_outs = ()   # (out index, slot, spec) of outputs a kernel reads
        # a numpy function writing its one result into the planned buffer (np.matmul(a, b, out=...))
        self.into = into
        # control flow (cond, while_loop): the kernel runs subgraphs and takes the symbolic size
        self.control = bool(op.extra.get("subgraphs"))


def _storage_dtype(g: Graph, v: Value) -> _dt.DType:
    """The dtype a value's array holds (a wrapped float leaf keeps float64, like eager's numbers)."""
    data = g.node(v.node)
    if data["op"] == "constant" and data.get("value") is not None:
        return _dt.from_numpy_dtype(data["value"].dtype)
    spec = data["specs"][v.out]
    if data["op"] == "placeholder" and data["attrs"].get("wrapped") and spec.dtype.is_floating_point:
        return _dt.float64
    return spec.dtype


def _is_contiguous(shape: tuple, strides: tuple) -> bool:
    return all(s == c for d, s, c in zip(shape, strides, contiguous_strides(shape)) if d != 1)


def _groups(g: Graph) -> list:
    """The fusion groups the pipeline recorded (node data ``group``), in group order, members in
    topological order.  A graph that was not fused (``optimize=False``) runs one node per kernel."""
    order = g.topo_order()
    ops = [n for n in order if g.op(n) not in STRUCTURAL]
    keys = [g.node(n).get("group") for n in ops]
    if any(k is None for k in keys):
        return [[n] for n in ops]
    by: dict = {}
    for n, k in zip(ops, keys):
        by.setdefault(k, []).append(n)
    return [by[k] for k in sorted(by)]


class NativePlan(PlanRuntime):
    """A static-shape graph compiled to native kernels plus numpy steps (see the module docstring).

    ``plan.run({leaf node: array}) -> [output arrays]`` (fresh arrays, never aliasing a feed).
    ``on_error(node, arrays, attrs, exc)`` turns a numpy step's error into the exception to raise.
    """

    def __init__(self, g: Graph, fastmath: bool = False, opt_level: int = 3,
                 on_error: Callable | None = None, sizes=None) -> None:
        for n in g.placeholders():
            if None in g.specs(n)[0].shape:
                raise ValueError("NativePlan needs concrete shapes: specialize the graph first (for a dynamic "
                                 "plan, at the stand-in size, and pass sizes=)")
        # a dynamic plan: ``g`` is specialized at the stand-in size; ``sizes`` tells which numbers
        # stand for a * S + b (see DynamicSizes) and every such size becomes a Sym
        self.dynamic = sizes is not None
        self._sizes = sizes
        if self.dynamic:
            g = _with_sym_shapes(g, sizes.recognize)
        self._sym_dims = [(n, d, s) for n in g.placeholders() for d, s in enumerate(g.specs(n)[0].shape)
                          if is_sym(s)]
        # the smallest S at which every symbolic size is >= 1: the kernels' loops run at least once
        # there (smaller sizes, e.g. an empty batch, need a plan of their own)
        self.min_size = _min_size(g) if self.dynamic else 0
        self.graph = g
        self.fastmath = bool(fastmath)
        self.opt_level = opt_level
        self._on_error = on_error
        self._buffers: list = []
        self._buf_of: dict = {}      # Value -> _Buffer
        self._layout: dict = {}      # Value -> (offset, strides) in elements
        self._alias: dict = {}       # Value -> (opdef, attrs, source Value), for numpy materialization
        self.gemms: list = []        # GemmCall per matmul run as a BLAS call from native code
        self._module = NativeModule(f"graphc_{g.graph_hash()[:12]}")
        # one call at a time: the pointer table and the arena belong to the plan (the native code
        # runs without the GIL, so two threads would otherwise share them)
        self._lock = threading.Lock()
        self._build(g)

    # ================================================================== planning
    def _new_buffer(self, kind: str, v: Value, dtype: _dt.DType, shape: tuple) -> _Buffer:
        b = _Buffer(len(self._buffers), kind, dtype, shape, v)
        self._buffers.append(b)
        self._buf_of[v] = b
        self._layout[v] = (0, contiguous_strides(shape))
        return b

    def _build(self, g: Graph) -> None:
        order = g.topo_order()
        outputs = g.outputs
        out_set = set(outputs)
        self._feeds = []
        for n in order:
            op = g.op(n)
            v = Value(n, 0)
            if op in ("placeholder", "parameter"):
                spec = g.specs(n)[0]
                b = self._new_buffer("feed", v, _storage_dtype(g, v), tuple(spec.shape))
                self._feeds.append((n, b))
            elif op == "constant":
                val = g.value(n)
                if val is None:
                    raise ValueError(f"constant %{n} has no value (it was elided in the text form): it cannot run")
                b = self._new_buffer("const", v, _storage_dtype(g, v), tuple(val.shape))
                b.array = val if val.flags.c_contiguous else np.array(val, order="C")  # keeps 0-d arrays 0-d
        steps: list = []        # ("native", KernelInfo, values) | ("numpy", _NumpyStep)
        for gi, members in enumerate(_groups(g)):
            if len(members) == 1 and self._try_alias(g, members[0]):
                continue
            gemm = self._try_gemm(g, members[0], gi) if len(members) == 1 else None
            if gemm is None and len(members) == 1:
                gemm = self._try_cat(g, members[0], gi)
            if gemm is not None:
                steps.extend(("native", obj, values) for obj, values in gemm)
                continue
            res = self._try_kernel(g, members, out_set, f"graphc_k{gi}") if self._lowerable(g, members) else None
            if res is not None:
                info, values, out_values = res
                for v in out_values:
                    spec = g.spec(v)
                    self._new_buffer("tmp", v, spec.dtype, tuple(spec.shape))
                steps.append(("native", info, values))
                continue
            for m in members:
                steps.append(("numpy", self._numpy_step(g, m)))
        self._finish(g, steps, outputs)

    def _lowerable(self, g: Graph, members: list) -> bool:
        """A cheap first check (the emitter has the last word): known ops on supported dtypes."""
        from .scalar import LOWER

        for m in members:
            data = g.node(m)
            if data.get("opaque") or len(data["specs"]) != 1:
                return False
            op = data["op"]
            if op not in LOWER and op not in REDUCTIONS:
                return False
            if data["specs"][0].dtype not in SUPPORTED_DTYPES:
                return False
            if any(g.spec(v).dtype not in SUPPORTED_DTYPES for v in g.inputs_of(m)):
                return False
        return True

    def _try_alias(self, g: Graph, n: int) -> bool:
        """A view op that only changes how its input's buffer is read: no step, a new layout."""
        try:
            return self._alias_layout(g, n)
        except NonAffine:      # strides a dynamic plan cannot compute from S: a numpy step instead
            return False

    def _alias_layout(self, g: Graph, n: int) -> bool:
        data = g.node(n)
        op = data["op"]
        if op not in ALIAS_OPS or data.get("opaque"):
            return False
        (src,) = g.inputs_of(n)
        b = self._buf_of.get(src)
        if b is None:
            return False
        in_shape = tuple(g.spec(src).shape)
        out_shape = tuple(data["specs"][0].shape)
        off, strides = self._layout[src]
        attrs = data["attrs"]
        if op in ("reshape", "view"):
            if not _is_contiguous(in_shape, strides):
                return False
            new = contiguous_strides(out_shape)
        elif op == "permute":
            new = tuple(strides[d] for d in attrs["dims"])
        elif op == "basic_index":   # ints select, (start, stop, step>0) slice, None adds a dim
            new, d = [], 0
            for e in attrs["index"]:   # in range: a graph specialized to a size normalized them
                if e is None:
                    new.append(0)
                    continue
                first = e[0] if type(e) is tuple else e
                off = off + self._size_value(first) * strides[d]
                if type(e) is tuple:
                    new.append(strides[d] * e[2])
                d += 1
            new = tuple(new) + tuple(strides[d:])
        elif op == "flip":      # negative strides from the last element of each flipped dim
            new = list(strides)
            for d in attrs["dims"]:
                off = off + (in_shape[d] - 1) * strides[d] if in_shape[d] else off
                new[d] = -strides[d]
            new = tuple(new)
        else:  # expand: right-aligned broadcast, stride 0 where the size grows
            r, s = len(out_shape), len(in_shape)
            new = tuple(0 if i < r - s or (in_shape[i - (r - s)] == 1 and out_shape[i] != 1)
                        else strides[i - (r - s)] for i in range(r))
        v = Value(n, 0)
        self._buf_of[v] = b
        self._layout[v] = (off, new)
        self._alias[v] = (REGISTRY[op], attrs, src)
        return True

    def _size_value(self, v: int):
        """An index from op attributes: in a dynamic plan a stand-in value (``x[-1]`` is row S-1)
        becomes its Sym."""
        return from_example(v, self._sizes.recognize) if self.dynamic else v

    def _try_gemm(self, g: Graph, n: int, gi: int):
        """A float matmul as a cblas call inside a segment (blas.py): ``[(GemmCall, [a, b, out])]``,
        after a copy kernel for an operand whose strides cblas cannot take (a strided slice), or None."""
        data = g.node(n)
        if data["op"] != "matmul" or data.get("opaque") or len(data["specs"]) != 1:
            return None
        spec = data["specs"][0]
        ins = list(g.inputs_of(n))
        bufs = [self._buf_of.get(v) for v in ins]
        if any(b is None or b.dtype is not spec.dtype or g.spec(v).dtype is not spec.dtype
               for b, v in zip(bufs, ins)):
            return None
        steps = []

        shapes = [tuple(g.spec(v).shape) for v in ins]

        def plan():
            try:
                return plan_gemm(n, spec.dtype, shapes[0], self._layout[ins[0]], shapes[1], self._layout[ins[1]],
                                 tuple(spec.shape))
            except NonAffine:
                return None

        call = plan()
        if call is None:
            for k, v in enumerate(list(ins)):
                shape = shapes[k]
                if not _is_contiguous(shape, self._layout[v][1]):
                    copied = self._copy_kernel(g, v, shape, f"graphc_k{gi}c{k}")
                    if copied is None:
                        return None
                    steps.append(copied)
                    ins[k] = copied[1][1]
            call = plan() if steps else None
            if call is None:
                return None
        out = Value(n, 0)
        self._new_buffer("tmp", out, spec.dtype, tuple(spec.shape))
        self.gemms.append(call)
        return steps + [(call, [ins[0], ins[1], out])]

    def _try_cat(self, g: Graph, n: int, gi: int):
        """``cat`` as one copy kernel per input, each writing its block of the output buffer
        (the input cast to the result dtype): ``[(KernelInfo, [input, out])...]`` or None."""
        data = g.node(n)
        if data["op"] != "cat" or data.get("opaque") or len(data["specs"]) != 1:
            return None
        spec = data["specs"][0]
        if spec.dtype not in SUPPORTED_DTYPES:
            return None
        out = Value(n, 0)
        shape = tuple(spec.shape)
        dim = data["attrs"]["dim"] % len(shape)
        out_strides = contiguous_strides(shape)
        steps, start = [], 0
        try:
            for k, v in enumerate(g.inputs_of(n)):
                in_shape = tuple(g.spec(v).shape)
                if self._buf_of.get(v) is None or g.spec(v).dtype not in SUPPORTED_DTYPES:
                    return None
                if in_shape[dim] != 0 and all(d != 0 for d in in_shape):
                    desc, reads = self._clone_desc(g, v, n, f"graphc_k{gi}c{k}",
                                                   Operand(spec.dtype, start * out_strides[dim], out_strides))
                    steps.append((desc, reads + [out]))
                start = start + in_shape[dim]
        except NonAffine:
            return None
        infos = []
        for desc, values in steps:
            info = self._module.add_kernel(desc)
            if info is None:
                for done, _ in infos:
                    self._module.remove_kernel(done)
                return None
            infos.append((info, values))
        self._new_buffer("tmp", out, spec.dtype, shape)
        return infos

    def _clone_desc(self, g: Graph, v: Value, node: int, name: str, out: Operand) -> tuple:
        """``(KernelDesc, values it reads)`` of a kernel copying value ``v`` into the region ``out``
        (its offset, strides and dtype: the copy casts); a one-element constant is an immediate."""
        shape = tuple(g.spec(v).shape)
        src = self._source(g, v)
        if isinstance(src, BufferRef):
            inputs, arg, reads = [Operand(src.dtype, src.offset, broadcast_strides(shape, src.strides, shape))], \
                ("in", 0), [v]
        else:
            inputs, arg, reads = [], ("const", src), []
        desc = KernelDesc(name, shape, inputs, [Instr(node, "clone", [arg], {}, g.spec(v).dtype, None)],
                          [(0, out)], None, [node])
        return desc, reads

    def _copy_kernel(self, g: Graph, v: Value, shape: tuple, name: str):
        """A kernel copying value ``v`` (a strided view) into a new contiguous buffer:
        ``(KernelInfo, [v, copy key])``; the copy's buffer is keyed ``("copy", v)``."""
        spec = g.spec(v)
        try:
            desc, reads = self._clone_desc(g, v, v.node, name, Operand(spec.dtype, 0, contiguous_strides(shape)))
        except NonAffine:
            return None
        info = self._module.add_kernel(desc)
        if info is None:
            return None
        key = ("copy", v)
        self._new_buffer("tmp", key, spec.dtype, shape)
        return info, reads + [key]

    def _source(self, g: Graph, v: Value):
        data = g.node(v.node)
        if data["op"] == "constant" and data["value"].size == 1:
            return InlineConst(data["value"].reshape(()), _storage_dtype(g, v))
        b = self._buf_of[v]
        off, strides = self._layout[v]
        return BufferRef(b.dtype, off, strides)

    def _try_kernel(self, g: Graph, members: list, out_set: set, name: str):
        mset = set(members)
        escapes = {m for m in members
                   if Value(m, 0) in out_set or any(u not in mset for u in g.users_of(m))}
        try:
            desc, in_values, out_values = describe_group(g, members, escapes, lambda v: self._source(g, v), name)
        except (Unsupported, NonAffine):
            return None
        info = self._module.add_kernel(desc)
        if info is None:
            return None
        return info, in_values + out_values, out_values

    def _numpy_step(self, g: Graph, n: int) -> _NumpyStep:
        data = g.node(n)
        opdef = REGISTRY.get(data["op"])
        if opdef is None or data.get("opaque"):
            raise RuntimeError(f"the native backend cannot run %{n} ({data['op']}): it is not a registry op")
        ins = g.inputs_of(n)
        cast = None
        if opdef.promote is not None:
            cast = compute_dtype(opdef, spec_operands([g.input_spec(v) for v in ins])).np
        outs = [Value(n, i) for i in range(len(data["specs"]))]
        into = _planned_numpy_fn(g, n)
        for v in outs:
            spec = g.spec(v)
            b = self._new_buffer("tmp" if into else "dyn", v, spec.dtype, tuple(spec.shape))
            b.numpy_written = into is not None
        return _NumpyStep(n, opdef, ins, outs, data["attrs"], cast, into)

    # ------------------------------------------------------------------ buffers, arena, segments
    def _finish(self, g: Graph, steps: list, outputs: list) -> None:
        # which step reads each buffer last; buffers numpy reads are pinned (never reused)
        for i, (kind, obj, *rest) in enumerate(steps):
            if kind == "native":
                for v in rest[0]:
                    b = self._buf_of[v]
                    b.native_use = True
                    if b.first < 0:
                        b.first = i  # the kernel's own outputs are first defined here
                    b.last = max(b.last, i)
            else:
                for v in obj.ins:
                    b = self._buf_of[v]
                    b.pinned = True
                    b.last = max(b.last, i)
                if obj.into is not None:
                    b = self._buf_of[obj.outs[0]]
                    b.first = i
                    b.last = max(b.last, i)
        for v in outputs:
            b = self._buf_of[v]
            if b.kind == "tmp":
                b.kind = "out"
        self._outputs = list(outputs)
        self._fresh = [self._buf_of[v].kind == "out" for v in outputs]
        for b in self._buffers:
            if b.kind == "tmp":
                b.kind = "arena"
        self._nsteps = len(steps)
        # table slots: every buffer a kernel reads or writes
        nslots = 0
        for b in self._buffers:
            if b.native_use:
                b.slot = nslots
                nslots += 1
        for call in self.gemms:   # each BLAS call reads its function's address from the table
            call.fn_slot = nslots
            nslots += 1
        self._size_slot = None
        if self.dynamic:          # the size S, read by drivers that compute sizes from it
            self._size_slot = nslots
            nslots += 1
        self._nslots = nslots
        # segments: runs of consecutive native steps; a large splittable kernel runs alone, its
        # outer loop cut across threads (threads.py)
        run_steps: list = []
        calls: list = []
        threads = self._threads = thread_count()

        def flush():
            if calls:
                name = f"graphc_segment{len(self._module.segments)}"
                self._module.add_segment(name, list(calls), self._size_slot)
                run_steps.append(("native", name))
                calls.clear()

        for kind, obj, *rest in steps:
            if kind == "native":
                slots = [self._buf_of[v].slot for v in rest[0]]
                split = None      # (outer extent, domain elements) of a kernel that may run on threads
                if isinstance(obj, KernelInfo) and obj.split:
                    split = (obj.split, prod(obj.domain))
                elif isinstance(obj, GemmCall) and split_rows(obj, threads):
                    split = (obj.m, PARALLEL_MIN_ELEMENTS)
                ranges = 0 if split is None else (threads if self.dynamic and any(map(is_sym, split))
                                                  else len(chunk_bounds(*split, threads)))
                if ranges > 1:
                    flush()
                    name = f"graphc_chunks{len(self._module.segments)}"
                    self._module.add_chunk_driver(name, obj, slots, self._size_slot)
                    obj.threads = ranges
                    run_steps.append(("threaded", (name, split)))
                else:
                    calls.append((obj, slots))
            else:
                flush()
                obj.native_outs = tuple((k, self._buf_of[v].slot, g.spec(v)) for k, v in enumerate(obj.outs)
                                        if self._buf_of[v].native_use)
                run_steps.append(("numpy", obj))
        flush()
        self.kernels = self._module.kernels
        self.compiled = self._module.compile(fastmath=self.fastmath, opt_level=self.opt_level) \
            if self._module.segments else None
        self._run_steps = run_steps
        self._link()

    def _link(self) -> None:
        """The run-time state of a planned (or loaded) plan: callables, and for static shapes the
        one size state (arena, pointer table); a dynamic plan makes one per size it meets."""
        self._fns = {}
        for k, o in self._run_steps:
            if k == "native":
                self._fns[o] = NativeModule.segment_function(self.compiled, o)
            elif k == "threaded":
                self._fns[o[0]] = NativeModule.chunk_function(self.compiled, o[0])
        self._states: OrderedDict = OrderedDict()
        self._static_state = None if self.dynamic else self._make_state(None)
        if self._static_state is not None:
            self.arena_bytes = self._static_state.arena.nbytes - ARENA_ALIGN

    # ================================================================== pickling (the plan cache)
    # what a loaded plan rebuilds (_link) rather than reads from the pickle
    _RUNTIME = ("_module", "compiled", "_lock", "_on_error", "_fns", "_states", "_static_state")

    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in self._RUNTIME}
        state["_object_code"] = self.compiled.object_code if self.compiled is not None else None
        state["_source_text"] = self.compiled.source if self.compiled is not None else ""
        return state

    def __setstate__(self, state: dict) -> None:
        from . import jit

        code, source = state.pop("_object_code"), state.pop("_source_text")
        self.__dict__.update(state)
        self._module = None
        self._on_error = None
        self._lock = threading.Lock()
        self.compiled = None if code is None else jit.load_object(code, jit.compile_flags(self.opt_level,
                                                                                          self.fastmath), source)
        self._link()

    # ================================================================== inspection
    def llvm_ir(self) -> str:
        """The optimized LLVM IR of the whole module ('' when no kernel was generated)."""
        return self.compiled.llvm_ir() if self.compiled is not None else ""

    def asm(self) -> str:
        """The host assembly of the module."""
        return self.compiled.asm() if self.compiled is not None else ""

    def source_ir(self) -> str:
        """The unoptimized LLVM IR text the module was built from ('' when no kernel was generated)."""
        return self.compiled.source if self.compiled is not None else ""

    @property
    def numpy_nodes(self) -> list:
        """The nodes that still run their numpy kernels (the hybrid part of the plan)."""
        return [o.node for k, o in self._run_steps if k == "numpy"]

    @property
    def threaded_kernels(self) -> list:
        """The names of the kernels that run on several threads."""
        return [k.name for k in self.kernels if k.threads > 1]


def _planned_numpy_fn(g: Graph, n: int):
    """A numpy function with ``out=`` computing node ``n`` exactly as its kernel does, when there is
    one: matmul of two float matrices (stacks) of one dtype is ``np.matmul`` (BLAS) into a planned
    buffer, which spares an allocation (and its page faults) per call."""
    if g.op(n) != "matmul":
        return None
    a, b = (g.spec(v) for v in g.inputs_of(n))
    if a.dtype is b.dtype and a.dtype in (_dt.float32, _dt.float64) and len(a.shape) >= 2 and len(b.shape) >= 2:
        return np.matmul
    return None


def _min_size(g: Graph) -> int:
    low = 1
    for n in g.nodes():
        for spec in g.node(n).get("specs") or ():
            for d in spec.shape:
                if is_sym(d):
                    if d.a < 1:
                        raise NonAffine(f"a size {d} that shrinks as S grows")
                    low = max(low, -(-(1 - d.b) // d.a))
    return low


def _with_sym_shapes(g: Graph, recognize: Callable) -> Graph:
    """A copy of ``g`` whose spec shapes hold a Sym wherever ``recognize`` sees a symbolic size."""
    h = g.copy()
    for n in h.nodes():
        data = h.node(n)
        if data.get("specs"):
            data["specs"] = tuple(s._replace(shape=tuple(from_example(d, recognize) for d in s.shape))
                                  for s in data["specs"])
    return h
