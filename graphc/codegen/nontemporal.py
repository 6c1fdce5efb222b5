"""Non-temporal stores for large elementwise outputs: when, and the pieces that emit them.

An elementwise kernel (no reduction) whose outputs, all of one element size, add up to at
least :data:`NONTEMPORAL_MIN_BYTES` (32 MiB, about a last-level cache) and whose element
function is cheap for the bytes it streams (``MAX_WORK_PER_BYTE``) writes them with
non-temporal stores on x86.  Why: a plain store to a line that is not cached first reads
it (read for ownership), so a kernel with k inputs moves k + 2 streams, not k + 1; and an
output that large cannot stay cached for the next kernel anyway.  Measured (2-core AVX2
host, float32, 64 MiB outputs): ``x * 1.5 + 0.5`` 22% faster, ``a * b + c`` 5-13%, the
softmax's final division 4%.  Below the size they hurt (3-6% slower at 16 MiB: the next
kernel misses on an output it could have found in cache), and so they do on kernels bound
by compute (``exp(x)`` 2-7% slower): there the output traffic overlaps the arithmetic
anyway and the staging copy below does not, so W1 keeps plain stores.  The loop
vectorizer refuses a non-temporal element store (x86 wants them aligned to the vector),
so each innermost row runs in blocks of 4 KiB of output: the elements before output 0's
first 64-byte boundary and the last partial block are stored directly; each full block
is computed into staging buffers that stay in L1 and copied out with aligned 32-byte
non-temporal stores.  The element loop is a function of its own (``<kernel>.block``), so
it is vectorized and register-allocated as in a kernel without blocks.  Several outputs
share the blocks only when they sit at one offset from a cache line (else they are
stored directly); rows shorter than two blocks keep plain stores.  An ``sfence`` ends the
kernel: the stores are weakly ordered, and another thread (a chunk, :mod:`.threads`) or
kernel reads them next.

:func:`graphc.codegen.lower.emit_kernel` asks :func:`use_nontemporal` and then writes each
innermost row in blocks (its element function stays one vectorized loop); this module holds
the rule, the block copy (:func:`copy_nontemporal`) and the closing fence (:func:`store_fence`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from llvmlite import ir

from .jit import host_target

__all__ = ["NONTEMPORAL_MIN_BYTES", "BLOCK_BYTES", "ALIGN", "MAX_WORK_PER_BYTE", "use_nontemporal",
           "instruction_count", "copy_nontemporal", "store_fence"]

_I64 = ir.IntType(64)

# elementwise kernels writing at least this many bytes store them non-temporally (module docstring)
NONTEMPORAL_MIN_BYTES = 32 << 20
BLOCK_BYTES = 4096      # one staging block per output (stays in L1)
ALIGN = 64              # blocks start on output cache lines
_VECTOR_BYTES = 32       # one non-temporal store (vmovntps ymm)
# a kernel is bound by compute, and keeps plain stores, when its element function's IR instructions
# times the element size (one vector instruction covers 32 // itemsize elements) exceed this many
# per byte it streams; float32 on AVX2: x * 1.5 + 0.5 (7.5) and a * b + c (4.8) gain, exp(x) * y
# (15) breaks even, exp(x) (20) and W1 (28) lose
MAX_WORK_PER_BYTE = 12


def use_nontemporal(desc, dims: list, strides: list) -> bool:
    """Whether the kernel's outputs are large enough, and laid out, for non-temporal stores (see the
    module docstring; emit_kernel then checks that the element function is cheap enough)."""
    if desc.reduce is not None or not desc.outputs or not dims or not _host_is_x86():
        return False
    if not all(isinstance(d, (int, np.integer)) for d in desc.domain):
        return False        # a size known only at run time (a dynamic plan): no way to tell
    sizes = {o.dtype.itemsize for _, o in desc.outputs}
    if len(sizes) != 1:
        return False
    size = sizes.pop()
    written = int(np.prod(desc.domain, dtype=np.int64)) * size * len(desc.outputs)
    n_in = len(desc.inputs)
    return (written >= NONTEMPORAL_MIN_BYTES
            and all(strides[n_in + k][-1] == 1 for k in range(len(desc.outputs)))
            and dims[-1] * size >= 2 * BLOCK_BYTES)


def instruction_count(fn: ir.Function) -> int:
    """IR instructions of ``fn``, counting the bodies of the module functions it calls (the
    mathlib helpers, inlined later) at each call."""
    count = 0
    for block in fn.blocks:
        for ins in block.instructions:
            count += 1
            callee = getattr(ins, "callee", None)
            if isinstance(ins, ir.CallInstr) and isinstance(callee, ir.Function) and callee.blocks:
                count += instruction_count(callee)
    return count


@lru_cache(maxsize=None)
def _host_is_x86() -> bool:
    # the sfence below is an x86 instruction; elsewhere the kernels keep plain stores
    return host_target().triple.split("-")[0] in ("x86_64", "amd64")


def copy_nontemporal(loops, dst: ir.Value, src: ir.Value, nbytes: int, tag: str) -> None:
    """Copy ``nbytes`` (a multiple of 64) from ``src`` to the 64-byte aligned ``dst`` with 32-byte
    non-temporal stores."""
    b = loops.b
    vec = ir.VectorType(ir.IntType(64), _VECTOR_BYTES // 8)
    d = b.bitcast(dst, vec.as_pointer())
    s = b.bitcast(src, vec.as_pointer())
    mark = b.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
    v, _, _ = loops.open(tag)
    x = b.load(b.gep(s, [v], inbounds=True), align=_VECTOR_BYTES)
    st = b.store(x, b.gep(d, [v], inbounds=True), align=_VECTOR_BYTES)
    st.set_metadata("nontemporal", mark)
    loops.close(v, ir.Constant(_I64, nbytes // _VECTOR_BYTES), tag)


def store_fence(module: ir.Module, b: ir.IRBuilder) -> None:
    """``sfence``: the non-temporal stores are weakly ordered; this makes them visible before the
    kernel returns (to the thread that waits for it, and to the next kernel)."""
    fn = module.globals.get("llvm.x86.sse.sfence")
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ir.VoidType(), []), name="llvm.x86.sse.sfence")
    b.call(fn, [])
