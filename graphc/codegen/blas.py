"""GEMM from the BLAS numpy already ships, called from generated code.

:func:`resolve_gemm` finds ``cblas_sgemm``/``cblas_dgemm`` at run time in the OpenBLAS that
numpy loads (``numpy.libs``/``numpy/.libs``, the ``scipy_openblas`` wheels, or any loaded
library with ``blas`` in its name, read from ``/proc/self/maps``); symbol names may carry a
prefix/suffix (``scipy_cblas_sgemm64_``).  Each candidate is checked with one small call
before it is trusted.  None found (or ``GRAPHC_BLAS=0``): matmul stays a numpy step.

:func:`plan_gemm` describes one matmul node as a :class:`GemmCall` (row-major cblas call,
``Trans`` for an operand whose column stride is not 1, a loop over broadcast batch dims),
and :func:`emit_gemm` writes that call into a segment driver.  The function pointer is read
from the plan's pointer table (never baked into the IR, which the disk cache keys on).

Integer arguments are passed as ``i64``: right for ILP64 builds, and on x86-64/aarch64
Linux an LP64 build reads the low 32 bits of the same register or 8-byte stack slot.
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from llvmlite import ir

from .. import dtypes as _dt
from .symint import NonAffine, emit_int

__all__ = ["GemmLib", "GemmCall", "resolve_gemm", "plan_gemm", "emit_gemm", "blas_threads", "split_rows",
           "GEMM_SPLIT_MIN_MACS"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_PREFIXES = ("scipy_", "")
_SUFFIXES = ("64_", "_64", "")


@dataclass(frozen=True)
class GemmLib:
    """The resolved functions: library path, symbol names and entry addresses per dtype."""

    path: str
    names: dict      # np.dtype -> symbol name
    addresses: dict  # np.dtype -> int


def _candidate_libraries() -> list:
    """Shared libraries that may hold numpy's BLAS, most likely first."""
    paths: list = []
    np_dir = os.path.dirname(np.__file__)
    dirs = [os.path.join(np_dir, ".libs"), os.path.join(os.path.dirname(np_dir), "numpy.libs")]
    for pkg in ("scipy_openblas64", "scipy_openblas32"):
        dirs.append(os.path.join(os.path.dirname(np_dir), pkg, "lib"))
    for d in dirs:
        if os.path.isdir(d):
            paths += sorted(os.path.join(d, f) for f in os.listdir(d)
                            if "blas" in f.lower() and (".so" in f or f.endswith(".dylib")))
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                p = line.split()[-1] if len(line.split()) >= 6 else ""
                if "blas" in os.path.basename(p).lower() and p not in paths:
                    paths.append(p)
    except OSError:
        pass
    return paths


def _sig(ct):
    return ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64,
                            ctypes.c_int64, ct, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ct,
                            ctypes.c_void_p, ctypes.c_int64)


def _works(addr: int, npd) -> bool:
    """One small row-major, transposed-B call compared with numpy: the signature is what we think."""
    ct = ctypes.c_float if npd == np.float32 else ctypes.c_double
    a = np.arange(6, dtype=npd).reshape(2, 3) + 1
    b = np.arange(12, dtype=npd).reshape(4, 3) - 2   # used transposed: (3, 4)
    c = np.full((2, 4), np.nan, dtype=npd)
    _sig(ct)(addr)(_ROW_MAJOR, _NO_TRANS, _TRANS, 2, 4, 3, ct(1.0), a.ctypes.data, 3, b.ctypes.data, 3,
                   ct(0.0), c.ctypes.data, 4)
    return bool(np.array_equal(c, a @ b.T))


@lru_cache(maxsize=None)
def resolve_gemm() -> GemmLib | None:
    """numpy's cblas ``sgemm``/``dgemm`` (checked by a test call), or None: matmul then runs in numpy."""
    if os.environ.get("GRAPHC_BLAS", "1").lower() in ("0", "off", "no", "false"):
        return None
    for path in _candidate_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pre in _PREFIXES:
            for suf in _SUFFIXES:
                names = {np.dtype(np.float32): f"{pre}cblas_sgemm{suf}", np.dtype(np.float64): f"{pre}cblas_dgemm{suf}"}
                try:
                    addrs = {d: ctypes.cast(getattr(lib, n), ctypes.c_void_p).value for d, n in names.items()}
                except AttributeError:
                    continue
                try:
                    if all(_works(a, d) for d, a in addrs.items()):
                        return GemmLib(path, names, addrs)
                except Exception:  # a symbol with another signature: try the next one
                    continue
    return None


@dataclass
class GemmCall:
    """One matmul node as row-major cblas calls: ``C[b] = op(A[b]) @ op(B[b])`` for every batch index.

    ``batch`` lists (size, a stride, b stride, c stride) per batch dim (elements); offsets are
    element offsets of A and B in their buffers; ``fn_slot`` is the table slot of the function.
    """

    node: int
    dtype: _dt.DType
    m: int
    n: int
    k: int
    trans_a: bool
    trans_b: bool
    lda: int
    ldb: int
    ldc: int
    off_a: int
    off_b: int
    batch: tuple
    fn_slot: int = -1
    name: str = "gemm"
    threads: int = 1     # how many row ranges the plan runs it as (set by the backend)


def _matrix_layout(rows: int, cols: int, sr: int, sc: int):
    """(transposed, leading dimension) for a rows x cols matrix with strides (sr, sc), or None."""
    if cols == 1 or sc == 1:
        ld = sr if rows > 1 else max(cols, 1)
        if ld >= max(cols, 1):
            return False, ld
    if rows == 1 or sr == 1:
        ld = sc if cols > 1 else max(rows, 1)
        if ld >= max(rows, 1):
            return True, ld
    return None


def plan_gemm(node: int, dtype: _dt.DType, a_shape: tuple, a_layout: tuple, b_shape: tuple, b_layout: tuple,
              out_shape: tuple) -> GemmCall | None:
    """A :class:`GemmCall` for ``matmul(a, b)`` (layouts: (element offset, strides)); None when
    the operands cannot be described to cblas (empty, overlapping or oddly strided) or no BLAS."""
    if dtype not in (_dt.float32, _dt.float64) or resolve_gemm() is None:
        return None
    if not a_shape or not b_shape or 0 in a_shape or 0 in b_shape or 0 in out_shape:
        return None
    (off_a, sa), (off_b, sb) = a_layout, b_layout
    if len(a_shape) == 1:               # a row vector (1, K)
        a_shape, sa = (1,) + tuple(a_shape), (0,) + tuple(sa)
    if len(b_shape) == 1:               # a column vector (K, 1)
        b_shape, sb = tuple(b_shape) + (1,), tuple(sb) + (0,)
    m, k = a_shape[-2:]
    n = b_shape[-1]
    la = _matrix_layout(m, k, sa[-2], sa[-1])
    lb = _matrix_layout(k, n, sb[-2], sb[-1])
    if la is None or lb is None:
        return None
    batch_a, batch_b = a_shape[:-2], b_shape[:-2]
    nb = max(len(batch_a), len(batch_b))
    batch_shape = tuple(out_shape[:nb])
    c_batch_strides = []
    step = m * n
    for d in reversed(batch_shape):
        c_batch_strides.append(step)
        step *= d
    c_batch_strides.reverse()
    batch = []
    for i, size in enumerate(batch_shape):
        if size == 1:
            continue

        def stride(shape, strides, i=i):
            j = i - (nb - (len(shape) - 2))
            return strides[j] if j >= 0 and shape[j] != 1 else 0

        batch.append((size, stride(a_shape, sa), stride(b_shape, sb), c_batch_strides[i]))
    return GemmCall(node, dtype, m, n, k, la[0], lb[0], la[1], lb[1], max(n, 1), off_a, off_b, tuple(batch))


@lru_cache(maxsize=None)
def blas_threads() -> int | None:
    """How many threads the resolved BLAS runs one call on (``openblas_get_num_threads``), or None
    when it cannot be asked."""
    lib = resolve_gemm()
    if lib is None:
        return None
    handle = ctypes.CDLL(lib.path)
    for pre in ("scipy_openblas", "openblas"):
        for suf in _SUFFIXES:
            fn = getattr(handle, f"{pre}_get_num_threads{suf}", None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return int(fn())
    return None


# a GEMM is cut into row ranges run on graphc's threads (threads.py) only when the BLAS runs each
# call on one thread (else it splits the work itself) and the call is big enough that waking a
# worker (about 25 us) is small beside it: 2**21 multiply-adds take about 60 us on one core here
GEMM_SPLIT_MIN_MACS = 1 << 21


def split_rows(call: GemmCall, threads: int) -> bool:
    """Whether ``call`` runs as row ranges on ``threads`` threads (see GEMM_SPLIT_MIN_MACS)."""
    if threads < 2 or call.batch or blas_threads() != 1:
        return False
    try:   # sizes of a dynamic plan compare as a large batch would
        return call.m >= 2 * threads and call.m * call.n * call.k >= GEMM_SPLIT_MIN_MACS
    except NonAffine:
        return call.m >= 2 * threads


def _mem(dtype: _dt.DType):
    return ir.FloatType() if dtype is _dt.float32 else ir.DoubleType()


def emit_gemm(b: ir.IRBuilder, table: ir.Value, call: GemmCall, slots: list, rows: tuple | None = None,
              size: ir.Value | None = None) -> None:
    """Emit ``call`` at the builder's position: A, B, C pointers from table ``slots``, the
    function from ``call.fn_slot``, one cblas call per batch index (nested loops).  ``rows``
    (``(start, stop)`` i64 values, unbatched calls only) computes only those rows of C, so
    disjoint ranges can run on several threads.  Sizes of a dynamic plan (symint.Sym) are computed
    from the run-time ``size``."""
    ft = _mem(call.dtype)
    fnty = ir.FunctionType(ir.VoidType(), [_I32, _I32, _I32, _I64, _I64, _I64, ft, ft.as_pointer(), _I64,
                                           ft.as_pointer(), _I64, ft, ft.as_pointer(), _I64])

    def load(slot, ty):
        return b.bitcast(b.load(b.gep(table, [ir.Constant(_I64, slot)], inbounds=True)), ty)

    fn = load(call.fn_slot, fnty.as_pointer())
    def i64(v):
        return emit_int(b, v, size)

    pa = b.gep(load(slots[0], ft.as_pointer()), [i64(call.off_a)])
    pb = b.gep(load(slots[1], ft.as_pointer()), [i64(call.off_b)])
    pc = load(slots[2], ft.as_pointer())
    m = i64(call.m)
    if rows is not None:
        start, stop = rows
        m = b.sub(stop, start)
        # row i of op(A) starts at i * lda, or at column i of a transposed A
        pa = b.gep(pa, [start if call.trans_a else b.mul(start, i64(call.lda))])
        pc = b.gep(pc, [b.mul(start, i64(call.ldc))])

    def body(a, bb, c):
        def i32(v):
            return ir.Constant(_I32, v)
        b.call(fn, [i32(_ROW_MAJOR), i32(_TRANS if call.trans_a else _NO_TRANS),
                    i32(_TRANS if call.trans_b else _NO_TRANS), m, i64(call.n), i64(call.k),
                    ir.Constant(ft, 1.0), a, i64(call.lda), bb, i64(call.ldb), ir.Constant(ft, 0.0), c,
                    i64(call.ldc)])

    def loop(dims, a, bb, c):
        if not dims:
            body(a, bb, c)
            return
        count, sa, sb, sc = dims[0]
        pre = b.block
        head = b.append_basic_block("gemm.batch")
        done = b.append_basic_block("gemm.done")
        n = i64(count)
        b.cbranch(b.icmp_signed(">", n, ir.Constant(_I64, 0)), head, done)   # a symbolic count may be 0
        b.position_at_end(head)
        i = b.phi(_I64)
        i.add_incoming(ir.Constant(_I64, 0), pre)
        loop(dims[1:], b.gep(a, [b.mul(i, i64(sa))]), b.gep(bb, [b.mul(i, i64(sb))]), b.gep(c, [b.mul(i, i64(sc))]))
        nxt = b.add(i, ir.Constant(_I64, 1))
        i.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_signed("<", nxt, n), head, done)
        b.position_at_end(done)

    loop(list(call.batch), pa, pb, pc)


def gemm_address(dtype: _dt.DType) -> int:
    """The entry address of the resolved gemm for ``dtype`` (resolve_gemm() must not be None)."""
    lib = resolve_gemm()
    return lib.addresses[np.dtype(dtype.np)]

