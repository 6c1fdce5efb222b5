"""Running a native plan: the state per size, and one call from feeds to fresh outputs.

:class:`PlanRuntime` is the half of :class:`~graphc.codegen.backend.NativePlan` that runs;
the planning half (buffers, aliases, kernels, segments, the compiled module) is in
:mod:`.backend`.  A call:

* finds the state for its size (``_state``): a static plan has one; a dynamic plan makes one
  per symbolic size S it meets (``_make_state``: arena layout at S, pointer table with the
  arena, constants, BLAS entry points and S itself, thread ranges, feed and output shapes);
* checks the feeds (shape, dtype) and copies any that are not contiguous and aligned;
* allocates the outputs (from a pool per output that hands an array out again only once
  nothing else references it) and writes every address into the pointer table;
* runs the steps: native segments (one ctypes call each, no GIL), threaded chunk drivers,
  and the numpy steps of the hybrid part, whose results native code then reads;
* returns fresh arrays that never alias a feed, a constant or the arena.

The plan attributes it reads are set by ``NativePlan``: ``graph``, ``_buffers``, ``_feeds``,
``_outputs``, ``_fresh``, ``_alias``, ``_run_steps``, ``_fns``, ``_nsteps``, ``_nslots``,
``gemms``, ``_size_slot``, ``_threads``, ``_sizes``, ``_sym_dims``, ``min_size``,
``_states``, ``_static_state``, ``_on_error`` and ``_lock``.
"""
from __future__ import annotations

import ctypes
import sys
from typing import Callable

import numpy as np

from ..ir.graph import Value
from .blas import gemm_address
from .symint import at
from .threads import chunk_bounds, run_chunks

__all__ = ["PlanRuntime", "ARENA_ALIGN"]

ARENA_ALIGN = 64
_POOL_PER_OUTPUT = 2
_STATES_KEPT = 8               # sizes a dynamic plan keeps arenas and tables for
_KERNEL_ERRORS = (IndexError, RuntimeError, TypeError, ValueError, ZeroDivisionError, NotImplementedError,
                  np.linalg.LinAlgError)


class _SizeState:
    """What calls at one size use (see NativePlan._make_state)."""

    __slots__ = ("size", "arena", "table", "table_addr", "steps", "persistent", "feed_plan", "out_plan",
                 "simple", "simple_feeds", "simple_outs", "segment", "attrs")


def _arena_layout(buffers: list, nsteps: int, size: int | None) -> tuple:
    """``({buffer id: offset}, total bytes)``: the arena buffers at ``size``, first fit in step order;
    a buffer's block is free again after its last reader (buffers numpy reads are never reused)."""
    by_first: dict = {}
    by_last: dict = {}
    for b in buffers:
        if b.kind == "arena":
            by_first.setdefault(b.first, []).append(b)
            if not b.pinned:
                by_last.setdefault(b.last, []).append(b)

    def rounded(b):
        return -(-max(at(b.nbytes, size), 1) // ARENA_ALIGN) * ARENA_ALIGN

    offsets: dict = {}
    free: list = []   # (size, offset) blocks
    top = 0
    for i in range(nsteps):
        for b in by_first.get(i, ()):
            need = rounded(b)
            fit = [blk for blk in free if blk[0] >= need]
            if fit:
                blk = min(fit)
                free.remove(blk)
                offsets[b.id] = blk[1]
                if blk[0] > need:
                    free.append((blk[0] - need, blk[1] + need))
            else:
                offsets[b.id] = top
                top += need
        for b in by_last.get(i, ()):
            free.append((rounded(b), offsets[b.id]))
    return offsets, top


def _address(a: np.ndarray) -> int:
    if a.flags.writeable and a.nbytes:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))  # 4x cheaper than a.ctypes.data
    return a.ctypes.data


def _take(pool: list, shape: tuple, npd) -> tuple:
    """``(array, address)`` for an output: a pooled array nobody references any more, else a new one.

    Pooling spares large outputs the page faults of fresh memory, and small ones (the call
    overhead W4 measures) the allocation and the address lookup."""
    for entry in pool:
        # referenced only by its pool entry and getrefcount's argument
        if sys.getrefcount(entry[0]) <= 2:
            return entry
    a = np.empty(shape, npd)
    entry = (a, _address(a))
    if len(pool) < _POOL_PER_OUTPUT:
        pool.append(entry)
    return entry


class PlanRuntime:
    """The running half of NativePlan (see the module docstring)."""

    def _make_state(self, size: int | None) -> "_SizeState":
        """Everything a call at symbolic size ``size`` (None: static shapes) uses: arena offsets and
        memory, the pointer table, thread ranges, feed checks and output allocations."""
        st = _SizeState()
        st.size = size
        offsets, total = _arena_layout(self._buffers, self._nsteps, size)
        # numpy madvises large allocations for huge pages; the arena lives as long as the state
        st.arena = np.empty(total + ARENA_ALIGN, dtype=np.uint8)
        base = st.arena.ctypes.data
        arena_addr = base + (-base) % ARENA_ALIGN
        start = arena_addr - base
        st.persistent = {}
        table = st.table = np.zeros(max(self._nslots, 1), dtype=np.uint64)
        for b in self._buffers:
            if b.kind == "const":
                st.persistent[b.root] = b.array
                if b.slot is not None:
                    table[b.slot] = b.array.ctypes.data
            elif b.kind == "arena":
                off = offsets.get(b.id, 0)
                if b.pinned or b.numpy_written:   # numpy reads or writes it: an array view of the arena
                    raw = st.arena[start + off:start + off + at(b.nbytes, size)]
                    st.persistent[b.root] = raw.view(b.dtype.np).reshape(at(b.shape, size))
                if b.slot is not None:
                    table[b.slot] = arena_addr + off
        for call in self.gemms:
            table[call.fn_slot] = gemm_address(call.dtype)
        if self._size_slot is not None:
            table[self._size_slot] = size
        st.table_addr = table.ctypes.data
        st.steps = []
        for k, o in self._run_steps:
            if k == "native":
                st.steps.append((k, self._fns[o]))
            elif k == "threaded":
                extent, elements = o[1]
                st.steps.append((k, (self._fns[o[0]], chunk_bounds(at(extent, size), at(elements, size),
                                                                   self._threads))))
            else:
                st.steps.append((k, o))
        # op attributes at this size (a dynamic plan's stand-in sizes resolved once, not per call)
        st.attrs = {}
        if size is not None and self._sizes is not None:
            for k, o in self._run_steps:
                if k == "numpy":
                    st.attrs[o.node] = self._sizes.resolve_attrs(o.attrs, size)
            for v, (_, attrs, _) in self._alias.items():
                st.attrs[v] = self._sizes.resolve_attrs(attrs, size)
        g = self.graph
        st.feed_plan = [(n, Value(n, 0), b.slot, at(tuple(g.specs(n)[0].shape), size), b.dtype.np)
                        for n, b in self._feeds]
        st.out_plan = [(b.root, b.slot, at(b.shape, size), b.dtype.np, [])
                       for b in self._buffers if b.kind == "out"]
        # the common case, kept short: kernels only, each output its own fresh buffer
        roots = [b[0] for b in st.out_plan]
        st.simple = (all(k == "native" for k, _ in st.steps) and len(st.steps) <= 1 and self._outputs == roots)
        if st.simple:
            st.simple_feeds = [(n, slot, shape, npd) for n, _, slot, shape, npd in st.feed_plan]
            st.simple_outs = [(slot, shape, npd, pool) for _, slot, shape, npd, pool in st.out_plan]
            st.segment = st.steps[0][1] if st.steps else None
        return st

    def _state(self, inputs: dict, size: int | None) -> "_SizeState":
        if self._static_state is not None:
            return self._static_state
        if size is None:
            size = self._size_of(inputs)
        st = self._states.get(size)
        if st is None:
            if size < self.min_size:
                raise ValueError(f"this dynamic native plan runs sizes >= {self.min_size}, got {size} "
                                 "(specialize the graph for it)")
            st = self._states[size] = self._make_state(size)
            while len(self._states) > _STATES_KEPT:
                self._states.popitem(last=False)
        else:
            self._states.move_to_end(size)
        return st

    def _size_of(self, inputs: dict) -> int:
        size = self.size_for(inputs)
        if size is None:
            raise ValueError("this dynamic plan's feeds do not agree on one symbolic size S")
        return size

    def size_for(self, inputs: dict) -> int | None:
        """The size S the feeds' symbolic dims (each ``a * S + b``) agree on, or None."""
        size = None
        for n, d, s in self._sym_dims:
            got = inputs[n].shape[d]
            if size is None:
                size, rem = divmod(got - s.b, s.a)
                if rem:
                    return None
            elif s.at(size) != got:
                return None
        return size

    @staticmethod
    def shape_at(shape: tuple, size: int) -> tuple:
        """A shape of this plan (ints and Syms) at symbolic size ``size``."""
        return at(tuple(shape), size)

    def set_error_handler(self, on_error: Callable | None) -> None:
        """``on_error(node, arrays, attrs, exc)`` turns a numpy step's error into the one to raise."""
        self._on_error = on_error

    # ================================================================== running
    def run(self, inputs: dict, size: int | None = None) -> list:
        """Output arrays for ``inputs`` ({placeholder or parameter node: array}); ``size`` is the
        symbolic size S of a dynamic plan (found from the feeds when None)."""
        with self._lock:
            st = self._state(inputs, size)
            if st.simple:
                return self._run_simple(st, inputs, True)
            return self._run(st, inputs)

    def run_checked(self, inputs: dict, size: int | None = None) -> list:
        """:meth:`run` for inputs whose shapes and dtypes the caller has checked already
        (``Executable`` checks feeds and parameters against their specs): the simple path skips
        checking them again.  Non-contiguous or misaligned inputs are still copied."""
        with self._lock:
            st = self._state(inputs, size)
            if st.simple:
                return self._run_simple(st, inputs, False)
            return self._run(st, inputs)

    def _run(self, st: "_SizeState", inputs: dict) -> list:
        env = dict(st.persistent)
        table = st.table
        feed_arrays = []
        for n, v, slot, shape, npd in st.feed_plan:
            a = inputs[n]
            if a.shape != shape or a.dtype != npd:
                raise RuntimeError(f"native backend: input %{n} must be {npd}{list(shape)}, got "
                                   f"{a.dtype}{list(a.shape)}")
            if slot is not None:
                if not (a.flags.c_contiguous and a.flags.aligned):
                    a = np.array(a, order="C", copy=True)
                table[slot] = _address(a)
            env[v] = a
            feed_arrays.append(a)
        for v, slot, shape, npd, pool in st.out_plan:
            a, addr = _take(pool, shape, npd)
            env[v] = a
            if slot is not None:
                table[slot] = addr
        for kind, obj in st.steps:
            if kind == "native":
                obj(st.table_addr)
            elif kind == "threaded":
                run_chunks(obj[0], st.table_addr, obj[1])
            else:
                self._run_numpy(obj, env, table, st)
        return self._owned_outputs(st, env, feed_arrays)

    def _run_simple(self, st: "_SizeState", inputs: dict, check: bool) -> list:
        table = st.table
        copies = []
        for n, slot, shape, npd in st.simple_feeds:
            a = inputs[n]
            if check and (a.shape != shape or a.dtype != npd):
                raise RuntimeError(f"native backend: input %{n} must be {npd}{list(shape)}, got "
                                   f"{a.dtype}{list(a.shape)}")
            if slot is not None:
                if not (a.flags.c_contiguous and a.flags.aligned):
                    a = np.array(a, order="C", copy=True)
                    copies.append(a)  # alive until the native code has run
                table[slot] = _address(a)
        outs = []
        for slot, shape, npd, pool in st.simple_outs:
            a, addr = _take(pool, shape, npd)
            if slot is not None:
                table[slot] = addr
            outs.append(a)
        if st.segment is not None:
            st.segment(st.table_addr)  # `inputs` and `copies` keep the feeds alive meanwhile
        return outs

    def _get(self, env: dict, v: Value, state: "_SizeState") -> np.ndarray:
        a = env.get(v)
        if a is None:   # an alias that numpy reads: materialize it with its op's kernel
            opdef, attrs, src = self._alias[v]
            a = env[v] = opdef.kernel(self._get(env, src, state), **state.attrs.get(v, attrs))
        return a

    def _run_numpy(self, st, env: dict, table: np.ndarray, state: "_SizeState") -> None:
        size = state.size
        arrays = [self._get(env, v, state) for v in st.ins]
        if st.cast is not None:
            arrays = [a if a.dtype == st.cast else a.astype(st.cast) for a in arrays]
        attrs = state.attrs.get(st.node, st.attrs)
        try:
            if st.into is not None:
                out = env[st.outs[0]]
                st.into(*arrays, out=out)
            elif st.control:
                out = st.op.kernel(*arrays, size=size, **attrs)
            else:
                out = st.op.kernel(*arrays, **attrs)
        except _KERNEL_ERRORS as e:
            if self._on_error is not None:
                raise self._on_error(st.node, arrays, attrs, e) from None
            raise
        outs = (out,) if len(st.outs) == 1 else out
        for v, o in zip(st.outs, outs):
            env[v] = o if type(o) is np.ndarray else np.asarray(o)
        for k, slot, spec in st.native_outs:
            a = env[st.outs[k]]
            shape = at(tuple(spec.shape), size)
            if a.dtype != spec.dtype.np or a.shape != shape:
                raise RuntimeError(f"native backend: node %{st.node} ({st.op.name}) gave {a.dtype}{list(a.shape)}, "
                                   f"its shape rule says {spec.dtype.np}{list(shape)}")
            if not (a.flags.c_contiguous and a.flags.aligned):
                a = env[st.outs[k]] = np.array(a, order="C", copy=True)
            table[slot] = _address(a)

    def _owned_outputs(self, st: "_SizeState", env: dict, feeds: list) -> list:
        res = []
        for v, fresh in zip(self._outputs, self._fresh):
            a = self._get(env, v, st)
            if any(a is r for r in res):
                a = np.array(a, copy=True)
            elif not fresh and (not a.flags.writeable or any(np.may_share_memory(a, f) for f in feeds)
                                or np.may_share_memory(a, st.arena)
                                or any(np.may_share_memory(a, c) for c in st.persistent.values())):
                a = np.array(a, copy=True)
            res.append(a)
        return res
