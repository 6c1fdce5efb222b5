"""gc.compile: tracing, the signature cache, dynamic batch sizes, compiled training steps, write-back."""
import os
import warnings

import numpy as np
import pytest

import graphc as gc
import graphc.nn as nn
import graphc.nn.functional as F
from graphc.static import RecompileWarning, TracingError
from helpers import assert_matches, line_of, llvm_tol

HERE = os.path.basename(__file__)


def _rand(*shape, seed=0):
    return gc.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _line_of(text: str) -> int:
    return line_of(__file__, text)


# ----------------------------------------------------------------------------- cache and retraces
def test_known_signatures_hit_the_cache_and_new_ones_retrace_with_a_reason(backend):
    calls = []

    @gc.compile(backend=backend)
    def f(x, k):
        calls.append(1)  # Python side effects run only while tracing
        return x * k + 1

    a, b = _rand(3, 4), _rand(3, 4, seed=1)
    assert_matches(f(a, 2), a.numpy() * 2 + 1)
    assert_matches(f(b, 2), b.numpy() * 2 + 1)
    assert len(calls) == 1
    f(_rand(5, 4), 2)
    f(_rand(5, 4).double(), 2)
    f(_rand(5, 4).double(), 3)
    f(_rand(5, 4).double().requires_grad_(), 3)
    assert len(calls) == 5
    assert f.retraces == [
        "first call",
        "arg 0 shape (3, 4) -> (5, 4)",
        "arg 0 dtype float32 -> float64",
        "arg 1 value 2 -> 3",
        "arg 0 requires_grad False -> True; arg 0 grad is new (None)",
    ]
    f(b, 2)  # still cached
    assert len(calls) == 5


def test_decorator_forms(backend, backend_tol):
    def body(x):
        return x.exp()

    plain = gc.compile(body)
    bare = gc.compile(body)

    @gc.compile()
    def called(x):
        return x.exp()

    @gc.compile(backend=backend, dynamic=True)
    def with_args(x):
        return x.exp()

    x = _rand(2, 3)
    assert plain.backend == bare.backend == called.backend == "llvm"  # the default backend
    for f in (plain, bare, called, with_args):
        assert isinstance(f, gc.static.CompiledFunction)
        want_tol = backend_tol(np.float32) if f is with_args else llvm_tol(np.float32)
        assert_matches(f(x), np.exp(x.numpy()), **want_tol)
    assert called.__name__ == "called" and with_args.dynamic
    with pytest.raises(ValueError, match="unknown backend"):
        gc.compile(body, backend="gpu")


def test_cache_is_bounded_and_warns_once(backend):
    @gc.compile(cache_size=2, backend=backend)
    def f(x):
        return x + 1

    f(_rand(1))
    f(_rand(2))
    with pytest.warns(RecompileWarning, match=r"traced 3 times.*cache holds \(2\).*arg 0 shape \(2,\) -> \(3,\)"):
        f(_rand(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(_rand(4))
    assert len(f.traces) == 2 and len(f.retraces) == 4
    f(_rand(1))  # evicted: traced again
    assert len(f.retraces) == 5


def test_module_mode_and_captured_state_are_part_of_the_signature(backend, backend_tol):
    gc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    f = gc.compile(lambda x: model(x), backend=backend, fullgraph=True)
    x = _rand(2, 3)
    model.eval()
    want = model(x).detach().numpy()
    assert_matches(f(x), want, **backend_tol(np.float32))
    model.train()
    with pytest.raises(TracingError, match="random op at .*random stream while gc.compile traces"):
        f(x)  # dropout in training mode draws random numbers: refused, not baked in
    model.eval()
    assert_matches(f(x), want, **backend_tol(np.float32))
    assert f.retraces == ["first call"]

    plain = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.0))
    g = gc.compile(lambda x: plain(x), backend=backend)
    g(x)
    plain.eval()
    g(x)
    assert g.retraces == ["first call", "plain.training True -> False; plain.0.training True -> False; "
                                        "plain.1.training True -> False"]


def test_random_ops_are_refused_and_leave_the_random_stream_alone():
    # tracing fails before any backend is involved: one backend is enough
    @gc.compile(fullgraph=True)
    def f(x):
        return x + gc.rand(3)

    gc.manual_seed(3)
    want = gc.rand(3)
    gc.manual_seed(3)
    with pytest.raises(TracingError, match=f"{HERE}:{_line_of('return x + gc.rand(3)')}"):
        f(_rand(3))
    assert_matches(gc.rand(3), want.numpy(), rtol=0, atol=0)
    assert not gc.Tensor._symbolic


def test_graphc_disable_compile_runs_eagerly(monkeypatch):
    # the default backend only: this is about skipping compilation, not about what runs the graph
    calls = []

    @gc.compile
    def f(x):
        calls.append(1)
        return x * 2

    monkeypatch.setenv("GRAPHC_DISABLE_COMPILE", "1")
    x = _rand(3)
    assert_matches(f(x), x.numpy() * 2)
    f(x)
    assert len(calls) == 2 and f.retraces == []
    monkeypatch.delenv("GRAPHC_DISABLE_COMPILE")
    f(x)
    f(x)
    assert len(calls) == 3 and f.retraces == ["first call"]


def test_data_dependent_control_flow_names_the_file_and_line():
    # tracing fails before any backend is involved: one backend is enough
    @gc.compile(fullgraph=True)
    def f(x):
        if x.sum() > 0:  # data-dependent
            return x
        return -x

    with pytest.raises(TracingError) as e:
        f(_rand(3))
    msg = str(e.value)
    assert f"{HERE}:{_line_of('if x.sum() > 0:  # data-dependent')}" in msg
    assert "built once" in msg and "gc.static.cond" in msg and "GRAPHC_DISABLE_COMPILE" in msg
    assert not gc.Tensor._symbolic  # the failed trace left eager mode intact
    assert_matches(-_rand(3), -_rand(3).numpy())


def test_results_keep_their_structure_and_have_no_history(backend):
    @gc.compile(backend=backend)
    def f(x, pair):
        a, b = pair
        return {"sum": x + a, "both": (x * b, 7)}

    x = _rand(2)
    r = f(x, (_rand(2, seed=1), _rand(2, seed=2)))
    assert set(r) == {"sum", "both"} and r["both"][1] == 7
    assert isinstance(r["sum"], gc.Tensor) and r["sum"].grad_fn is None
    assert_matches(r["both"][0], x.numpy() * _rand(2, seed=2).numpy())


def test_compiling_a_module(backend, backend_tol):
    gc.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    cm = gc.compile(model, backend=backend)
    x = _rand(3, 4)
    assert_matches(cm(x), model(x).detach().numpy(), **backend_tol(np.float32))
    graph = cm.traces[0].graph
    assert [graph.name(n) for n in graph.parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [graph.name(n) for n in graph.placeholders()] == ["input"]


def test_nested_compiled_functions_are_inlined(backend):
    inner = gc.compile(lambda x: x * 3, backend=backend)
    outer = gc.compile(lambda x: inner(x) + 1, backend=backend)
    x = _rand(4)
    assert_matches(outer(x), x.numpy() * 3 + 1)
    assert inner.retraces == []


# ----------------------------------------------------------------------------- dynamic batch sizes
def test_dynamic_keeps_the_batch_size_symbolic(backend, backend_tol):
    w = _rand(12, 5, seed=9)

    def f(x):
        h = x.view(x.shape[0], -1) @ w
        return h.tanh().mean(0), h[1:].sum(), x.flatten(1)[:, :2].mean()

    cf = gc.compile(f, dynamic=True, backend=backend)
    for n in (2, 5, 9, 1 + 1):
        x = _rand(n, 3, 4, seed=n)
        for got, want in zip(cf(x), f(x)):
            assert_matches(got, want.numpy(), **backend_tol(np.float32))
    assert cf.retraces == ["first call"]
    cf(_rand(4, 2, 6))  # another static dim: a new graph
    assert cf.retraces[-1] == "arg 0 shape (None, 3, 4) -> (None, 2, 6)"


def test_dynamic_training_step_with_a_batch_sized_mean(backend, backend_tol):
    gc.manual_seed(2)
    model = nn.Linear(4, 3)
    ref = nn.Linear(4, 3)
    ref.load_state_dict(model.state_dict())

    def step_of(m):
        def step(x, y):
            loss = F.mse_loss(m(x), y)
            loss.backward()
            with gc.no_grad():
                for p in m.parameters():
                    p -= 0.1 * p.grad
                    p.grad = None
            return loss
        return step

    step, eager = gc.compile(step_of(model), dynamic=True, backend=backend), step_of(ref)
    for i, n in enumerate((3, 8, 5)):
        x, y = _rand(n, 4, seed=i), _rand(n, 3, seed=10 + i)
        assert_matches(step(x, y), eager(x, y).detach().numpy(), **backend_tol(np.float32))
    for p, q in zip(model.parameters(), ref.parameters()):
        assert_matches(p.detach(), q.detach().numpy(), **backend_tol(np.float32))
    assert step.retraces == ["first call"]


# ----------------------------------------------------------------------------- training steps
def _mlp(seed=0):
    gc.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))


def _sgd_step(model, lr=0.05):
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with gc.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad = None
        return loss
    return step


def test_compiled_mlp_training_matches_eager_for_20_steps(backend):
    m_eager, m_comp = _mlp(), _mlp()
    eager, comp = _sgd_step(m_eager), gc.compile(_sgd_step(m_comp), backend=backend)
    rng = np.random.default_rng(0)
    for i in range(20):
        x = gc.tensor(rng.standard_normal((8, 6)).astype(np.float32))
        y = gc.tensor(rng.integers(0, 4, 8))
        le, lc = eager(x, y), comp(x, y)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-5)
        for p, q in zip(m_comp.parameters(), m_eager.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
            assert p.grad is None and q.grad is None
    assert comp.retraces == ["first call"]


def test_optimizer_step_with_momentum_matches_eager(backend, backend_tol):
    m_eager, m_comp = _mlp(1), _mlp(1)

    def step_of(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    o_e = gc.optim.SGD(m_eager.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    o_c = gc.optim.SGD(m_comp.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    eager, comp = step_of(m_eager, o_e), gc.compile(step_of(m_comp, o_c), backend=backend)
    rng = np.random.default_rng(1)
    for i in range(6):
        x = gc.tensor(rng.standard_normal((5, 6)).astype(np.float32))
        y = gc.tensor(rng.integers(0, 4, 5))
        assert_matches(comp(x, y), eager(x, y).detach().numpy(), **backend_tol(np.float32))
        for p, q in zip(m_comp.parameters(), m_eager.parameters()):
            assert_matches(p.detach(), q.detach().numpy(), **backend_tol(np.float32))
            assert_matches(p.grad, q.grad.numpy(), **backend_tol(np.float32))
            assert_matches(o_c.state[p]["momentum_buffer"], o_e.state[q]["momentum_buffer"].numpy(),
                           **backend_tol(np.float32))
    # the first step creates the momentum buffers (and leaves .grad set): one more trace, then the cache
    assert len(comp.retraces) == 2


def test_parameter_updates_and_grads_are_written_back(backend):
    w = gc.tensor([1.0, 2.0], requires_grad=True)

    @gc.compile(backend=backend)
    def step(x):
        (w * x).sum().backward()
        with gc.no_grad():
            w.sub_(0.5 * w.grad)

    x = gc.tensor([1.0, 3.0])
    step(x)
    assert_matches(w.detach(), np.array([0.5, 0.5], np.float32))
    assert_matches(w.grad, np.array([1.0, 3.0], np.float32))
    assert w.is_leaf and w.requires_grad
    step(x)  # .grad is set now: backward accumulates into it, as in eager mode
    assert_matches(w.grad, np.array([2.0, 6.0], np.float32))
    assert_matches(w.detach(), np.array([-0.5, -2.5], np.float32))
    assert step.retraces == ["first call", "w grad None -> set"]


def test_grads_of_tensor_arguments_are_written_back(backend):
    @gc.compile(backend=backend)
    def f(x):
        (x * x).sum().backward()
        return x.grad * 1

    x = gc.tensor([1.0, -2.0], requires_grad=True)
    assert_matches(f(x), np.array([2.0, -4.0], np.float32))
    assert_matches(x.grad, np.array([2.0, -4.0], np.float32))
    f(x)
    assert_matches(x.grad, np.array([4.0, -8.0], np.float32))


def test_captured_state_written_in_place_persists_and_local_buffers_start_fresh(backend):
    count = gc.zeros((), dtype=gc.int64)

    @gc.compile(backend=backend)
    def f(x):
        count.add_(1)
        buf = gc.zeros(2)
        buf += x
        buf[0] = buf[0] * 10
        return buf

    x = gc.tensor([1.0, 2.0])
    for i in range(3):
        assert_matches(f(x), np.array([10.0, 2.0], np.float32))
    assert count.item() == 3 and len(f.retraces) == 1


def test_a_failed_trace_leaves_eager_state_unchanged():
    # tracing fails before any backend is involved: one backend is enough
    p = gc.tensor([1.0, 2.0], requires_grad=True)
    p.grad = gc.tensor([5.0, 5.0])

    @gc.compile
    def f(x):
        (p * x).sum().backward()
        with gc.no_grad():
            p.sub_(p.grad)
        p.grad = None
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        f(gc.ones(2))
    assert_matches(p.detach(), np.array([1.0, 2.0], np.float32))
    assert_matches(p.grad, np.array([5.0, 5.0], np.float32))
    assert not gc.Tensor._symbolic and gc.tensor([1.0]).item() == 1.0


def test_reading_a_value_written_during_the_trace_is_an_error():
    # tracing fails before any backend is involved: one backend is enough
    t = gc.tensor([1.0])

    @gc.compile(fullgraph=True)
    def f(x):
        t.add_(x)
        return t.item()  # the new value exists only when the graph runs

    with pytest.raises(TracingError, match=f"{HERE}:{_line_of('return t.item()  # the new value')}"):
        f(gc.tensor([2.0]))
    assert t.item() == 1.0


def test_llvm_backend_runs_compiled_functions():
    f = gc.compile(lambda x: x + 1, backend="llvm")
    assert_matches(f(gc.tensor([1.0])), np.array([2.0], np.float32))
    assert f.traces[0].executable.backend == "llvm"


def test_captured_tensors_and_buffers_are_read_at_each_call(backend):
    scale = gc.tensor([2.0, 3.0])
    model = nn.Linear(2, 2)
    model.weight.requires_grad_(False)  # frozen: still state, not a constant

    @gc.compile(backend=backend)
    def f(x):
        return model(x) * scale

    x = gc.tensor([[1.0, 1.0]])
    f(x)
    with gc.no_grad():
        scale.mul_(10)
        model.weight.zero_()
        model.bias.fill_(1.0)
    assert_matches(f(x), np.array([[20.0, 30.0]], np.float32))
    assert len(f.retraces) == 1


def test_autograd_grad_inside_a_compiled_function(backend):
    w = gc.tensor([1.0, 2.0, 3.0], requires_grad=True)

    @gc.compile(backend=backend)
    def f(x):
        (gw,) = gc.autograd.grad((w * x).pow(2).sum(), [w])
        return gw

    x = gc.tensor([1.0, 0.5, 2.0])
    assert_matches(f(x), 2 * (w.detach().numpy() * x.numpy()) * x.numpy())
    assert w.grad is None


def test_modules_and_optimizers_as_arguments(backend, backend_tol):
    def step(model, opt, x):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()

    m1, m2 = nn.Linear(3, 2), nn.Linear(3, 2)
    m2.load_state_dict(m1.state_dict())
    o1, o2 = gc.optim.SGD(m1.parameters(), lr=0.1), gc.optim.SGD(m2.parameters(), lr=0.1)
    cstep = gc.compile(step, backend=backend)
    for i in range(3):
        x = _rand(4, 3, seed=i)
        cstep(m1, o1, x)
        step(m2, o2, x)
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert_matches(p.detach(), q.detach().numpy(), **backend_tol(np.float32))
    names = sorted(cstep.traces[-1].graph.name(n) for n in cstep.traces[-1].graph.parameters())
    assert names == ["model.bias", "model.weight"]


def test_python_arithmetic_on_a_dynamic_size(backend, backend_tol):
    @gc.compile(dynamic=True, backend=backend)
    def f(x):
        n = x.shape[0]
        return x.sum(0) / n, x.sum() / (n - 1), gc.ones(n, 2) * 2

    for n in (3, 6):
        x = _rand(n, 2, seed=n)
        a, b, c = f(x)
        assert_matches(a, (x.sum(0) / n).numpy(), **backend_tol(np.float32))
        assert_matches(b, (x.sum() / (n - 1)).numpy(), **backend_tol(np.float32))
        assert_matches(c, np.full((n, 2), 2.0, np.float32))
    assert len(f.retraces) == 1

    @gc.compile(dynamic=True, backend=backend, fullgraph=True)
    def g(x):
        return x * (1.0 / x.shape[0])

    with pytest.raises(TracingError, match="looks like 1 / \\(a symbolic size\\)"):
        g(_rand(3, 2))


def test_in_place_writes_to_arguments_reach_them(backend, backend_tol):
    def fn(a, b):
        a[0] = 5.0                 # through a view
        b.add_(a.sum())            # a whole argument
        return a * 2

    def run(f):
        a = gc.tensor(np.arange(3, dtype=np.float32))
        b = gc.tensor(np.zeros(2))
        va, vb = a._version.v, b._version.v
        r = f(a, b)
        return r, a, b, a._version.v > va, b._version.v > vb

    f = gc.compile(fn, backend=backend)
    for _ in range(2):   # the first call traces, the second runs the compiled graph
        got, want = run(f), run(fn)
        for g_, w_ in zip(got[:3], want[:3]):
            assert_matches(g_, w_.numpy(), **backend_tol(w_.dtype))
        assert got[3:] == want[3:] == (True, True)
    untouched = gc.tensor(np.ones(2, np.float32))
    v = untouched._version.v
    gc.compile(lambda a: a * 3, backend=backend)(untouched)
    assert untouched._version.v == v and untouched.numpy().tolist() == [1.0, 1.0]


_SCALE = 2.0


def test_captured_python_numbers_are_part_of_the_signature(backend):
    global _SCALE
    shift = 2

    def fn(x):
        return x * _SCALE + shift

    f = gc.compile(fn, backend=backend)
    x = _rand(3)
    try:
        assert_matches(f(x), x.numpy() * 2 + 2)
        _SCALE = 3.0            # a new value: a new graph, not the constant baked into the first one
        assert_matches(f(x), x.numpy() * 3 + 2)
        _SCALE = float("3.0")   # another object, the same value: no retrace
        assert_matches(f(x), x.numpy() * 3 + 2)
        shift = 5               # a closure cell
        assert_matches(f(x), x.numpy() * 3 + 5)
        assert f.retraces == ["first call", "_SCALE '2.0' -> '3.0'", "shift '2' -> '5'"]
    finally:
        _SCALE = 2.0


def _var_dof(x):
    # torch divides by max(0, N - correction): with N the batch size that max must run with the graph
    return x.var(0), x.var(0, correction=2), x.std(0, unbiased=False)


def _softmax_batch(x):
    # the size-0 check of softmax runs at the stand-in size: a batch of 0 must still work
    return F.softmax(x, 0), F.log_softmax(x * 2, 0), F.softmax(x, 1)


@pytest.mark.parametrize("fn", [_var_dof, _softmax_batch], ids=["var_dof", "softmax_batch"])
def test_dynamic_size_edge_cases_match_eager_down_to_an_empty_batch(backend, fn):
    cf = gc.compile(fn, backend=backend, dynamic=True)
    for n in (5, 2, 1, 0, 3):
        x = _rand(n, 4, seed=n)
        for got, want in zip(cf(x), fn(x)):
            assert_matches(got, want.numpy(), rtol=1e-5, atol=1e-6)
    assert len(cf.retraces) == 3   # 5, 2 and 3 share the dynamic trace; 1 and 0 are fixed, as in torch
