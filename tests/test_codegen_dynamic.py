"""dynamic=True on the llvm backend: one native module, with sizes computed from S at run time,
serves every batch size; sizes it cannot serve fall back to a plan of their own."""
import numpy as np
import pytest

import graphc as gc
import graphc.nn.functional as F
from graphc.codegen.symint import Sym
from graphc.static import GraphBreakWarning
from helpers import assert_matches, llvm_tol, sgd_train_step

SIZES = [5, 1, 2, 17, 64, 3]


def _runner(f):
    """The dynamic trace's native runner (batch sizes 0 and 1 get static traces, as in torch)."""
    (t,) = [t for t in f.traces if hasattr(t.executable._native, "generic")]
    return t.executable._native


def _check_generic(f, sizes_used):
    """The dynamic plan served every size >= 1 (no plan per size) with one module."""
    r = _runner(f)
    assert r.generic is not None, r.generic_error
    assert all(shapes[0][0] == 0 for (shapes, _) in r._plans), list(r._plans)
    assert all(r._generic_ok[s] for s in sizes_used if s >= 2)
    return r.generic


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_and_reductions_over_fixed_dims(dtype):
    w = gc.tensor(_rand(7, seed=9, dtype=dtype))     # captured: only arguments get a symbolic dim
    f = gc.compile(lambda x: (gc.tanh(x * w + 0.5) * gc.sigmoid(x)).sum(dim=1) - x.amax(dim=1), dynamic=True)
    for n in SIZES:
        x = _rand(n, 7, seed=n, dtype=dtype)
        want = (np.tanh(x * w.numpy() + 0.5) * (1 / (1 + np.exp(-x)))).sum(1) - x.max(1)
        assert_matches(f(gc.tensor(x)), want.astype(dtype), **llvm_tol(dtype))
    plan = _check_generic(f, SIZES)
    assert any(isinstance(d, Sym) for k in plan.kernels for d in k.domain)


def test_reductions_over_the_batch_dim_and_means():
    def fn(x):
        return x.sum(dim=0) * 2 + x.mean(dim=0) - x.var(dim=0), x.t().sum(dim=1), x.mean()

    f = gc.compile(fn, dynamic=True)
    for n in [40, 1, 2, 33, 7]:     # 33 and 40: the inner sum over S uses 16 lanes plus a tail
        x = _rand(n, 6, seed=n)
        a, b, c = f(gc.tensor(x))
        var = x.var(axis=0, ddof=1) if n > 1 else np.full(6, np.nan, np.float32)
        assert_matches(a, (x.sum(0) * 2 + x.mean(0) - var).astype(np.float32), rtol=1e-4, atol=1e-5)
        assert_matches(b, x.T.sum(1), rtol=1e-5, atol=1e-5)
        assert_matches(c, np.float32(x.mean()), rtol=1e-5, atol=1e-6)
    _check_generic(f, [40, 1, 2, 33, 7])


def test_softmax_rows_and_cross_entropy():
    def fn(x, t):
        return F.softmax(x, dim=-1), F.cross_entropy(x, t)

    f = gc.compile(fn, dynamic=True)
    for n in [8, 3, 1, 20]:
        x = _rand(n, 10, seed=n)
        t = np.random.default_rng(n).integers(0, 10, n)
        s, loss = f(gc.tensor(x), gc.tensor(t))
        e = np.exp(x - x.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        assert_matches(s, p, **llvm_tol(np.float32))
        assert_matches(loss, np.float32(-np.log(p[np.arange(n), t]).mean()), rtol=1e-5, atol=1e-6)
    _check_generic(f, [8, 3, 1, 20])


def test_mlp_training_step_matches_eager_for_several_batch_sizes():
    def make():
        gc.manual_seed(0)
        return gc.nn.Sequential(gc.nn.Linear(12, 16), gc.nn.ReLU(), gc.nn.Linear(16, 4))

    def stepper(model):
        return sgd_train_step(model, gc.optim.SGD(model.parameters(), lr=0.1))

    em, cm = make(), make()
    eager, compiled = stepper(em), gc.compile(stepper(cm), dynamic=True)
    sizes = [8, 5, 1, 8, 30]
    for i, n in enumerate(sizes):
        x = gc.tensor(_rand(n, 12, seed=i))
        t = gc.tensor(np.random.default_rng(i).integers(0, 4, n))
        want = eager(x, t)
        assert_matches(compiled(x, t), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    for pe, pc in zip(em.parameters(), cm.parameters()):
        assert_matches(pc, pe.detach().numpy(), rtol=1e-5, atol=1e-6)
    # two traces (the first call has no .grad yet); the second serves every later size
    t = compiled.traces[-1].executable._native
    assert t.generic is not None, t.generic_error
    assert all(shapes[0][0] == 0 for (shapes, _) in t._plans)
    assert t.generic.gemms, "matmuls with a symbolic size call BLAS from the one module"


def test_views_reshapes_and_concatenation_along_the_batch():
    def fn(x):
        y = x.view(x.shape[0], -1)             # (S, 12)
        z = gc.cat([y, y * 2], dim=0)          # (2S, 12)
        return z.exp().sum(dim=1), y.t().contiguous() + 1

    f = gc.compile(fn, dynamic=True)
    for n in [4, 1, 9]:
        x = _rand(n, 3, 4, seed=n)
        a, b = f(gc.tensor(x))
        y = x.reshape(n, -1)
        assert_matches(a, np.exp(np.concatenate([y, y * 2])).sum(1), **llvm_tol(np.float32))
        assert_matches(b, y.T + 1)
    _check_generic(f, [4, 1, 9])


def test_sizes_the_generic_plan_cannot_serve_get_their_own_plan():
    f = gc.compile(lambda x: (x[:4] * 2).exp(), dynamic=True)   # 4 rows, or fewer when S < 4
    for n in [6, 2, 9, 0]:
        x = _rand(n, 3, seed=n)
        assert_matches(f(gc.tensor(x)), np.exp(x[:4] * 2), **llvm_tol(np.float32))
    r = _runner(f)
    rows = sorted(shapes[0][0] for (shapes, _) in r._plans)
    assert rows == [2]        # 6 and 9 ran on the dynamic plan; 0 has a static trace of its own


def test_empty_batch_and_inspection():
    f = gc.compile(lambda x: x.exp().sum(dim=1), dynamic=True)
    assert_matches(f(gc.tensor(np.zeros((0, 5), np.float32))), np.zeros(0, np.float32))
    x = _rand(3, 5)
    assert_matches(f(gc.tensor(x)), np.exp(x).sum(1), **llvm_tol(np.float32))
    assert len(f.traces) == 2   # batch 0 is a static trace of its own, as torch specializes 0 and 1
    exe = f.traces[-1].executable
    assert "define" in exe.llvm_ir() and exe.kernels
    assert any("S" in repr(k) for k in exe.kernels)


def test_wrong_feed_sizes_still_raise():
    f = gc.compile(lambda x, y: x * y, dynamic=True)
    f(gc.tensor(_rand(3, 2)), gc.tensor(_rand(3, 2)))
    # leading sizes 4 and 5: the dynamic trace makes 4 symbolic, fails on x * y and retries static
    with pytest.raises(RuntimeError), pytest.warns(GraphBreakWarning):
        f(gc.tensor(_rand(4, 2)), gc.tensor(_rand(5, 2)))
