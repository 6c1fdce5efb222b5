"""Non-temporal stores of large elementwise outputs (graphc.codegen.nontemporal): the results are the
same as without them, and only large elementwise kernels get them.

The graph-level tests use the real threshold (``nontemporal.NONTEMPORAL_MIN_BYTES``, 32 MiB of output:
a few milliseconds per run).  Their reference for "the same kernel without non-temporal stores"
is the same graph compiled for a size below the threshold, run over slices of the inputs:
elementwise code computes each element the same way wherever it sits, so the results must be
equal bit for bit.  The kernel-level tests lower the threshold and call one kernel directly, to
place its outputs at every offset from a cache line and its row range anywhere.
"""
import ctypes
import platform
import re

import numpy as np
import pytest
from llvmlite import ir

import graphc as gc
from graphc import dtypes as _dt
from graphc.codegen import jit, nontemporal
from graphc.codegen.describe import Instr, KernelDesc, Operand
from graphc.codegen.lower import emit_kernel
from helpers import llvm_tol

X86 = platform.machine().lower() in ("x86_64", "amd64")
F32 = gc.float32
BIG = nontemporal.NONTEMPORAL_MIN_BYTES // 4          # float32 elements of one threshold-sized output


def _compile(fn, specs, monkeypatch, threads=2):
    monkeypatch.setenv("GRAPHC_THREADS", str(threads))
    g = gc.static.Graph()
    xs = [g.placeholder(f"x{i}", shape, dt) for i, (shape, dt) in enumerate(specs)]
    return g.compile(fn(*xs), backend="llvm")


def _run(exe, arrays):
    out = exe(**{f"x{i}": a for i, a in enumerate(arrays)})
    return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else [out])]


def _rand(*shape, seed=0):
    return (np.random.default_rng(seed).random(shape, dtype=np.float32) - 0.5) * 6


def _nontemporal(exe) -> bool:
    return "!nontemporal" in exe.llvm_ir()


def _expect_nontemporal(exe) -> None:
    # x86 hosts only: elsewhere every kernel keeps plain stores
    assert _nontemporal(exe) == X86


def _light(a, b, c):
    # bound by memory: a few IR instructions per byte moved (non-temporal stores pay)
    return gc.maximum(a * b + c, a) * 0.5 - c


def _light_numpy(a, b, c):
    return np.maximum(a * b + c, a) * np.float32(0.5) - c


def _w1(a, b, c):
    return gc.sigmoid(a * b + c) * gc.tanh(a) - 0.5 * c


# ============================================================================ large outputs
PART = BIG // 5 + 17            # 6.4 MiB outputs: plain stores
LARGE = 5 * PART                # just above the threshold, with a partial last block


@pytest.fixture(scope="module")
def large_inputs():
    return [_rand(LARGE, seed=s) for s in range(3)]


@pytest.mark.parametrize("threads", [1, 2])
def test_large_elementwise_output_equals_the_kernel_without_nontemporal_stores(threads, large_inputs, monkeypatch):
    big = _compile(_light, [((LARGE,), F32)] * 3, monkeypatch, threads)
    _expect_nontemporal(big)
    small = _compile(_light, [((PART,), F32)] * 3, monkeypatch, threads)
    assert not _nontemporal(small)
    (got,) = _run(big, large_inputs)
    want = np.concatenate([_run(small, [a[lo:lo + PART] for a in large_inputs])[0]
                           for lo in range(0, LARGE, PART)])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, _light_numpy(*large_inputs))
    if threads == 2:
        assert [k.threads for k in big.kernels] == [2]


@pytest.mark.skipif(not X86, reason="non-temporal stores are emitted on x86 only")
def test_large_output_loop_uses_vector_nontemporal_stores_and_a_fence(monkeypatch):
    exe = _compile(_light, [((BIG,), F32)] * 3, monkeypatch)
    asm = exe.asm()
    assert re.search(r"vmovntps|vmovntdq|movntps|movntdq", asm), "no vector non-temporal store"
    assert "sfence" in asm
    # the element loop itself stays vectorized (it stores to the staging buffer or the output)
    assert re.search(r"<(4|8|16) x float>", exe.llvm_ir())


def test_strided_input_large_output(monkeypatch):
    # a transposed input is read with a row stride; each output row of 2048 floats is a head up to
    # a cache line, one full block and a tail
    r, c = 4096, 2048
    exe = _compile(lambda x, z: x.t() * 2.0 + z, [((c, r), F32), ((r, c), F32)], monkeypatch)
    _expect_nontemporal(exe)
    assert exe.numpy_nodes == []
    x, z = _rand(c, r, seed=1), _rand(r, c, seed=2)
    (got,) = _run(exe, [x, z])
    np.testing.assert_array_equal(got, x.T * np.float32(2.0) + z)


def test_sliced_input_large_output(monkeypatch):
    # the slice runs as a numpy step; the kernel reads its result
    r, c = 4096, 2048
    exe = _compile(lambda x: x[:, 1:] * 3.0 - 1.0, [((r, c + 1), F32)], monkeypatch)
    _expect_nontemporal(exe)
    x = _rand(r, c + 1, seed=3)
    (got,) = _run(exe, [x])
    np.testing.assert_array_equal(got, x[:, 1:] * np.float32(3.0) - np.float32(1.0))


def test_broadcast_inputs_large_output(monkeypatch):
    r, c = 2048, 4099                               # odd rows: each row starts at another offset
    exe = _compile(lambda x, col, row: x * col + row, [((r, c), F32), ((r, 1), F32), ((c,), F32)], monkeypatch)
    _expect_nontemporal(exe)
    x, col, row = _rand(r, c, seed=4), _rand(r, 1, seed=5), _rand(c, seed=6)
    (got,) = _run(exe, [x, col, row])
    np.testing.assert_array_equal(got, x * col + row)


def test_two_large_outputs_of_one_kernel(monkeypatch):
    def fn(x):
        y = x * 3.0
        return y, y + 1.0

    n = BIG // 2                                    # the threshold counts both outputs
    exe = _compile(fn, [((n,), F32)], monkeypatch)
    assert len(exe.kernels) == 1
    _expect_nontemporal(exe)
    x = _rand(n, seed=7)
    y, z = _run(exe, [x])
    np.testing.assert_array_equal(y, x * np.float32(3.0))
    np.testing.assert_array_equal(z, x * np.float32(3.0) + np.float32(1.0))


# ============================================================================ plain stores
def test_small_outputs_keep_plain_stores(monkeypatch):
    for n in (4096, BIG - 16):                      # well below and just below the threshold
        exe = _compile(_light, [((n,), F32)] * 3, monkeypatch)
        assert exe.kernels and not _nontemporal(exe)
        assert "sfence" not in exe.asm()


def test_compute_bound_kernels_keep_plain_stores(monkeypatch, large_inputs):
    # log and sin: the polynomials hide the output's memory traffic, the staging copy would not be
    # hidden (such a kernel is not cut into stages either)
    fn = lambda a, b: gc.log(gc.abs(a) + 1.0) * gc.sin(b)
    exe = _compile(fn, [((LARGE,), F32)] * 2, monkeypatch)
    assert exe.kernels and exe.kernels[0].stages == 1 and not _nontemporal(exe)
    (got,) = _run(exe, large_inputs[:2])
    a, b, _ = large_inputs
    np.testing.assert_allclose(got, np.log(np.abs(a) + np.float32(1.0)) * np.sin(b), **llvm_tol(np.float32))


@pytest.mark.parametrize("threads", [1, 2])
def test_staged_kernels_store_large_output_blocks_nontemporally(threads, monkeypatch, large_inputs):
    # W1 runs in stages (graphc.codegen.staged): each output block is written to L1 first anyway,
    # and copying it out non-temporally saves the read for ownership
    w1 = _compile(_w1, [((LARGE,), F32)] * 3, monkeypatch, threads)
    assert w1.kernels[0].stages > 1
    _expect_nontemporal(w1)
    (got,) = _run(w1, large_inputs)
    a, b, c = large_inputs
    want = 1.0 / (1.0 + np.exp(-(a * b + c))) * np.tanh(a) - np.float32(0.5) * c
    np.testing.assert_allclose(got, want, **llvm_tol(np.float32))
    # and bit for bit what the kernel with plain stores computes
    small = _compile(_w1, [((PART,), F32)] * 3, monkeypatch)
    assert not _nontemporal(small)
    for i in range(0, LARGE - PART + 1, PART):
        (part,) = _run(small, [x[i:i + PART] for x in large_inputs])
        np.testing.assert_array_equal(got[i:i + PART], part)


def test_reduction_kernels_keep_plain_stores(monkeypatch):
    # an elementwise output fused with a reduction: the kernel has read-modify-write stores
    def fn(x):
        y = gc.exp(x)
        return y, y.sum()

    exe = _compile(fn, [((BIG,), F32)], monkeypatch)
    assert [k.reduction for k in exe.kernels] == ["sum"] and not _nontemporal(exe)
    x = _rand(BIG, seed=8) * 0.1
    y, s = _run(exe, [x])
    np.testing.assert_allclose(y, np.exp(x), **llvm_tol(np.float32))
    np.testing.assert_allclose(s, np.exp(x.astype(np.float64)).sum(), rtol=1e-4)   # float32 sum of 2**23


def test_short_rows_keep_plain_stores(monkeypatch):
    # rows of 256 floats (1 KiB) hold no full block: nothing to gain
    r, c = 1 << 15, 256
    exe = _compile(lambda x, row: x + row, [((r, c), F32), ((c,), F32)], monkeypatch)
    assert not _nontemporal(exe)


def test_group_without_lowering_falls_back_and_the_module_stays_valid(monkeypatch):
    # the integer floor division refuses to lower (it must raise on 0) after the large kernel's
    # block function was started: the half-built function must not stay in the module
    n = BIG
    exe = _compile(lambda x, y, z: ((x * 2) // y, z * 3.0), [((n,), gc.int32), ((n,), gc.int32), ((n,), F32)],
                   monkeypatch)
    assert exe.numpy_nodes and len(exe.kernels) == 1
    _expect_nontemporal(exe)
    rng = np.random.default_rng(11)
    x = rng.integers(-1000, 1000, n, dtype=np.int32)
    y = rng.integers(1, 50, n, dtype=np.int32)
    z = _rand(n, seed=12)
    q, w = _run(exe, [x, y, z])
    np.testing.assert_array_equal(q, (x * 2) // y)
    np.testing.assert_array_equal(w, z * np.float32(3.0))


# ============================================================================ one kernel, any alignment
N = 10_000          # elements: 2 (int8) to 19 (float64) full blocks and change
DTYPES = {"float32": _dt.float32, "float64": _dt.float64, "int8": _dt.int8}


@pytest.fixture(scope="module", params=sorted(DTYPES))
def add_mul_kernel(request):
    """``(k, dtype)``: ``k(a, b, y, z, stop, start)`` computes y = a + b, z = (a + b) * a over
    [start, stop), compiled with a threshold low enough for non-temporal stores."""
    dt = DTYPES[request.param]
    flat = Operand(dt, 0, (1,))
    desc = KernelDesc("nt_add_mul", (N,), [flat, flat],
                      [Instr(0, "add", [("in", 0), ("in", 1)], {}, dt, dt),
                       Instr(1, "mul", [("tmp", 0), ("in", 0)], {}, dt, dt)],
                      [(0, flat), (1, flat)])
    module = ir.Module("nt_test")
    saved = nontemporal.NONTEMPORAL_MIN_BYTES
    nontemporal.NONTEMPORAL_MIN_BYTES = 1
    try:
        emit_kernel(module, desc)
    finally:
        nontemporal.NONTEMPORAL_MIN_BYTES = saved
    cm = jit.compile_module(str(module))
    assert desc.split == N and ("!nontemporal" in str(module)) == X86
    return cm.get_function("nt_add_mul", None, [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 2), dt.np


def _at_offset(n, dtype, offset_bytes):
    """An array of n elements starting ``offset_bytes`` past a 64-byte boundary, filled with a
    value the kernel never writes (NaN, or -128 for int8)."""
    size = np.dtype(dtype).itemsize
    raw = np.empty(n * size + 128, np.uint8)
    skip = (-raw.ctypes.data) % 64 + offset_bytes
    a = raw[skip:skip + n * size].view(dtype)
    a.fill(np.nan if np.dtype(dtype).kind == "f" else -128)
    return a


def _untouched(a):
    return np.isnan(a).all() if a.dtype.kind == "f" else (a == -128).all()


@pytest.mark.parametrize("y_off,z_off", [(0, 0), (8, 8), (16, 16), (56, 56), (8, 16), (0, 32)])
@pytest.mark.parametrize("start,stop", [(0, N), (1, N - 3), (13, 1013), (5000, N), (0, 7)])
def test_kernel_outputs_at_any_alignment_and_range(add_mul_kernel, y_off, z_off, start, stop):
    kernel, dtype = add_mul_kernel
    rng = np.random.default_rng(9)
    if np.dtype(dtype).kind == "f":
        a, b = rng.standard_normal(N).astype(dtype), rng.standard_normal(N).astype(dtype)
    else:
        a, b = (rng.integers(-127, 128, N).astype(dtype) for _ in range(2))
    y, z = _at_offset(N, dtype, y_off), _at_offset(N, dtype, z_off)
    kernel(a.ctypes.data, b.ctypes.data, y.ctypes.data, z.ctypes.data, stop, start)
    s = a + b
    np.testing.assert_array_equal(y[start:stop], s[start:stop])
    np.testing.assert_array_equal(z[start:stop], (s * a)[start:stop])
    # nothing outside the range is written
    assert _untouched(y[:start]) and _untouched(y[stop:])
    assert _untouched(z[:start]) and _untouched(z[stop:])
