"""gc.compile where tracing alone falls short: eager fallback ("graph break"), dynamic -> static, fullgraph=True,
data-dependent shapes, and value checks (loss targets) that must run at every call."""
import warnings

import numpy as np
import pytest

import graphc as gc
import graphc.nn as nn
from graphc.static import GraphBreakWarning, TracingError
from helpers import assert_matches


def _rand(*shape, seed=0):
    return gc.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def test_data_dependent_branch_runs_eagerly_with_one_warning(backend):
    def f(x):
        if x.sum() > 0:  # needs the tensor's value: no static graph
            return x * 2
        return x - 1

    cf = gc.compile(f, backend=backend)
    pos, neg = _rand(3).abs(), -_rand(3, seed=1).abs()
    with pytest.warns(GraphBreakWarning, match="cannot be traced, so this signature runs eagerly"):
        assert_matches(cf(pos), pos.numpy() * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per function
        assert_matches(cf(neg), neg.numpy() - 1)
    assert cf.retraces == ["first call; runs eagerly"]
    with pytest.raises(TracingError, match="gc.static.cond"):
        gc.compile(f, backend=backend, fullgraph=True)(pos)


def test_eager_fallback_keeps_autograd_and_data_dependent_shapes(backend):
    def loss(x):
        return (x[x > 0] ** 2).sum()  # boolean-mask indexing: a data-dependent shape

    x = gc.tensor(_rand(6).numpy(), requires_grad=True)
    with pytest.warns(GraphBreakWarning):
        out = gc.compile(loss, backend=backend)(x)
    out.backward()
    xs = x.detach().numpy()
    assert_matches(out.detach(), np.array((xs[xs > 0] ** 2).sum(), np.float32), rtol=1e-5, atol=1e-6)
    assert_matches(x.grad, np.where(xs > 0, 2 * xs, 0).astype(np.float32), rtol=1e-6, atol=1e-6)


def test_dropout_in_training_mode_runs_eagerly_and_draws_like_eager(backend):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    cf = gc.compile(lambda x: model(x), backend=backend)
    x = _rand(8, 4)
    gc.manual_seed(5)
    want = model(x).detach().numpy()
    gc.manual_seed(5)
    with pytest.warns(GraphBreakWarning, match="random op"):
        got = cf(x)
    assert_matches(got.detach(), want, rtol=0, atol=0)
    model.eval()  # now traceable: a compiled graph again
    assert_matches(cf(x).detach(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert cf.retraces[-1].startswith("model.training True -> False")


def test_dynamic_trace_that_fails_retries_with_static_shapes(backend):
    def f(x, w):  # halving the batch size is not affine in it: the dynamic trace gives up
        return x[: x.shape[0] // 2] @ w

    cf = gc.compile(f, backend=backend, dynamic=True)
    w = _rand(4, 5, seed=1)
    with pytest.warns(GraphBreakWarning, match="dynamic=True trace failed, so it runs with static shapes"):
        got = cf(_rand(6, 4), w)
    assert_matches(got, _rand(6, 4).numpy()[:3] @ w.numpy(), rtol=1e-5, atol=1e-5)
    assert_matches(cf(_rand(8, 4), w), _rand(8, 4).numpy()[:4] @ w.numpy(), rtol=1e-5, atol=1e-5)
    assert not cf.dynamic and len(cf.retraces) == 2 and "static shapes" in cf.retraces[0]
    with pytest.raises(TracingError):
        gc.compile(f, backend=backend, dynamic=True, fullgraph=True)(_rand(6, 4), w)


def test_only_arguments_with_the_batch_size_get_the_symbolic_dim(backend):
    # a weight (4, 5) beside a batch (3, 4), and a broadcasting (1, 4), keep their leading sizes
    cf = gc.compile(lambda x, w, b: (x + b) @ w, backend=backend, dynamic=True)
    w, b = _rand(4, 5, seed=1), _rand(1, 4, seed=2)
    for n in (3, 7, 2):
        x = _rand(n, 4, seed=n)
        assert_matches(cf(x, w, b), (x.numpy() + b.numpy()) @ w.numpy(), rtol=1e-5, atol=1e-5)
    assert cf.dynamic and len(cf.retraces) == 1


def test_genuine_errors_are_raised_not_hidden(backend):
    cf = gc.compile(lambda x, y: x + y, backend=backend)
    with pytest.raises(RuntimeError, match="size"):
        cf(_rand(3), _rand(4))
    cf = gc.compile(lambda x, y: x + y, backend=backend, dynamic=True)
    with pytest.raises(RuntimeError, match="size"), pytest.warns(GraphBreakWarning):
        cf(_rand(3, 2), _rand(3, 3))


@pytest.mark.filterwarnings("ignore::graphc.static.GraphBreakWarning")  # x[x > 0] runs eagerly
def test_data_dependent_shapes_run_on_the_interpreter_under_llvm(backend):
    x = gc.tensor([1.0, 0.0, 2.0, -3.0])
    cases = [lambda x: gc.nonzero(x), lambda x: gc.masked_select(x, x > 0).sum() * 2,
             lambda x: gc.nonzero(x, as_tuple=True)[0] + 1, lambda x: gc.where(x.reshape(2, 2) > 0)[1],
             lambda x: x[x > 0] * 2]
    for fn in cases:
        cf = gc.compile(fn, backend=backend)
        assert_matches(cf(x), fn(x).numpy())
        assert_matches(cf(-x), fn(-x).numpy())  # another count of nonzeros: another shape, same graph
    exe = gc.compile(cases[0], backend=backend).trace_for(x).executable
    if backend == "llvm":
        with pytest.raises(RuntimeError, match="data-dependent shapes"):
            exe.kernels


def test_like_factories_follow_the_batch_size_under_dynamic(backend):
    cases = [lambda x: gc.ones_like(x), lambda x: gc.full_like(x, 2.5), lambda x: gc.zeros_like(x).cumsum(0) + 1,
             lambda x: gc.ones_like(x, dtype=gc.int64), lambda x: gc.empty_like(x).fill_(3.0)]
    for fn in cases:
        cf = gc.compile(fn, backend=backend, dynamic=True)
        for n in (3, 5, 1, 0):
            x = _rand(n, 2)
            assert_matches(cf(x), fn(x).numpy())
        assert len(cf.retraces) == 3   # 3 and 5 share the dynamic trace; 1 and 0 are fixed, as in torch


def test_compiled_losses_check_values_like_eager(backend):
    F = gc.nn.functional
    ce = gc.compile(lambda x, t: F.cross_entropy(x, t), backend=backend)
    x = _rand(3, 4)
    assert_matches(ce(x, gc.tensor([0, 3, -100])), F.cross_entropy(x, gc.tensor([0, 3, -100])).numpy(),
                   rtol=1e-5, atol=1e-6)
    for bad in ([0, 4, 1], [-1, 0, 1]):  # the cached graph checks at every call
        with pytest.raises(IndexError, match=f"Target {bad[1] if bad[1] == 4 else -1} is out of bounds"):
            ce(x, gc.tensor(bad))
    bce = gc.compile(lambda p, t: F.binary_cross_entropy(p, t), backend=backend)
    t = gc.tensor([1.0, 0.0])
    assert_matches(bce(gc.tensor([0.25, 0.5]), t), F.binary_cross_entropy(gc.tensor([0.25, 0.5]), t).numpy())
    for p in ([1.5, 0.5], [0.5, float("nan")]):
        with pytest.raises(RuntimeError, match="should be between 0 and 1"):
            bce(gc.tensor(p), t)


def test_explain_names_why_a_signature_runs_eagerly():
    def f(x):
        return x * 2 if x.sum() > 0 else x

    with pytest.raises(TracingError, match="gc.static.cond"):
        gc.static.explain(f, _rand(3))
    cf = gc.compile(f)
    with pytest.warns(GraphBreakWarning):
        cf(_rand(3))
    with pytest.raises(TracingError, match="runs eagerly for these arguments"):
        gc.static.explain(cf, _rand(3))


@pytest.mark.parametrize("piece", [lambda x: x.chunk(2, 0)[0], lambda x: gc.tensor_split(x, 2, 0)[1],
                                   lambda x: x.split(2)[-1] * 2, lambda x: x.chunk(3, 0)[-1]])
def test_splitting_the_batch_dim_retraces_with_static_shapes(backend, piece):
    # ceil(S / 2), S % 2, ...: not a * S + b, so a dynamic graph would keep the stand-in size's pieces
    cf = gc.compile(piece, backend=backend, dynamic=True)
    with pytest.warns(GraphBreakWarning, match="not affine in the batch size"):
        cf(_rand(6, 2))
    for n in (6, 4, 5, 3):
        x = _rand(n, 2, seed=n)
        assert_matches(cf(x), piece(x).numpy())
    assert not cf.dynamic


def test_splitting_other_dims_or_by_sizes_stays_dynamic(backend):
    for fn in (lambda x: x.chunk(2, 1)[0] + 1, lambda x: x.split([1, x.shape[0] - 1])[1]):
        cf = gc.compile(fn, backend=backend, dynamic=True)
        for n in (6, 4, 3):
            x = _rand(n, 4, seed=n)
            assert_matches(cf(x), fn(x).numpy())
        assert cf.dynamic and len(cf.retraces) == 1


@pytest.mark.parametrize("backend", ["interp", "llvm"])
def test_python_state_changed_inside_the_function_runs_eagerly(backend):
    # scheduler.step() (or an lr set) changes Python state once per call eagerly; a cached graph
    # would run it only while tracing, so such a function runs eagerly (with the state restored
    # after the trace, so it is not stepped twice)
    def run(compiled):
        m = gc.nn.Linear(3, 1)
        with gc.no_grad():
            m.weight.copy_(gc.tensor([[0.1, -0.2, 0.3]]))
            m.bias.zero_()
        opt = gc.optim.SGD(m.parameters(), lr=0.1)
        sch = gc.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = gc.nn.functional.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            sch.step()
            return loss

        if compiled:
            step = gc.compile(step, backend=backend)
        x, y = gc.ones(2, 3), gc.zeros(2, 1)
        seen = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GraphBreakWarning)
            for _ in range(5):
                seen.append((float(step(x, y)), sch.last_epoch, opt.param_groups[0]["lr"]))
        return seen, m.weight.detach().numpy()

    (got, w_got), (want, w_want) = run(True), run(False)
    assert [g[1:] for g in got] == [w[1:] for w in want] == [(1, 0.1), (2, 0.05), (3, 0.05), (4, 0.025), (5, 0.025)]
    np.testing.assert_allclose([g[0] for g in got], [w[0] for w in want], rtol=1e-6)
    np.testing.assert_allclose(w_got, w_want, rtol=1e-6)


@pytest.mark.parametrize("backend", ["interp", "llvm"])
def test_a_break_after_an_adam_step_leaves_the_optimizer_state_as_eager_would(backend):
    # the failed trace had filled opt.state with a 'step' and no moments: every eager call then
    # raised KeyError('exp_avg')
    def run(compiled):
        gc.manual_seed(0)
        m = gc.nn.Linear(3, 1)
        opt = gc.optim.Adam(m.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = gc.nn.functional.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            return loss.item()                 # a graph break after the step

        if compiled:
            step = gc.compile(step, backend=backend)
        x, y = gc.ones(4, 3), gc.zeros(4, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GraphBreakWarning)
            losses = [step(x, y) for _ in range(3)]
        return losses, sorted(opt.state[m.weight]), m.weight.detach().numpy()

    (l1, k1, w1), (l2, k2, w2) = run(True), run(False)
    assert k1 == k2 == ["exp_avg", "exp_avg_sq", "step"]
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    np.testing.assert_allclose(w1, w2, rtol=1e-6)


def test_masked_select_in_a_compiled_function_runs_eagerly_like_a_mask_index(backend):
    f = gc.compile(lambda x, y: gc.dot(gc.masked_select(x, x != 0) ** 2, y), backend=backend)
    x = gc.tensor([1.0, 0.0, 3.0], requires_grad=True)
    with pytest.warns(GraphBreakWarning, match="masked_select"):
        out = f(x, gc.ones(2))
    assert out.item() == 10.0
    out.backward()
    assert x.grad.tolist() == [2.0, 0.0, 6.0]
