"""One fusion group -> one LLVM function with one loop nest over the group's domain.

:func:`emit_kernel` writes a :class:`~graphc.codegen.describe.KernelDesc` as the function::

    void name(T0* noalias in0, ..., Tk* noalias out0, ...)

* dims of size 1 are dropped and neighbouring dims that every operand walks contiguously
  are merged, so a contiguous elementwise group is one flat loop the vectorizer widens;
* each external value is loaded once per element (broadcast inputs have stride 0 and are
  hoisted by LLVM); size-1 constants are inlined as immediates;
* each member is lowered by :mod:`graphc.codegen.scalar` after casting its inputs to the
  op's compute dtype (``graphc.ops.promotion.compute_dtype``, as eager dispatch casts);
* a final reduction accumulates in the output dtype: in registers over the innermost dim
  when that dim is reduced, else read-modify-write on the (pre-filled) output in domain
  order, which keeps the inner loop contiguous.  A float sum/prod over a long innermost
  dim uses 16 (float32) or 8 (float64) interleaved partial accumulators combined pairwise
  at the end: a fixed order (the same on every CPU), more accurate than one running sum,
  and one the vectorizer can widen without fast-math flags.  Other accumulations run in
  domain order; max/min use ``llvm.maximum``/``llvm.minimum`` (NaN propagates; LLVM
  vectorizes them without fast-math).  ``fastmath`` (a module flag) adds ``reassoc
  contract`` to all float arithmetic of the kernels.
* a large, cheap elementwise kernel stores its outputs non-temporally (:mod:`.nontemporal`);
  one with a long element function (exp, sigmoid, tanh) runs each row in blocks, each block
  as a few loops over it (:mod:`.staged`).

The kernel descriptions (:class:`KernelDesc`, :func:`describe_group`) are in :mod:`.describe`.
"""
from __future__ import annotations

from llvmlite import ir

from .. import dtypes as _dt
from . import nontemporal as nt
from . import scalar, staged
from .describe import KernelDesc, Reduce
from .scalar import Emitter, Unsupported, Val
from .symint import emit_int, is_sym, prod

__all__ = ["emit_kernel"]

_I64 = ir.IntType(64)
# chunks of `lanes` elements a float sum adds in its lanes before folding them into a float64 total
SUM_BLOCK = 64


def _coalesce(domain: tuple, operands: list, reduced: tuple) -> tuple:
    """(dims, per-operand strides, reduced flags) with size-1 dims dropped and mergeable dims merged."""
    keep = [i for i, d in enumerate(domain) if d != 1]
    dims = [domain[i] for i in keep]
    strides = [[op.strides[i] for i in keep] for op in operands]
    red = [reduced[i] for i in keep]
    i = len(dims) - 2
    while i >= 0:
        inner = dims[i + 1]
        if red[i] == red[i + 1] and all(s[i] == s[i + 1] * inner for s in strides):
            dims[i] *= inner
            for s in strides:
                s[i] = s[i + 1]
                del s[i + 1]
            del dims[i + 1], red[i + 1]
        i -= 1
    return dims, strides, red


class _Loops:
    """Counted loops ``for i in range(n)`` (n > 0 known) in canonical form."""

    def __init__(self, fn: ir.Function, b: ir.IRBuilder):
        self.fn, self.b = fn, b

    def open(self, tag: str, start: ir.Value | None = None) -> tuple:
        b = self.b
        pre = b.block
        hdr = self.fn.append_basic_block(f"{tag}.body")
        b.branch(hdr)
        b.position_at_end(hdr)
        i = b.phi(_I64, name=f"{tag}.i")
        i.add_incoming(ir.Constant(_I64, 0) if start is None else start, pre)
        return i, pre, hdr

    def close(self, i, n: ir.Value, tag: str) -> None:
        b = self.b
        nxt = b.add(i, ir.Constant(_I64, 1), name=f"{tag}.next", flags=("nuw", "nsw"))
        i.add_incoming(nxt, b.block)
        done = self.fn.append_basic_block(f"{tag}.done")
        b.cbranch(b.icmp_unsigned("<", nxt, n), i.parent, done)
        b.position_at_end(done)


def emit_kernel(module: ir.Module, desc: KernelDesc) -> ir.Function:
    """Add the kernel function ``desc.name`` to ``module`` (see the module docstring).

    Besides the pointers the function takes its loop trip counts as ``i64`` arguments (the
    caller passes ``desc.counts``): constant trip counts would make LLVM fully unroll small
    loops, which costs much compile time and code size for nothing.  When ``desc.split`` is set
    (the outermost loop walks output elements only) a last ``i64 start`` argument follows and the
    outermost loop runs over [start, counts[0]): disjoint ranges can run on different threads.
    """
    operands = desc.operands
    red = desc.reduce
    # the dims the reduction output does not walk (size-1 ones are dropped by _coalesce)
    red_dims = tuple(s == 0 for s in red.out.strides) if red else (False,) * len(desc.domain)
    empty = any(d == 0 for d in desc.domain)
    dims, strides, reduced = ([], [], []) if empty else _coalesce(desc.domain, operands, red_dims)
    register_acc = red is not None and bool(dims) and reduced[-1]
    needs_fill = red is not None and (empty or not (register_acc and sum(reduced) == 1))
    fill_count = _out_count(red, desc.domain) if needs_fill else 0
    lanes = _split_lanes(red, dims) if register_acc else 0
    # a symbolic inner length (a dynamic plan) is passed whole: the kernel divides it into lanes
    sym_lanes = bool(lanes) and is_sym(dims[-1])
    inner = [dims[-1] // lanes, dims[-1] % lanes] if lanes and not sym_lanes else list(dims[-1:])
    desc.counts = list(dims[:-1]) + inner + ([fill_count] if needs_fill else [])
    # the outermost loop can be cut into ranges when it walks output elements only (never a reduced
    # dim): each range then computes its outputs exactly as the whole loop would (see backend threads)
    desc.split = dims[0] if dims and not reduced[0] and dims[0] >= 2 else 0
    # outputs per outer row, for a split kernel's identity fill
    per_row = prod(d for d, r in zip(dims[1:], reduced[1:]) if not r) if needs_fill and desc.split else 1
    # sizes of a dynamic plan (symint.Sym) are computed from a trailing ``i64 size`` argument
    desc.sized = any(is_sym(v) for v in [o.offset for o in operands] + [x for st in strides for x in st]
                     + [per_row])
    argtys = [scalar.mem_type(o.dtype).as_pointer() for o in operands] + [_I64] * len(desc.counts)
    if desc.split:
        argtys.append(_I64)
    if desc.sized:
        argtys.append(_I64)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), argtys), name=desc.name)
    for a in fn.args[:len(operands)]:
        a.add_attribute("noalias")
    fn.attributes.add("nounwind")
    fn.attributes.add("noinline")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    e = Emitter(b)
    n_in, n_out = len(desc.inputs), len(desc.outputs)
    in_ptrs = fn.args[:n_in]
    out_ptrs = fn.args[n_in:n_in + n_out]
    red_ptr = fn.args[len(operands) - 1] if red is not None else None
    counts = fn.args[len(operands):len(operands) + len(desc.counts)]
    row_start = fn.args[len(operands) + len(desc.counts)] if desc.split else None
    size_arg = fn.args[-1] if desc.sized else None

    def K(v) -> ir.Value:   # a stride, offset or count: a constant, or computed from the size
        return emit_int(b, v, size_arg)

    loops = _Loops(fn, b)
    if needs_fill and fill_count:
        if desc.split:
            # the outputs of outer rows [start, stop) are one contiguous run of the output
            per = K(per_row)
            _fill_identity(e, loops, red_ptr, red, b.mul(counts[0], per), b.mul(row_start, per))
        else:
            _fill_identity(e, loops, red_ptr, red, counts[-1])
    if empty:
        b.ret_void()
        return fn
    # a long element function over long rows runs in stages over blocks (see staged.py)
    stages = staged.schedule(desc) if not desc.sized and dims and dims[-1] >= staged.MIN_ROW else None
    desc.stages = 1 if stages is None else max(last for _, last in stages) + 1
    nontemporal = not desc.sized and nt.use_nontemporal(desc, dims, strides)
    # a staged kernel's output blocks pass through L1 anyway: large ones go out non-temporally
    # whatever the element function costs (measured: W1 8% faster on two threads)
    staged_nt, nontemporal = stages is not None and nontemporal, stages is None and nontemporal
    idx = [K(o.offset) for o in operands]
    red_k = len(operands) - 1

    def body(index: list, acc, ptrs: tuple | None = None) -> Val | None:
        """One element: loads, members, stores; then the reduction step (``acc`` a Val: combine in
        registers; None: read-modify-write the output; _ELEMENT: return the prepared element).
        ``ptrs``: ``(input pointers, output pointers)`` the indices refer to, when not the
        kernel's own arguments (the non-temporal block function)."""
        ins_p, outs_p = (in_ptrs, out_ptrs) if ptrs is None else ptrs
        loaded = []
        for k, o in enumerate(desc.inputs):
            p = b.gep(ins_p[k], [index[k]], inbounds=True)
            loaded.append(e.from_mem(b.load(p), o.dtype))
        tmps: list = []

        def val(r):
            kind, x = r
            if kind == "in":
                return loaded[x]
            if kind == "tmp":
                return tmps[x]
            return e.const(x.dtype, x.array[()])

        for ins in desc.instrs:
            args = [val(r) for r in ins.args]
            if ins.promote is not None:
                args = [e.cast(a, ins.promote) for a in args]
            tmps.append(scalar.lower_op(e, ins.op, args, ins.attrs, ins.out))
        for k, (j, o) in enumerate(desc.outputs):
            p = b.gep(outs_p[k], [index[n_in + k]], inbounds=True)
            b.store(e.to_mem(e.cast(tmps[j], o.dtype)), p)
        if red is None:
            return None
        x = scalar.reduce_prepare(e, red.op, val(red.src), red.acc_dtype)
        if acc is _ELEMENT:
            return x
        if acc is not None:
            return scalar.reduce_combine(e, red.op, acc, x)
        # read-modify-write on the output element
        p = b.gep(red_ptr, [index[red_k]], inbounds=True)
        cur = e.cast(e.from_mem(b.load(p), red.out_dtype), red.acc_dtype)
        new = scalar.reduce_combine(e, red.op, cur, x)
        b.store(e.to_mem(e.cast(new, red.out_dtype)), p)
        return None

    def nest(level: int, index: list) -> None:
        if level == len(dims):
            body(index, None)
            return
        if nontemporal and level == len(dims) - 1:
            _nontemporal_row(level, index)
            return
        if stages is not None and level == len(dims) - 1:
            lo = row_start if (level == 0 and desc.split) else ir.Constant(_I64, 0)

            def plain_row(start, stop):
                i, _, _ = loops.open(f"l{level}pl", start)
                body([index[k] if s[level] == 0 else
                      b.add(index[k], b.mul(i, K(s[level]), flags=("nsw",)), flags=("nsw",))
                      for k, s in enumerate(strides)], None)
                loops.close(i, stop, f"l{level}pl")

            staged.emit_row(b, e, loops, desc, stages, (in_ptrs, out_ptrs), index,
                            [s[level] for s in strides], lo, counts[level], f"l{level}st", plain_row,
                            staged_nt)
            return
        n = dims[level]
        inner_acc = register_acc and level == len(dims) - 1
        if inner_acc:
            if needs_fill:
                p0 = b.gep(red_ptr, [index[red_k]], inbounds=True)
                start = e.cast(e.from_mem(b.load(p0), red.out_dtype), red.acc_dtype)
            else:
                start = scalar.reduce_identity(e, red.op, red.acc_dtype)
        if inner_acc and lanes:
            p = b.gep(red_ptr, [index[red_k]], inbounds=True)
            b.store(e.to_mem(e.cast(_split_reduce(level, index, start), red.out_dtype)), p)
            return
        n = counts[level]
        i, pre, hdr = loops.open(f"l{level}", row_start if level == 0 else None)
        acc_phi = None
        if inner_acc:
            acc_phi = b.phi(scalar.reg_type(red.acc_dtype), name="acc")
            acc_phi.add_incoming(start.v, pre)
        sub = []
        for k, s in enumerate(strides):
            sub.append(index[k] if s[level] == 0 else
                       b.add(index[k], b.mul(i, K(s[level]), flags=("nsw",)), flags=("nsw",)))
        if inner_acc:
            new = body(sub, Val(acc_phi, red.acc_dtype))
            acc_phi.add_incoming(new.v, b.block)
            loops.close(i, n, f"l{level}")
            p = b.gep(red_ptr, [index[red_k]], inbounds=True)
            b.store(e.to_mem(e.cast(new, red.out_dtype)), p)
        else:
            nest(level + 1, sub)
            loops.close(i, n, f"l{level}")

    def _split_reduce(level: int, index: list, start: Val) -> Val:
        """The innermost reduced loop as ``lanes`` interleaved partial accumulators in a local array
        (lane l takes elements l, l + lanes, ...; the tail goes to lanes 0..), combined pairwise at
        the end: a fixed order, no fast-math flags, and loops LLVM vectorizes."""
        ty = scalar.reg_type(red.acc_dtype)
        with b.goto_entry_block():
            arr = b.alloca(ir.ArrayType(ty, lanes), name="lanes")
        ident = scalar.reduce_identity(e, red.op, red.acc_dtype).v

        def slot(lane):
            return b.gep(arr, [ir.Constant(_I64, 0), lane], inbounds=True)

        for lane in range(lanes):
            b.store(start.v if lane == 0 else ident, slot(ir.Constant(_I64, lane)))

        def step(sub, lane):
            x = body(sub, _ELEMENT)
            p = slot(lane)
            b.store(scalar.reduce_combine(e, red.op, Val(b.load(p), red.acc_dtype), x).v, p)

        def offset(k, count):
            st = strides[k][level]
            return index[k] if st == 0 else b.add(index[k], b.mul(count, K(st), flags=("nsw",)), flags=("nsw",))

        kc = ir.Constant(_I64, lanes)
        if sym_lanes:   # chunks and tail from the run-time length; either may be empty
            chunks = b.udiv(counts[level], kc)
            tail = b.urem(counts[level], kc)
        else:
            chunks, tail = counts[level], (counts[level + 1] if dims[level] % lanes else None)

        def guarded(count, tag, emit_loop, always: bool = False):
            if not sym_lanes and not always:
                emit_loop()
                return
            run = fn.append_basic_block(f"{tag}.run")
            skip = fn.append_basic_block(f"{tag}.skip")
            b.cbranch(b.icmp_unsigned("!=", count, ir.Constant(_I64, 0)), run, skip)
            b.position_at_end(run)
            emit_loop()
            b.branch(skip)
            b.position_at_end(skip)

        def chunks_from(first_chunk, count, tag):
            i, _, _ = loops.open(f"{tag}c")              # chunks of `lanes` elements
            first = b.mul(b.add(first_chunk, i, flags=("nsw",)), kc, flags=("nsw",))
            j, _, _ = loops.open(f"{tag}v")              # the lanes of one chunk
            pos = b.add(first, j, flags=("nsw",))
            step([offset(k, pos) for k in range(len(strides))], j)
            loops.close(j, kc, f"{tag}v")
            loops.close(i, count, f"{tag}c")

        def tail_loop():
            t, _, _ = loops.open(f"l{level}t")      # the tail: one element per lane
            pos = b.add(b.mul(chunks, kc, flags=("nsw",)), t, flags=("nsw",))
            step([offset(k, pos) for k in range(len(strides))], t)
            loops.close(t, tail, f"l{level}t")

        def folded() -> Val:
            vals = [Val(b.load(slot(ir.Constant(_I64, lane))), red.acc_dtype) for lane in range(lanes)]
            while len(vals) > 1:
                vals = [scalar.reduce_combine(e, red.op, vals[q], vals[q + 1]) for q in range(0, len(vals), 2)]
            return vals[0]

        if red.op != "sum":
            guarded(chunks, f"l{level}c", lambda: chunks_from(ir.Constant(_I64, 0), chunks, f"l{level}"))
            if tail is not None:
                guarded(tail, f"l{level}t", tail_loop)
            return folded()
        # a sum: every SUM_BLOCK chunks the lanes are folded into a float64 total and start again,
        # so no float32 lane adds up more than SUM_BLOCK values (a long row drifted by 1e-4 otherwise)
        with b.goto_entry_block():
            outer = b.alloca(scalar.reg_type(_dt.float64), name="sum.total")
        b.store(e.cast(start, _dt.float64).v, outer)
        for lane in range(lanes):
            b.store(ident, slot(ir.Constant(_I64, lane)))
        group = ir.Constant(_I64, SUM_BLOCK)
        blocks = b.udiv(chunks, group)

        def block_loop():
            blk, _, _ = loops.open(f"l{level}g")
            chunks_from(b.mul(blk, group, flags=("nsw",)), group, f"l{level}g")
            total = scalar.reduce_combine(e, "sum", Val(b.load(outer), _dt.float64), e.cast(folded(), _dt.float64))
            b.store(total.v, outer)
            for lane in range(lanes):
                b.store(ident, slot(ir.Constant(_I64, lane)))
            loops.close(blk, blocks, f"l{level}g")

        guarded(blocks, f"l{level}g", block_loop, always=True)
        rest = b.urem(chunks, group)
        guarded(rest, f"l{level}c", lambda: chunks_from(b.mul(blocks, group, flags=("nsw",)), rest, f"l{level}"),
                always=True)
        if tail is not None:
            guarded(tail, f"l{level}t", tail_loop)
        return scalar.reduce_combine(e, "sum", Val(b.load(outer), _dt.float64), e.cast(folded(), _dt.float64))

    def _nontemporal_row(level: int, index: list) -> None:
        """The innermost loop over [lo, hi) (lo = ``start`` when it is the split loop) in blocks:
        the elements before output 0's first 64-byte boundary and the last partial block are
        stored straight to the outputs; each full block goes to staging buffers (they stay in
        L1) and is then copied to the outputs with aligned non-temporal vector stores.  Every
        block runs one element function (:func:`_block_function`) with the pointers chosen for it."""
        st = [s[level] for s in strides]
        lo = row_start if (level == 0 and desc.split) else ir.Constant(_I64, 0)
        hi = counts[level]

        def elem(k: int, pos: ir.Value) -> ir.Value:       # operand k's element at row position pos
            at = index[k] if st[k] == 0 else b.add(index[k], b.mul(pos, ir.Constant(_I64, st[k]), flags=("nsw",)),
                                                   flags=("nsw",))
            return b.gep(fn.args[k], [at], inbounds=True)

        def umin(x, y):
            return b.select(b.icmp_unsigned("<", x, y), x, y)

        def multiple_of(x, m):
            return b.icmp_unsigned("==", b.and_(x, ir.Constant(_I64, m - 1)), ir.Constant(_I64, 0))

        addr0 = b.ptrtoint(elem(n_in, lo), _I64)
        head = b.lshr(b.and_(b.neg(addr0), ir.Constant(_I64, nt.ALIGN - 1)), ir.Constant(_I64, nt_shift))
        first_end = umin(hi, b.add(lo, head))
        # full blocks need output 0 element-aligned (the backend's buffers always are) and every
        # other output at the same offset from a 64-byte boundary; otherwise all stores are plain
        aligned = multiple_of(addr0, nt_size)
        for k in range(n_in + 1, n_in + n_out):
            aligned = b.and_(aligned, multiple_of(b.sub(b.ptrtoint(elem(k, lo), _I64), addr0), nt.ALIGN))
        pre = b.block
        blk = fn.append_basic_block(f"l{level}nt.block")
        b.branch(blk)
        b.position_at_end(blk)
        i = b.phi(_I64, name=f"l{level}nt.i")
        i.add_incoming(lo, pre)
        in_head = b.icmp_unsigned("<", i, first_end)
        block = ir.Constant(_I64, nt_block)
        end = b.select(in_head, first_end, umin(b.add(i, block, flags=("nuw", "nsw")), hi))
        count = b.sub(end, i, flags=("nuw", "nsw"))
        direct = b.or_(b.or_(in_head, b.icmp_unsigned("<", count, block)), b.not_(aligned))
        outs = [elem(n_in + k, i) for k in range(n_out)]
        dst = [b.select(direct, outs[k], staging[k]) for k in range(n_out)]
        b.call(block_fn, [elem(k, i) for k in range(n_in)] + dst + [count])
        copy = fn.append_basic_block(f"l{level}nt.copy")
        latch = fn.append_basic_block(f"l{level}nt.latch")
        b.cbranch(direct, latch, copy)
        b.position_at_end(copy)
        for k in range(n_out):
            nt.copy_nontemporal(loops, outs[k], staging[k], nt_block * nt_size, f"l{level}nt.c{k}")
        b.branch(latch)
        b.position_at_end(latch)
        i.add_incoming(end, latch)
        done = fn.append_basic_block(f"l{level}nt.done")
        b.cbranch(b.icmp_unsigned("<", end, hi), blk, done)
        b.position_at_end(done)

    def _block_function() -> ir.Function:
        """``void name.block(in*..., dst*..., i64 count)``: elements [0, count) of a row whose
        inputs start at the given pointers (each with the row's stride) and whose outputs are
        stored contiguously to ``dst``.  A function of its own, so its loop is the same loop
        (vectorized, with the same register allocation) as in a kernel without blocks."""
        st = [ir.Constant(_I64, s[-1]) for s in strides]
        hfn = ir.Function(module, ir.FunctionType(ir.VoidType(), [a.type for a in fn.args[:n_in + n_out]] + [_I64]),
                          name=f"{desc.name}.block")
        hfn.linkage = "internal"
        for a in hfn.args[:n_in + n_out]:
            a.add_attribute("noalias")
        hfn.attributes.add("nounwind")
        hfn.attributes.add("noinline")
        here = b.block
        b.position_at_end(hfn.append_basic_block("entry"))
        hloops = _Loops(hfn, b)
        j, _, _ = hloops.open("e")
        at = [ir.Constant(_I64, 0) if s[-1] == 0 else b.mul(j, st[k], flags=("nsw",))
              for k, s in enumerate(strides[:n_in])]
        body(at + [j] * n_out, None, (hfn.args[:n_in], hfn.args[n_in:n_in + n_out]))
        hloops.close(j, hfn.args[-1], "e")
        b.ret_void()
        b.position_at_end(here)
        return hfn

    if nontemporal:
        try:
            block_fn = _block_function()
        except Unsupported:
            # the caller drops the kernel; its half-built block function must go too
            module.globals.pop(f"{desc.name}.block", None)
            raise
        streamed = sum(o.dtype.itemsize for o, s in zip(operands, strides) if s[-1] != 0)
        work = nt.instruction_count(block_fn) * desc.outputs[0][1].dtype.itemsize
        if work > nt.MAX_WORK_PER_BYTE * streamed:
            module.globals.pop(block_fn.name)     # bound by compute: plain stores
            nontemporal = False
    if nontemporal:
        nt_size = desc.outputs[0][1].dtype.itemsize
        nt_shift = nt_size.bit_length() - 1
        nt_block = nt.BLOCK_BYTES // nt_size
        staging = []
        for _, o in desc.outputs:
            buf = b.alloca(ir.ArrayType(scalar.mem_type(o.dtype), nt_block), name="staging")
            buf.align = nt.ALIGN
            staging.append(b.gep(buf, [ir.Constant(_I64, 0), ir.Constant(_I64, 0)], inbounds=True))
    nest(0, idx)
    if nontemporal or staged_nt:
        nt.store_fence(module, b)
    b.ret_void()
    return fn


_ELEMENT = object()  # body(): return the prepared reduction element


def _split_lanes(red: Reduce | None, dims: list) -> int:
    """How many interleaved partial accumulators a float sum/prod over the innermost dim gets
    (0: a plain register accumulator).  Fixed per dtype, so results do not depend on the CPU."""
    if red is None or red.op not in ("sum", "prod") or not red.acc_dtype.is_floating_point:
        return 0
    lanes = 16 if red.acc_dtype.itemsize == 4 else 8
    return lanes if dims[-1] >= 2 * lanes else 0


def _out_count(red: Reduce, domain: tuple) -> int:
    count = 1
    for d, st in zip(domain, red.out.strides):
        if st != 0:
            count *= d
    return count


def _fill_identity(e: Emitter, loops: _Loops, ptr, red: Reduce, count: ir.Value,
                   first: ir.Value | None = None) -> None:
    """Store the reduction's identity into elements [first (default 0), count) of its (contiguous) output."""
    b = e.b
    ident = e.to_mem(e.cast(scalar.reduce_identity(e, red.op, red.acc_dtype), red.out_dtype))
    i, _, _ = loops.open("fill", first)
    b.store(ident, b.gep(ptr, [i], inbounds=True))
    loops.close(i, count, "fill")

