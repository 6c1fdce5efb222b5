"""matmul as a BLAS call from native code (graphc.codegen.blas): resolver, results against
numpy for 2-d/batched/vector/strided operands, the numpy fallback, and an MLP step."""
import copy

import numpy as np
import pytest

import graphc as gc
from graphc.codegen import blas
from helpers import assert_matches, sgd_train_step

F = gc.nn.functional
needs_blas = pytest.mark.skipif(blas.resolve_gemm() is None,
                                reason="no cblas sgemm/dgemm found in the BLAS numpy loads")
DTYPES = [(gc.float32, np.float32, 1e-5), (gc.float64, np.float64, 1e-12)]


def _compile(fn, specs):
    g = gc.static.Graph()
    xs = [g.placeholder(f"x{i}", shape, dt) for i, (shape, dt) in enumerate(specs)]
    return g.compile(fn(*xs), backend="llvm")


def _rand(shape, npd, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(npd)


def _ops(exe):
    return [exe.graph.op(n) for n in exe.numpy_nodes]


@needs_blas
def test_resolver_finds_a_checked_gemm():
    lib = blas.resolve_gemm()
    assert set(lib.names) == {np.dtype(np.float32), np.dtype(np.float64)}
    assert all("gemm" in n for n in lib.names.values())
    assert all(isinstance(a, int) and a for a in lib.addresses.values())
    assert blas.gemm_address(gc.float64) == lib.addresses[np.dtype(np.float64)]


@needs_blas
@pytest.mark.parametrize("dt,npd,tol", DTYPES)
@pytest.mark.parametrize("sa,sb", [
    ((5, 4), (4, 3)), ((1, 7), (7, 1)), ((1, 1), (1, 1)),
    ((2, 5, 4), (4, 3)), ((5, 4), (3, 4, 2)),          # batch on one side
    ((3, 1, 5, 4), (2, 4, 6)), ((2, 3, 2, 3), (2, 3, 3, 2)),  # broadcast batch dims
    ((4,), (4, 3)), ((5, 4), (4,)), ((4,), (4,)), ((4,), (2, 4, 3)),  # vectors
])
def test_native_matmul_matches_numpy(dt, npd, tol, sa, sb):
    a, b = _rand(sa, npd, 0), _rand(sb, npd, 1)
    exe = _compile(lambda x, y: x @ y, [(sa, dt), (sb, dt)])
    assert "matmul" not in _ops(exe)
    assert len(exe._native_for_inspection().gemms) == 1
    assert_matches(exe(x0=a, x1=b), np.matmul(a, b), rtol=tol, atol=tol)


@needs_blas
@pytest.mark.parametrize("dt,npd,tol", DTYPES)
def test_transposed_and_strided_operands(dt, npd, tol):
    a, b, c = _rand((4, 5), npd, 0), _rand((3, 4), npd, 1), _rand((2, 3, 6), npd, 2)

    def fn(x, y, z):
        t = x.permute(1, 0) @ y.permute(1, 0)                     # both transposed (alias strides)
        u = z.permute(0, 2, 1) @ y.expand(2, 3, 4)                 # batch stride 0 on the right
        v = x[:, ::2] @ x[:, ::2].permute(1, 0)                    # a strided view (numpy step) feeding gemm
        return t, u, v

    exe = _compile(fn, [((4, 5), dt), ((3, 4), dt), ((2, 3, 6), dt)])
    t, u, v = exe(x0=a, x1=b, x2=c)
    assert_matches(t, a.T @ b.T, rtol=tol, atol=tol)
    assert_matches(u, np.matmul(c.transpose(0, 2, 1), b), rtol=tol, atol=tol)
    assert_matches(v, a[:, ::2] @ a[:, ::2].T, rtol=tol, atol=tol)
    assert "matmul" not in _ops(exe)


@needs_blas
def test_epilogue_runs_in_the_same_segment():
    def fn(x, w, bias):
        return ((x @ w) + bias).relu().tanh()

    specs = [((8, 6), gc.float32), ((6, 5), gc.float32), ((5,), gc.float32)]
    arrays = [_rand(s, np.float32, i) for i, (s, _) in enumerate(specs)]
    exe = _compile(fn, specs)
    assert exe.numpy_nodes == []
    plan = exe._native_for_inspection()
    assert len(plan.gemms) == 1 and len(plan.kernels) == 1
    assert [kind for kind, _ in plan._run_steps] == ["native"]   # one driver: gemm, then the epilogue kernel
    want = np.tanh(np.maximum(arrays[0] @ arrays[1] + arrays[2], 0))
    assert_matches(exe(**{f"x{i}": a for i, a in enumerate(arrays)}), want, rtol=1e-5, atol=1e-6)


def test_falls_back_to_numpy_without_blas(monkeypatch):
    monkeypatch.setattr(blas, "resolve_gemm", lambda: None)
    a, b = _rand((5, 4), np.float32, 0), _rand((4, 3), np.float32, 1)
    exe = _compile(lambda x, y: (x @ y).exp(), [((5, 4), gc.float32), ((4, 3), gc.float32)])
    assert _ops(exe) == ["matmul"]
    assert_matches(exe(x0=a, x1=b), np.exp(a @ b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["int", "empty"])
def test_cases_blas_cannot_take_stay_numpy_steps(case):
    if case == "int":
        a, b = np.arange(12).reshape(3, 4), np.arange(8).reshape(4, 2)
        fn, specs = (lambda x, y: x @ y), [((3, 4), gc.int64), ((4, 2), gc.int64)]
    else:
        a, b = np.zeros((3, 0), np.float32), np.zeros((0, 2), np.float32)
        fn, specs = (lambda x, y: x @ y), [((3, 0), gc.float32), ((0, 2), gc.float32)]
    exe = _compile(fn, specs)
    assert _ops(exe) == ["matmul"]
    assert_matches(exe(x0=a, x1=b), np.matmul(a, b), rtol=1e-12, atol=1e-12)


@needs_blas
@pytest.mark.parametrize("case", ["broadcast_cols", "strided_cols"])
def test_operands_cblas_cannot_describe_are_copied_by_a_kernel_first(case):
    if case == "broadcast_cols":   # stride 0 inside the matrix
        a, b = _rand((4, 1), np.float64, 0), _rand((5, 3), np.float64, 1)
        fn, specs = (lambda x, y: x.expand(4, 5) @ y), [((4, 1), gc.float64), ((5, 3), gc.float64)]
        want = np.broadcast_to(a, (4, 5)) @ b
    else:                          # column stride 2 (a sliced view)
        a, b = _rand((4, 10), np.float64, 0), _rand((5, 3), np.float64, 1)
        fn, specs = (lambda x, y: x[:, ::2] @ y), [((4, 10), gc.float64), ((5, 3), gc.float64)]
        want = a[:, ::2] @ b
    exe = _compile(fn, specs)
    assert _ops(exe) == []
    assert [k.ops for k in exe.kernels] == [["clone"]]
    assert len(exe._native_for_inspection().gemms) == 1
    assert_matches(exe(x0=a, x1=b), want, rtol=1e-12, atol=1e-12)


def _mlp():
    gc.manual_seed(0)
    return gc.nn.Sequential(gc.nn.Linear(12, 16), gc.nn.ReLU(), gc.nn.Linear(16, 16), gc.nn.Tanh(),
                            gc.nn.Linear(16, 5))


@needs_blas
def test_mlp_forward_backward_matches_eager():
    m_eager = _mlp()
    m_comp = copy.deepcopy(m_eager)

    def make_step(model):
        opt = gc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        return sgd_train_step(model, opt)

    eager, comp = make_step(m_eager), gc.compile(make_step(m_comp), backend="llvm")
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = gc.tensor(rng.standard_normal((8, 12)).astype(np.float32))
        y = gc.tensor(rng.integers(0, 5, 8))
        np.testing.assert_allclose(comp(x, y).item(), eager(x, y).item(), rtol=1e-5)
    for pc, pe in zip(m_comp.parameters(), m_eager.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-4, atol=1e-5)
    exe = comp.traces[0].executable
    assert "matmul" not in {exe.graph.op(n) for n in exe.numpy_nodes}


@needs_blas
@pytest.mark.parametrize("dt,npd,tol", DTYPES)
@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True), (True, True)])
def test_large_gemm_runs_as_row_ranges_on_threads(monkeypatch, dt, npd, tol, transpose_a, transpose_b):
    # a single-threaded BLAS: graphc cuts big calls into row ranges on its own threads
    monkeypatch.setattr(blas, "blas_threads", lambda: 1)
    monkeypatch.setenv("GRAPHC_THREADS", "3")
    m, k, n = 131, 130, 129          # m*n*k above GEMM_SPLIT_MIN_MACS, rows not a multiple of 3
    assert m * n * k >= blas.GEMM_SPLIT_MIN_MACS
    a = _rand((k, m) if transpose_a else (m, k), npd, 0)
    b = _rand((n, k) if transpose_b else (k, n), npd, 1)

    def fn(x, y):
        x = x.permute(1, 0) if transpose_a else x
        y = y.permute(1, 0) if transpose_b else y
        return (x @ y + 1.0).relu()

    exe = _compile(fn, [(a.shape, dt), (b.shape, dt)])
    (call,) = exe._native_for_inspection().gemms
    assert call.threads == 3 and call.trans_a == transpose_a and call.trans_b == transpose_b
    aa = a.T if transpose_a else a
    bb = b.T if transpose_b else b
    assert_matches(exe(x0=a, x1=b), np.maximum(aa @ bb + 1.0, 0), rtol=tol, atol=tol)


@needs_blas
def test_small_or_batched_gemms_and_threaded_blas_stay_one_call(monkeypatch):
    monkeypatch.setenv("GRAPHC_THREADS", "2")
    monkeypatch.setattr(blas, "blas_threads", lambda: 1)
    small = _compile(lambda x, y: x @ y, [((8, 8), gc.float32), ((8, 8), gc.float32)])
    batched = _compile(lambda x, y: x @ y, [((2, 128, 128), gc.float32), ((128, 128), gc.float32)])
    assert [c.threads for c in small._native_for_inspection().gemms] == [1]
    assert [c.threads for c in batched._native_for_inspection().gemms] == [1]
    monkeypatch.setattr(blas, "blas_threads", lambda: 2)   # the BLAS splits the call itself
    big = _compile(lambda x, y: x @ y, [((256, 256), gc.float32), ((256, 256), gc.float32)])
    assert [c.threads for c in big._native_for_inspection().gemms] == [1]
