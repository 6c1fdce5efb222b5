"""Elementwise kernels with a long element function, run in steps over blocks of a row.

Why: the loop of ``sigmoid(a*b + c) * tanh(a)`` is one dependency chain of about 25
vector instructions per element (two exponentials, two divisions).  An out-of-order core
holds only a few such iterations in flight (its schedulers fill with instructions waiting
on their inputs), so the loop runs at about half the rate its execution ports allow; a
chain of 32 FMAs measured 80 FMA slots here, four chains of 8 measured 52.  Cutting the
chain helps: each innermost row is processed in blocks of :data:`BLOCK_BYTES`, and each
block runs the element function as a few loops ("stages") over the block, handing the
values that cross a stage boundary through small buffers that stay in L1.  A stage's
chain is short, so its loop runs near the port limit; the buffers cost a store and a load
per value per element.  Measured on one thread with the kernel in L1 (float32, AVX2): W1
1.75 -> 1.39 ns per element, ``exp(a) * b + c`` 0.545 -> 0.426.  The buffers are cache-line
aligned and padded apart from multiples of 4 KiB; unaligned (LLVM's default for an alloca)
they cost W1 another 12%.

Where the cuts go: the long functions of :mod:`.mathlib` are written as generators of
steps (``mathlib.steps``); exp has one cut (range reduction | polynomial and scaling),
sigmoid and tanh two (exp's, then before their division).  :func:`schedule` gives every
member of the group the stages it runs in: a stepped member starts in the stage where its
last argument is ready and takes one stage per step; every other member runs as late as
its consumers allow, so a cheap op on an input (``0.5 * c``) reloads the input in the last
stage instead of carrying its result through a buffer.  Results are the same bits as the
one-loop kernel: every element goes through the same operations in the same order.
"""
from __future__ import annotations

from typing import Callable

from llvmlite import ir

from . import nontemporal as nt
from . import scalar
from .scalar import Val

__all__ = ["BLOCK_BYTES", "MIN_ROW", "schedule", "emit_row"]

_I64 = ir.IntType(64)

# one block per row step: 256 float32 (1 KiB) per buffer, so even a dozen buffers stay in L1
BLOCK_BYTES = 1024
# rows shorter than this run as one loop (a block loop around a short row only adds overhead)
MIN_ROW = 64
# space after each stage buffer, so that buffers of BLOCK_BYTES do not lie 4 KiB apart
_PAD_BYTES = 64
# The hardware prefetchers follow demand loads, and the stage loops after the first load
# nothing from memory, so the next block's inputs arrived late: from memory, W1 took about
# its compute time plus its streaming time.  The second stage loop (index 1) therefore
# prefetches the streamed inputs' lines two blocks ahead, one line per input per chunk.
PREFETCH_STAGE = 1
PREFETCH_BLOCKS = 2
PREFETCH_LOCALITY = 3   # llvm.prefetch locality 3: into L1 (prefetcht0 on x86)
_I32 = ir.IntType(32)


def _prefetch(module: ir.Module) -> ir.Function:
    """The ``llvm.prefetch.p0`` declaration of ``module``."""
    name = "llvm.prefetch.p0"
    if name in module.globals:
        return module.globals[name]
    ptr = ir.IntType(8).as_pointer()
    return ir.Function(module, ir.FunctionType(ir.VoidType(), [ptr, _I32, _I32, _I32]), name)


def _size(ty: ir.Type) -> int:
    """Bytes of one buffer element of LLVM type ``ty``."""
    if isinstance(ty, (ir.FloatType, ir.DoubleType, ir.HalfType)):
        return {ir.FloatType: 4, ir.DoubleType: 8, ir.HalfType: 2}[type(ty)]
    return max(1, ty.width // 8)


def schedule(desc) -> list | None:
    """``[(first, last)]``: the stages each of ``desc.instrs`` runs in, or None when the kernel
    gains nothing from stages (a reduction, or no member written in steps)."""
    if desc.reduce is not None:
        return None
    instrs = desc.instrs
    steps = [scalar.op_steps(ins.op, ins.out) for ins in instrs]
    if not any(steps):
        return None
    first, last = [], []
    for t, ins in enumerate(instrs):
        start = max((last[x] for kind, x in ins.args if kind == "tmp"), default=0)
        first.append(start)
        last.append(start + steps[t])
    final = max(last)
    consumers: list = [[] for _ in instrs]
    for t, ins in enumerate(instrs):
        for kind, x in ins.args:
            if kind == "tmp":
                consumers[x].append(t)
    # one-step members as late as their consumers allow (outputs only: the last stage)
    for t in reversed(range(len(instrs))):
        if steps[t] == 0:
            latest = min((first[c] for c in consumers[t]), default=final)
            first[t] = last[t] = max(first[t], latest)
    return list(zip(first, last))


def emit_row(b: ir.IRBuilder, e: scalar.Emitter, loops, desc, stages: list, ptrs: tuple,
             index: list, strides: list, lo: ir.Value, hi: ir.Value, tag: str,
             plain_row: Callable[[ir.Value, ir.Value], None], nontemporal: bool = False) -> None:
    """Elements [lo, hi) of one innermost row: full blocks each as a few loops (one per stage),
    the last partial block as one loop written by ``plain_row(start, stop)``.

    ``ptrs`` = (input pointers, output pointers); ``index[k]`` is operand k's element index at
    row position 0 and ``strides[k]`` its (constant) stride along the row.  ``nontemporal``
    (contiguous outputs, see :mod:`.nontemporal`): the last stage writes each output block to
    an L1 buffer, copied out with non-temporal stores where the block starts on a cache line;
    the elements before output 0's first cache line run as one loop, like the tail, so that
    the blocks of output 0 (and of every output at the same offset from one) are aligned.
    The caller ends the kernel with the fence."""
    itemsize = max(o.dtype.itemsize for o in list(desc.inputs) + [o for _, o in desc.outputs])
    block = max(8, BLOCK_BYTES // itemsize)
    fn = b.function
    out_bufs, out_aligned = [], []
    if nontemporal:
        lo, out_bufs, out_aligned = _aligned_start(b, desc, ptrs[1], index, lo, hi, block, plain_row)
    # full blocks: stage loops of a constant trip count (LLVM then keeps the constants in
    # registers and interleaves; a variable count made it reload them every iteration)
    size = ir.Constant(_I64, block)
    full = b.udiv(b.sub(hi, lo, flags=("nuw",)), size)
    tail_start = b.add(lo, b.mul(full, size, flags=("nuw", "nsw")), flags=("nuw", "nsw"))
    pre = b.block
    blk = fn.append_basic_block(f"{tag}.block")
    skip = fn.append_basic_block(f"{tag}.blocks_done")
    b.cbranch(b.icmp_unsigned("!=", full, ir.Constant(_I64, 0)), blk, skip)
    b.position_at_end(blk)
    start = b.phi(_I64, name=f"{tag}.start")
    start.add_incoming(lo, pre)
    _BlockStages(b, e, loops, desc, stages, ptrs, index, strides, block, tag, out_bufs).emit(start)
    n_in = len(desc.inputs)
    for k, (_, o) in enumerate(desc.outputs if nontemporal else []):
        dst = b.gep(ptrs[1][k], [b.add(index[n_in + k], start, flags=("nsw",))], inbounds=True)
        _copy_block(b, loops, dst, out_bufs[k], out_aligned[k], block, o.dtype.itemsize, f"{tag}.out{k}")
    end = b.add(start, size, flags=("nuw", "nsw"))
    start.add_incoming(end, b.block)
    b.cbranch(b.icmp_unsigned("<", end, tail_start), blk, skip)
    b.position_at_end(skip)
    # the last partial block: the element function as one loop
    run_tail = fn.append_basic_block(f"{tag}.tail")
    done = fn.append_basic_block(f"{tag}.done")
    b.cbranch(b.icmp_unsigned("<", tail_start, hi), run_tail, done)
    b.position_at_end(run_tail)
    plain_row(tail_start, hi)
    b.branch(done)
    b.position_at_end(done)


class _BlockStages:
    """The stage loops of one full block (:func:`emit_row`): each member's step generator is
    started in its first stage and resumed in the next ones; what it yields goes to a buffer
    (or is reloaded from its input, or keeps the buffer it came from), and a result read in a
    later stage is stored to a buffer of its own."""

    def __init__(self, b, e, loops, desc, stages, ptrs, index, strides, block, tag, out_bufs):
        self.b, self.e, self.loops, self.desc, self.stages = b, e, loops, desc, stages
        self.in_ptrs, self.out_ptrs = ptrs
        self.index, self.strides, self.block, self.tag, self.out_bufs = index, strides, block, tag, out_bufs
        self.n_in = len(desc.inputs)
        # tmp results read in a later stage than the one computing them: (buffer, type) once stored
        self.stored = {x: None for t, ins in enumerate(desc.instrs) for kind, x in ins.args
                       if kind == "tmp" and stages[t][0] > stages[x][1]}
        self.gens: dict = {}         # member -> its running step generator
        self.carried: dict = {}      # member -> [(how, buffer or input k, type)] for its next step

    def emit(self, start: ir.Value) -> None:
        """All stage loops for the block whose first row position is ``start``."""
        fn = self.b.function
        n_stages = max(last for _, last in self.stages) + 1
        stage_blocks = []
        streamed = self._streamed()
        for s in range(n_stages):
            first_block = len(fn.blocks)
            if s == PREFETCH_STAGE and streamed:
                self._prefetching_stage(s, start, streamed)
            else:
                j, _, _ = self.loops.open(f"{self.tag}.s{s}")
                self._stage(s, self.b.add(start, j, flags=("nuw", "nsw")), j)
                self.loops.close(j, ir.Constant(_I64, self.block), f"{self.tag}.s{s}")
            stage_blocks.append(fn.blocks[first_block:-1])      # the last one is the loop's exit
        _check_stage_uses(stage_blocks)

    # -- prefetching ---------------------------------------------------------------------
    def _streamed(self) -> list:
        """The inputs read along the row element by element: [(k, itemsize)]."""
        return [(k, o.dtype.itemsize) for k, o in enumerate(self.desc.inputs) if self.strides[k] == 1]

    def _prefetching_stage(self, s: int, start: ir.Value, streamed: list) -> None:
        """Stage s as a loop over cache-line chunks of the block, each chunk prefetching the
        ``streamed`` inputs' lines PREFETCH_BLOCKS blocks ahead, then running its elements as an
        inner loop (of constant trip count: LLVM vectorizes and unrolls it whole)."""
        b, line = self.b, nt.ALIGN
        chunk = max(1, line // max(size for _, size in streamed))
        ahead = PREFETCH_BLOCKS * self.block
        c, _, _ = self.loops.open(f"{self.tag}.s{s}c")
        first = b.mul(c, ir.Constant(_I64, chunk), flags=("nuw", "nsw"))
        at = b.add(b.add(start, first, flags=("nuw", "nsw")), ir.Constant(_I64, ahead))
        for k, size in streamed:
            for off in range(0, chunk * size, line):
                # no inbounds: the address may lie past the input, which a prefetch may do
                p = b.gep(self.in_ptrs[k], [b.add(self.index[k], at)])
                p = b.gep(b.bitcast(p, ir.IntType(8).as_pointer()), [ir.Constant(_I64, off)])
                b.call(_prefetch(b.module), [p, ir.Constant(_I32, 0), ir.Constant(_I32, PREFETCH_LOCALITY),
                                             ir.Constant(_I32, 1)])
        i, _, _ = self.loops.open(f"{self.tag}.s{s}")
        j = b.add(first, i, flags=("nuw", "nsw"))
        self._stage(s, b.add(start, j, flags=("nuw", "nsw")), j)
        self.loops.close(i, ir.Constant(_I64, chunk), f"{self.tag}.s{s}")
        self.loops.close(c, ir.Constant(_I64, self.block // chunk), f"{self.tag}.s{s}c")

    # -- one stage's loop body -------------------------------------------------------
    def _stage(self, s: int, pos: ir.Value, j: ir.Value) -> None:
        self.s, self.pos, self.j = s, pos, j
        self.loaded: dict = {}       # input k -> its Val, loaded in this stage
        self.inputs_here: dict = {}  # id(LLVM value) -> input k, for carried values that are inputs
        self.from_buf: dict = {}     # id(LLVM value) -> the buffer it was loaded from in this stage
        self.now: dict = {}          # member -> its result, computed in this stage
        self.reloaded: dict = {}     # member -> its result, loaded from its buffer
        for t, ins in enumerate(self.desc.instrs):
            first, last = self.stages[t]
            if first <= s <= last:
                self._step(t, ins, first, last)
        e, b = self.e, self.b
        for k, (t, o) in enumerate(self.desc.outputs):
            if t in self.now:
                p = (b.gep(self.out_bufs[k], [ir.Constant(_I64, 0), j], inbounds=True) if self.out_bufs
                     else b.gep(self.out_ptrs[k], [self._element(self.n_in + k)], inbounds=True))
                b.store(e.to_mem(e.cast(self.now[t], o.dtype)), p)

    def _step(self, t: int, ins, first: int, last: int) -> None:
        """Start member t (its first stage) or resume it with what it carried."""
        b, e, s = self.b, self.e, self.s
        if s == first:
            args = [self._val(r) for r in ins.args]
            if ins.promote is not None:
                args = [e.cast(a, ins.promote) for a in args]
            self.gens[t] = scalar.lower_op_steps(e, ins.op, args, ins.attrs, ins.out)
            sent = None
        else:
            sent = []
            for how, src, ty in self.carried.pop(t):
                v = self._input(src).v if how == "in" else _load(b, src, self.j, ty)
                if how == "buf":
                    self.from_buf[id(v)] = src
                sent.append(v)
            sent = tuple(sent)
        try:
            out = next(self.gens[t]) if sent is None else self.gens[t].send(sent)
        except StopIteration as stop:
            if s != last:
                raise AssertionError(f"{ins.op}: fewer steps than scheduled") from None
            del self.gens[t]
            self._finished(t, stop.value)
            return
        if s == last:
            raise AssertionError(f"{ins.op}: more steps than scheduled")
        self.carried[t] = [self._hand_over(v) for v in out]

    def _hand_over(self, v: ir.Value) -> tuple:
        """Where a value yielded in this stage waits for the next one."""
        if id(v) in self.inputs_here:
            return ("in", self.inputs_here[id(v)], v.type)
        if id(v) in self.from_buf:       # carried on unchanged: the same buffer
            return ("buf", self.from_buf[id(v)], v.type)
        buf = self._buffer(v.type)
        _store(self.b, buf, self.j, v)
        return ("buf", buf, v.type)

    def _finished(self, t: int, value: Val) -> None:
        self.now[t] = value
        if t in self.stored:
            if self.stored[t] is None:
                self.stored[t] = (self._buffer(value.v.type), value.v.type)
            _store(self.b, self.stored[t][0], self.j, value.v)

    def _buffer(self, ty: ir.Type) -> ir.Value:
        with self.b.goto_entry_block():
            elem = ir.IntType(8) if ty == ir.IntType(1) else ty
            # cache-line aligned, and padded so that no two buffers lie a multiple of 4 KiB
            # apart (a load from one would wait on a store to the other: 4K aliasing)
            buf = self.b.alloca(ir.ArrayType(elem, self.block + _PAD_BYTES // _size(elem)),
                                name=f"{self.tag}.buf")
            buf.align = nt.ALIGN
            return buf

    # -- values --------------------------------------------------------------------------
    def _element(self, k: int) -> ir.Value:
        b, st = self.b, self.strides[k]
        if st == 0:
            return self.index[k]
        return b.add(self.index[k], b.mul(self.pos, ir.Constant(_I64, st), flags=("nsw",)), flags=("nsw",))

    def _input(self, k: int) -> Val:
        if k not in self.loaded:
            p = self.b.gep(self.in_ptrs[k], [self._element(k)], inbounds=True)
            self.loaded[k] = self.e.from_mem(self.b.load(p), self.desc.inputs[k].dtype)
            self.inputs_here[id(self.loaded[k].v)] = k
        return self.loaded[k]

    def _val(self, ref) -> Val:
        kind, x = ref
        if kind == "in":
            return self._input(x)
        if kind != "tmp":
            return self.e.const(x.dtype, x.array[()])
        if x in self.now:
            return self.now[x]
        if x not in self.reloaded:
            buf, ty = self.stored[x]
            self.reloaded[x] = Val(_load(self.b, buf, self.j, ty), self.desc.instrs[x].out)
            self.from_buf[id(self.reloaded[x].v)] = buf
        return self.reloaded[x]


def _aligned_start(b: ir.IRBuilder, desc, out_ptrs, index, lo, hi, block: int, plain_row) -> tuple:
    """For non-temporal output blocks: run the elements before output 0's first 64-byte boundary
    (at most one cache line) as one loop; returns (the new lo, one L1 buffer per output, and
    per output an i1: its blocks start on a cache line too)."""
    n_in = len(desc.inputs)
    size = desc.outputs[0][1].dtype.itemsize
    fn = b.function

    def addr(k, pos):
        return b.ptrtoint(b.gep(out_ptrs[k], [b.add(index[n_in + k], pos, flags=("nsw",))], inbounds=True), _I64)

    line = ir.Constant(_I64, nt.ALIGN - 1)
    addr0 = addr(0, lo)
    head = b.lshr(b.and_(b.neg(addr0), line), ir.Constant(_I64, size.bit_length() - 1))
    # an output not element-aligned (never one of the backend's buffers) gets no aligned blocks
    elem_ok = b.icmp_unsigned("==", b.and_(addr0, ir.Constant(_I64, size - 1)), ir.Constant(_I64, 0))
    head_end = b.add(lo, head, flags=("nuw", "nsw"))
    head_end = b.select(b.icmp_unsigned("<", head_end, hi), head_end, hi)
    run = fn.append_basic_block("nt.head")
    done = fn.append_basic_block("nt.head_done")
    b.cbranch(b.icmp_unsigned("<", lo, head_end), run, done)
    b.position_at_end(run)
    plain_row(lo, head_end)
    b.branch(done)
    b.position_at_end(done)
    bufs, aligned = [], []
    for k, (_, o) in enumerate(desc.outputs):
        with b.goto_entry_block():
            buf = b.alloca(ir.ArrayType(scalar.mem_type(o.dtype), block), name="nt.block")
            buf.align = nt.ALIGN
        bufs.append(buf)
        ok = b.icmp_unsigned("==", b.and_(addr(k, head_end), line), ir.Constant(_I64, 0))
        aligned.append(b.and_(ok, elem_ok))
    return head_end, bufs, aligned


def _copy_block(b: ir.IRBuilder, loops, dst, buf, aligned, block: int, itemsize: int, tag: str) -> None:
    """Copy one output block from its L1 buffer: non-temporal stores where ``aligned``, else plain."""
    fn = b.function
    fast = fn.append_basic_block(f"{tag}.nt")
    slow = fn.append_basic_block(f"{tag}.plain")
    done = fn.append_basic_block(f"{tag}.done")
    b.cbranch(aligned, fast, slow)
    b.position_at_end(fast)
    src = b.gep(buf, [ir.Constant(_I64, 0), ir.Constant(_I64, 0)], inbounds=True)
    nt.copy_nontemporal(loops, dst, src, block * itemsize, f"{tag}.c")
    b.branch(done)
    b.position_at_end(slow)
    i, _, _ = loops.open(f"{tag}.p")
    b.store(b.load(b.gep(buf, [ir.Constant(_I64, 0), i], inbounds=True)), b.gep(dst, [i], inbounds=True))
    loops.close(i, ir.Constant(_I64, block), f"{tag}.p")
    b.branch(done)
    b.position_at_end(done)


def _check_stage_uses(stage_blocks: list) -> None:
    """Fail loudly where a stage uses a value computed in another stage's loop: such IR is
    valid (the earlier loop dominates) but reads the value of that loop's last element."""
    owner = {id(blk): s for s, blocks in enumerate(stage_blocks) for blk in blocks}
    for s, blocks in enumerate(stage_blocks):
        for blk in blocks:
            for ins in blk.instructions:
                for v in ins.operands:
                    home = owner.get(id(getattr(v, "parent", None)))
                    if home is not None and home != s:
                        raise AssertionError(f"stage {s} uses {v.name or v} from stage {home}: "
                                             "a step generator kept a value without yielding it")


def _store(b: ir.IRBuilder, buf: ir.Value, j: ir.Value, v: ir.Value) -> None:
    if v.type == ir.IntType(1):      # i1 has no byte layout of its own: keep it as i8
        v = b.zext(v, ir.IntType(8))
    b.store(v, b.gep(buf, [ir.Constant(_I64, 0), j], inbounds=True))


def _load(b: ir.IRBuilder, buf: ir.Value, j: ir.Value, ty: ir.Type) -> ir.Value:
    v = b.load(b.gep(buf, [ir.Constant(_I64, 0), j], inbounds=True))
    return b.trunc(v, ty) if ty == ir.IntType(1) else v
