"""Elementwise kernels run in stages over blocks of a row (graphc.codegen.staged).

The reference for "the same kernel as one loop" is the same graph compiled for rows shorter
than ``staged.MIN_ROW`` (those run as one loop) and run over slices of the inputs:
elementwise code computes each element the same way wherever it sits, so staged results
must equal it bit for bit.  Against numpy they agree within the llvm backend's tolerance.
"""
import numpy as np
import pytest

import graphc as gc
from graphc import dtypes as _dt
from graphc.codegen import mathlib, staged
from graphc.codegen.describe import Instr, KernelDesc, Operand
from helpers import llvm_tol

F32, F64 = gc.float32, gc.float64
ROW = staged.MIN_ROW // 2       # rows this short run as one loop
BLOCK = staged.BLOCK_BYTES // 4  # float32 elements per block


def _compile(fn, specs, threads=1, monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setenv("GRAPHC_THREADS", str(threads))
    g = gc.static.Graph()
    xs = [g.placeholder(f"x{i}", shape, dt) for i, (shape, dt) in enumerate(specs)]
    return g.compile(fn(*xs), backend="llvm")


def _run(exe, arrays):
    return exe(**{f"x{i}": a for i, a in enumerate(arrays)}).numpy()


def _rand(n, dtype=np.float32, seed=0):
    return ((np.random.default_rng(seed).random(n) - 0.5) * 12).astype(dtype)


def _w1(a, b, c):
    return gc.sigmoid(a * b + c) * gc.tanh(a) - 0.5 * c


def _by_slices(fn, arrays, dtype):
    """fn's compiled result over 1-D arrays, computed ROW elements at a time (one-loop kernels)."""
    n = len(arrays[0])
    small = _compile(fn, [((ROW,), dtype)] * len(arrays))
    assert all(k.stages == 1 for k in small.kernels)
    out = np.empty(n, arrays[0].dtype)
    pad = (-n) % ROW
    padded = [np.concatenate([a, np.zeros(pad, a.dtype)]) for a in arrays]
    for i in range(0, n + pad, ROW):
        piece = _run(small, [a[i:i + ROW] for a in padded])
        out[i:min(i + ROW, n)] = piece[:min(ROW, n - i)]
    return out


@pytest.mark.parametrize("n", [staged.MIN_ROW, BLOCK, BLOCK + 1, 3 * BLOCK + 77])
def test_staged_w1_equals_the_one_loop_kernel_bit_for_bit(n):
    arrays = [_rand(n, seed=s) for s in range(3)]
    exe = _compile(_w1, [((n,), F32)] * 3)
    (kernel,) = exe.kernels
    assert kernel.stages == 3            # exp's cut, then sigmoid's and tanh's division
    assert "in 3 stages" in repr(kernel)
    np.testing.assert_array_equal(_run(exe, arrays), _by_slices(_w1, arrays, F32))


@pytest.mark.parametrize("threads", [1, 2])
def test_staged_kernel_cut_into_thread_ranges(threads, monkeypatch):
    n = (1 << 18) + 3 * BLOCK + 5       # large enough for two thread ranges
    arrays = [_rand(n, seed=s) for s in range(3)]
    exe = _compile(_w1, [((n,), F32)] * 3, threads, monkeypatch)
    assert exe.kernels[0].stages == 3
    np.testing.assert_array_equal(_run(exe, arrays), _by_slices(_w1, arrays, F32))


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stepped_functions_match_numpy_with_special_values(name, dtype):
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 5e-324, 0.549, -0.55,
                         9.0, -9.02, 20.0, 88.7, 89.0, -103.9, -104.0, 709.0, 710.0, -745.0, -750.0])
    x = np.concatenate([_rand(3 * BLOCK + 3, dtype), specials.astype(dtype)])
    exe = _compile(getattr(gc, name), [((len(x),), gc.float32 if dtype == np.float32 else F64)])
    assert exe.kernels[0].stages == mathlib.step_count(name) + 1
    ref = {"exp": np.exp, "tanh": np.tanh,
           "sigmoid": lambda v: 1 / (1 + np.exp(-v.astype(np.float64)))}[name]
    with np.errstate(over="ignore", under="ignore"):
        expected = ref(x).astype(dtype)
        got = _run(exe, [x])
    np.testing.assert_allclose(got, expected, **llvm_tol(dtype))
    # signs of zeros and NaN positions survive the buffers
    np.testing.assert_array_equal(np.signbit(got[expected == 0]), np.signbit(expected[expected == 0]))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))


def test_strided_and_broadcast_inputs_in_stages():
    r, c = 5, 2 * BLOCK + 9
    x = _rand(2 * r * c).reshape(r, 2 * c)          # every other column: stride 2
    col = _rand(r, seed=1).reshape(r, 1)              # broadcast along the row
    row = _rand(c, seed=2)
    exe = _compile(lambda a, b, d: gc.tanh(a[:, ::2] * b) + gc.exp(d * 0.1),
                   [((r, 2 * c), F32), ((r, 1), F32), ((c,), F32)])
    (tanh_kernel,) = [k for k in exe.kernels if "tanh" in k.ops]
    assert tanh_kernel.stages == 3
    got = exe(x0=x, x1=col, x2=row).numpy()
    expected = np.tanh(x[:, ::2] * col) + np.exp(row * np.float32(0.1))
    np.testing.assert_allclose(got, expected, **llvm_tol(np.float32))


def test_masks_and_integer_inputs_in_stages():
    n = 2 * BLOCK + 31
    x, y = _rand(n), _rand(n, seed=1)
    k = np.arange(n, dtype=np.int32) % 7 - 3
    exe = _compile(lambda a, b, i: gc.where(a > 0, gc.sigmoid(a * b), gc.exp(i)) + (a * b > 1),
                   [((n,), F32), ((n,), F32), ((n,), gc.int32)])
    assert exe.kernels[0].stages > 1
    got = exe(x0=x, x1=y, x2=k).numpy()
    z = (x * y).astype(np.float64)
    expected = np.where(x > 0, 1 / (1 + np.exp(-z)), np.exp(k.astype(np.float64))) + (x * y > 1)
    np.testing.assert_allclose(got, expected.astype(np.float32), **llvm_tol(np.float32))


def test_compiled_function_and_its_gradient_in_stages():
    n = 3 * BLOCK + 1
    a = gc.tensor(_rand(n), requires_grad=True)
    b = gc.tensor(_rand(n, seed=1), requires_grad=True)
    f = gc.compile(lambda x, y: (gc.sigmoid(x * y) * gc.tanh(x)).sum())
    f(a, b).backward()
    ga, gb = a.grad.numpy(), b.grad.numpy()
    a.grad = b.grad = None
    (gc.sigmoid(a * b) * gc.tanh(a)).sum().backward()
    np.testing.assert_allclose(ga, a.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_stage_buffers_are_cache_line_aligned_and_not_4k_apart():
    # misaligned buffers split a vector load in two on every other cache line, and buffers a
    # multiple of 4 KiB apart make loads wait on unrelated stores: both cost ~12% in L1
    import re
    exe = _compile(_w1, [((4 * BLOCK,), F32)] * 3)
    allocas = re.findall(r"%\S*st\.buf\S* = alloca \[(\d+) x (float|i8|i32|i64|double)\], align (\d+)",
                         exe.llvm_ir())
    assert len(allocas) >= 4
    sizes = {"float": 4, "i32": 4, "i8": 1, "i64": 8, "double": 8}
    for count, ty, align in allocas:
        nbytes = int(count) * sizes[ty]
        assert int(align) >= 64 and nbytes % 64 == 0, (count, ty, align)
        assert all((k * nbytes) % 4096 for k in range(1, len(allocas))), (count, ty)


def test_the_second_stage_prefetches_each_streamed_input_once_per_line():
    # inputs read element by element along the row are prefetched; a broadcast one is not
    exe = _compile(lambda a, b, c: gc.sigmoid(a * b + c) * gc.tanh(a),
                   [((4, 4 * BLOCK), F32), ((4, 4 * BLOCK), F32), ((4, 1), F32)])
    calls = [line for line in exe.llvm_ir().splitlines() if "call void @llvm.prefetch" in line]
    assert len(calls) == 2, calls
    exe64 = _compile(_w1, [((4 * BLOCK,), F64)] * 3)  # a chunk of 8 float64 is one line
    assert exe64.llvm_ir().count("call void @llvm.prefetch") == 3


# ------------------------------------------------------------------- the schedule itself
def _desc(instrs, outputs=((-1, F32),)):
    ops = [Operand(_dt.float32, 0, (1,)) for _ in range(3)]
    outs = [(len(instrs) - 1 if t == -1 else t, Operand(dt, 0, (1,))) for t, dt in outputs]
    return KernelDesc("k", (1024,), ops, instrs, outs)


def _instr(op, *args):
    return Instr(0, op, list(args), {}, _dt.float32, None)


def test_schedule_runs_cheap_members_as_late_as_their_consumers():
    # t0 = a*b; t1 = t0 + c; t2 = sigmoid(t1); t3 = tanh(a); t4 = t2*t3; t5 = 0.5*c; t6 = t4 - t5
    instrs = [_instr("mul", ("in", 0), ("in", 1)), _instr("add", ("tmp", 0), ("in", 2)),
              _instr("sigmoid", ("tmp", 1)), _instr("tanh", ("in", 0)),
              _instr("mul", ("tmp", 2), ("tmp", 3)), _instr("mul", ("in", 2), ("in", 2)),
              _instr("sub", ("tmp", 4), ("tmp", 5))]
    assert staged.schedule(_desc(instrs)) == [(0, 0), (0, 0), (0, 2), (0, 2), (2, 2), (2, 2), (2, 2)]


def test_schedule_chains_stepped_members():
    instrs = [_instr("exp", ("in", 0)), _instr("tanh", ("tmp", 0)), _instr("neg", ("in", 1))]
    # exp takes stages 0-1, tanh starts where exp ends; neg is an output only: the last stage
    assert staged.schedule(_desc(instrs, outputs=((1, F32), (2, F32)))) == [(0, 1), (1, 3), (3, 3)]


def test_no_schedule_without_stepped_members_or_with_a_reduction():
    assert staged.schedule(_desc([_instr("mul", ("in", 0), ("in", 1)), _instr("log", ("tmp", 0))])) is None
    assert staged.schedule(_desc([_instr("exp", ("in", 0))])) == [(0, 1)]
    desc = _desc([_instr("exp", ("in", 0))])
    desc.reduce = object()
    assert staged.schedule(desc) is None


def test_a_value_kept_across_a_step_without_yielding_it_is_refused(monkeypatch):
    def leaky(o, x):
        y = o.mul(x, x)
        (x2,) = yield (x,)
        return o.add(x2, y)      # y belongs to the first loop: it must be yielded

    monkeypatch.setitem(mathlib._STEPS, "tanh", (leaky, 1))
    with pytest.raises(AssertionError, match="without yielding"):
        _compile(gc.tanh, [((4 * BLOCK,), F32)])


# ------------------------------------------------- one kernel: non-temporal blocks, any alignment
N = 5000


def _build(dt, nontemporal_min, min_row):
    """``k(a, b, y, z, stop, start)``: y = tanh(a + b), z = exp(a) * y over [start, stop)."""
    import ctypes

    from llvmlite import ir

    from graphc.codegen import jit, nontemporal
    from graphc.codegen.lower import emit_kernel
    flat = Operand(dt, 0, (1,))
    desc = KernelDesc("st_nt", (N,), [flat, flat],
                      [Instr(0, "add", [("in", 0), ("in", 1)], {}, dt, None),
                       Instr(1, "tanh", [("tmp", 0)], {}, dt, None),
                       Instr(2, "exp", [("in", 0)], {}, dt, None),
                       Instr(3, "mul", [("tmp", 2), ("tmp", 1)], {}, dt, None)],
                      [(1, flat), (3, flat)])
    module = ir.Module("st_nt")
    saved = nontemporal.NONTEMPORAL_MIN_BYTES, staged.MIN_ROW
    nontemporal.NONTEMPORAL_MIN_BYTES, staged.MIN_ROW = nontemporal_min, min_row
    try:
        emit_kernel(module, desc)
    finally:
        nontemporal.NONTEMPORAL_MIN_BYTES, staged.MIN_ROW = saved
    cm = jit.compile_module(str(module))
    fn = cm.get_function("st_nt", None, [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 2)
    return cm, fn, desc.stages, "!nontemporal" in str(module)


@pytest.fixture(scope="module", params=["float32", "float64"])
def nt_kernels(request):
    dt = {"float32": _dt.float32, "float64": _dt.float64}[request.param]
    staged_nt = _build(dt, 1, staged.MIN_ROW)
    one_loop = _build(dt, 1 << 62, 1 << 62)
    assert staged_nt[2] == 3 and one_loop[2] == 1        # tanh: stages 0-2, exp 0-1, the mul in 2
    assert not one_loop[3]
    return staged_nt, one_loop, dt.np


def _at_offset(n, dtype, offset_bytes):
    size = np.dtype(dtype).itemsize
    raw = np.empty(n * size + 128, np.uint8)
    skip = (-raw.ctypes.data) % 64 + offset_bytes
    a = raw[skip:skip + n * size].view(dtype)
    a.fill(np.nan)
    return a


@pytest.mark.parametrize("y_off,z_off", [(0, 0), (8, 8), (16, 48), (56, 0)])
@pytest.mark.parametrize("start,stop", [(0, N), (3, N - 5), (100, 700), (0, 70)])
def test_nontemporal_output_blocks_at_any_alignment_and_range(nt_kernels, y_off, z_off, start, stop):
    (_, k_nt, _, has_nt), (_, k_one, _, _), dtype = nt_kernels
    import platform
    assert has_nt == (platform.machine().lower() in ("x86_64", "amd64"))
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(N).astype(dtype) * 3 for _ in range(2))
    results = []
    for kernel in (k_nt, k_one):
        y, z = _at_offset(N, dtype, y_off), _at_offset(N, dtype, z_off)
        kernel(a.ctypes.data, b.ctypes.data, y.ctypes.data, z.ctypes.data, stop, start)
        assert np.isnan(y[:start]).all() and np.isnan(y[stop:]).all()    # nothing outside the range
        assert np.isnan(z[:start]).all() and np.isnan(z[stop:]).all()
        results.append((y[start:stop].copy(), z[start:stop].copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][0], np.tanh(a + b)[start:stop], **llvm_tol(dtype))
