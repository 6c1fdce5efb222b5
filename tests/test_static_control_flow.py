"""gc.static.cond and gc.static.while_loop: eager, traced (gc.compile), built (gc.static.Graph), differentiated."""
import os
import warnings

import numpy as np
import pytest

import graphc as gc
import graphc.nn as nn
import graphc.nn.functional as F
from graphc.static import TracingError, cond, while_loop
from helpers import assert_matches, check_grad, rand64, line_of

HERE = os.path.basename(__file__)


def _rand(*shape, seed=0, dtype=np.float32):
    return gc.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _line_of(text: str) -> int:
    return line_of(__file__, text)


def _compile(fn, backend="interp", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 'llvm' falls back to 'interp' with a warning
        return gc.compile(fn, backend=backend, **kw)


def _call(cf, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return cf(*args)


def _same(got, want, backend="interp"):
    """Compiled results equal eager ones (tensors or tuples of them): bit for bit with the interpreter;
    the llvm backend's native math (tanh, exp...) may differ from numpy's in the last bit."""
    if isinstance(want, gc.Tensor):
        tol = 0 if backend == "interp" else 1e-6
        assert_matches(got, want.detach().numpy(), rtol=tol, atol=tol)
        return
    assert type(got) is type(want) and len(got) == len(want)
    for a, b in zip(got, want):
        _same(a, b, backend)


# ----------------------------------------------------------------------------- eager mode
def test_eager_cond_calls_the_chosen_branch_and_gradients_flow():
    calls = []

    def t(x):
        calls.append("t")
        return x * 2

    def f(x):
        calls.append("f")
        return x.exp()

    x = rand64(3)
    y = cond(x.sum() > -10, t, f, x)
    assert calls == ["t"] and y.grad_fn is not None
    y.sum().backward()
    assert_matches(x.grad, np.full(3, 2.0))
    assert cond(False, t, f, x) is not None and calls == ["t", "f"]  # a Python bool picks statically
    check_grad(lambda a: cond(a.sum() < 0, lambda v: v.sin(), lambda v: v * v, a), rand64(2, 3))
    check_grad(lambda a: cond(a.sum() > 0, lambda v: v.sin(), lambda v: v * v, a), rand64(2, 3, low=0.1))


def test_eager_while_loop_is_a_python_loop_with_autograd():
    x = rand64(2, low=0.5, high=1.0)
    i, y = while_loop(lambda i, y: y.sum() < 20, lambda i, y: (i + 1, y * 3), (gc.tensor(0), x))
    assert i.item() == 3
    y.sum().backward()
    assert_matches(x.grad, np.full(2, 27.0))
    assert_matches(while_loop(lambda v: v < 0, lambda v: v + 1, gc.tensor(5)), np.array(5))  # no iteration


@pytest.mark.parametrize("pred", [gc.ones(2) > 0, gc.tensor([[True, False]])])
def test_predicate_must_have_one_element(pred):
    with pytest.raises(RuntimeError, match="exactly one element, got shape"):
        cond(pred, lambda: 1, lambda: 2)
    with pytest.raises(RuntimeError, match=r"exactly one element, got b8\[2\]|exactly one element, got b8\[1,2\]"):
        _compile(lambda x: cond(x > 0, lambda v: v, lambda v: v, x))(gc.ones(pred.shape))


def test_one_element_predicates_of_any_shape_and_dtype(backend):
    x = _rand(3)
    cf = _compile(lambda x, p: cond(p, lambda v: v + 1, lambda v: v - 1, x), backend=backend)
    for p in (gc.tensor([[1.0]]), gc.tensor([0]), gc.tensor(True)):
        _same(cf(x, p), x + 1 if p.item() else x - 1, backend)


def test_bad_arguments_are_type_errors():
    with pytest.raises(TypeError, match="true_fn must be callable"):
        cond(gc.tensor(True), 1, lambda: 2)
    with pytest.raises(TypeError, match="cond_fn must be callable"):
        while_loop(None, lambda v: v, gc.ones(1))
    with pytest.raises(TypeError, match="init must be a tensor or a tuple"):
        while_loop(lambda v: v, lambda v: v, 3)
    with pytest.raises(TypeError, match=r"init\[1\] is a int"):
        while_loop(lambda *v: v[0] < 0, lambda *v: v, (gc.ones(1), 3))
    with pytest.raises(TypeError, match="predicate must be a tensor or a Python bool"):
        cond("yes", lambda: 1, lambda: 2)


# ----------------------------------------------------------------------------- cond under gc.compile
def test_if_on_a_tensor_fails_to_trace_but_cond_works(backend):
    def with_if(x):
        if x.sum() > 0:  # data-dependent python branch
            return x * 2
        return -x

    with pytest.raises(TracingError, match=f"{HERE}:{_line_of('if x.sum() > 0:  # data-dependent')}.*gc.static.cond"):
        gc.compile(with_if, backend=backend, fullgraph=True)(_rand(3))

    def with_cond(x):
        return cond(x.sum() > 0, lambda v: v * 2, lambda v: -v, x)

    cf = gc.compile(with_cond, backend=backend)
    for seed in range(6):  # both signs of the sum, one graph
        x = _rand(4, seed=seed)
        _same(cf(x), with_if(x), backend)
    assert cf.retraces == ["first call"]


def test_cond_with_captured_outer_tensors_matches_eager(backend):
    w = _rand(4, seed=1)                              # a captured eager tensor
    p = _rand(4, seed=2).requires_grad_()             # a captured parameter

    def f(x):
        h = x.tanh() + 1                              # an outer symbolic value used inside the branches
        return cond(x.mean() > 0, lambda v: v * w + h, lambda v: (v - p) * h, x)

    cf = _compile(f, backend)
    for seed in range(5):
        x = _rand(4, seed=seed + 10)
        _same(_call(cf, x), f(x), backend)
    w.mul_(2)                                         # captured tensors are read at each call
    x = _rand(4, seed=3)
    _same(_call(cf, x), f(x), backend)


def test_nested_cond_multiple_outputs_and_int_results(backend):
    def f(x, k):
        def inner(v):
            return cond(v.max() > 1, lambda u: (u.argmax(), u * k), lambda u: (u.argmin(), u.abs()), v)

        # (v.argmax() * 0 - 1: the llvm backend returns a 0-d *constant* as shape (1,), a codegen bug)
        return cond(x.sum() > 0, inner, lambda v: (v.argmax() * 0 - 1, v.exp()), x)

    cf = _compile(f, backend)
    for seed in range(8):
        x = _rand(5, seed=seed) * 2
        _same(_call(cf, x, 3), f(x, 3), backend)
    assert cf.retraces == ["first call"]
    text = str(cf.traces[0].graph)
    assert text.count("= cond ") == 2 and "true_graph(" in text and "false_graph(" in text


def test_cond_results_keep_their_structure(backend):
    def f(x):
        return cond(x.sum() > 0, lambda v: {"a": v, "b": [v + 1, 2]}, lambda v: {"a": -v, "b": [v, 3]}, x)

    cf = gc.compile(f, backend=backend)
    for seed in range(3):
        x = _rand(2, seed=seed)
        got, want = cf(x), f(x)
        assert set(got) == {"a", "b"} and len(got["b"]) == 2
        _same(got["a"], want["a"], backend)
        _same((got["b"][0], got["b"][1]), (want["b"][0], gc.tensor(want["b"][1])), backend)
        assert got["b"][1].dtype == gc.int64


def test_cond_operands_may_be_structures_with_static_leaves(backend):
    def f(x, y):
        return cond(x.sum() > y.sum(), lambda pair, k: pair[0] * k, lambda pair, k: pair[1] + k, (x, y), 2.5)

    cf = gc.compile(f, backend=backend)
    for seed in range(4):
        x, y = _rand(3, seed=seed), _rand(3, seed=seed + 7)
        _same(cf(x, y), f(x, y), backend)


def test_dynamic_sizes_inside_branches(backend):
    def f(x):
        return cond(x.sum() > 0,
                    lambda v: v.view(v.shape[0], -1)[1:].mean(1),
                    lambda v: v.new_zeros(v.shape[0] - 1) + v.mean(), x)

    cf = gc.compile(f, dynamic=True, backend=backend)
    for n in (2, 5, 3):
        for sign in (1, -1):
            x = _rand(n, 2, 3, seed=n) * sign + sign
            _same(cf(x), f(x), backend)
    assert cf.retraces == ["first call"]
    assert "f32[?]" in str(cf.traces[0].graph)


def test_compiled_functions_with_cond_nest(backend):
    inner = gc.compile(lambda x: cond(x.sum() > 0, lambda v: v * 2, lambda v: v - 1, x), backend=backend)
    outer = gc.compile(lambda x: cond(x.mean() < 1, lambda v: inner(v) + 1, lambda v: v, x), backend=backend)
    for seed in range(5):
        x = _rand(3, seed=seed) + seed * 0.4
        xe = x.clone()
        want = (xe * 2 if xe.sum() > 0 else xe - 1) + 1 if xe.mean() < 1 else xe
        _same(outer(x), want, backend)
    assert inner.retraces == [] and outer.retraces == ["first call"]  # inner was inlined into outer's graph


def test_branches_must_agree_on_specs_and_structure():
    with pytest.raises(RuntimeError, match=r"output 0 of the branches differs: true_fn gives f32\[3\] and false_fn "
                                           r"gives f32\[1\]"):
        gc.compile(lambda x: cond(x.sum() > 0, lambda v: v, lambda v: v[:1], x))(_rand(3))
    with pytest.raises(RuntimeError, match=r"true_fn gives f32\[3\] and false_fn gives f64\[3\]"):
        gc.compile(lambda x: cond(x.sum() > 0, lambda v: v, lambda v: v.double(), x))(_rand(3))
    with pytest.raises(RuntimeError, match=r"true_fn gives f32\[\?\] and false_fn gives f32\[3\]"):
        gc.compile(lambda x: cond(x.sum() > 0, lambda v: v, lambda v: v[:3], x), dynamic=True,
                   fullgraph=True)(_rand(4))
    with pytest.raises(TypeError, match=r"same structure: true_fn gives tensor and false_fn gives \(tensor, tensor\)"):
        gc.compile(lambda x: cond(x.sum() > 0, lambda v: v, lambda v: (v, v), x))(_rand(3))
    with pytest.raises(TypeError, match="output 0 of true_fn is a str"):
        gc.compile(lambda x: cond(x.sum() > 0, lambda v: "no", lambda v: v, x))(_rand(3))
    assert not gc.Tensor._symbolic  # failed traces leave eager mode intact


def test_branches_must_not_change_outer_state_or_leak_values():
    state = gc.zeros(3)

    def writes(x):
        def t(v):
            state.add_(v)  # an in-place write into a captured tensor
            return v

        return cond(x.sum() > 0, t, lambda v: v, x)

    with pytest.raises(TracingError, match=f"in-place write into an outer tensor .*{HERE}:{_line_of('state.add_(v)')}"):
        gc.compile(writes, fullgraph=True)(_rand(3))
    assert_matches(state, np.zeros(3, np.float32))

    kept = []

    def leaks(x):
        def t(v):
            kept.append(v * 2)
            return v

        y = cond(x.sum() > 0, t, lambda v: v, x)
        return y + kept[0]  # a value of the branch used outside it

    with pytest.raises(TracingError, match=f"computed inside true_fn of gc.static.cond is used outside it at .*"
                                           f"{HERE}:{_line_of('return y + kept[0]')}"):
        gc.compile(leaks, fullgraph=True)(_rand(3))


def test_branches_may_write_tensors_they_make_and_take_no_operands(backend):
    def f(x, w):
        def t():
            out = gc.zeros(3)  # a buffer of the branch's own: in-place writes are fine
            out[0] = x.sum()
            out[1:] = x[:2] * w
            return out

        return cond(x.sum() > 0, t, lambda: x * w.sum())  # no operands: x and w are captured

    cf = gc.compile(f, backend=backend)
    for sign in (1, -1):
        x, w = _rand(3) * sign + sign, _rand(1, seed=3)
        _same(cf(x, w), f(x, w), backend)


def test_cond_in_a_built_graph_with_locs_in_the_subgraphs(backend, backend_tol):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3))
    w = g.parameter("w", _rand(3, seed=4))
    y = cond(x.sum() > 0, lambda v: (v * w).sin(), lambda v: v.cos() - w, x)  # the branches' line
    exe = g.compile(y, backend=backend)
    for seed in range(4):
        arr = _rand(2 + seed, 3, seed=seed).numpy()
        xe, we = gc.tensor(arr), _rand(3, seed=4)
        want = (xe * we).sin() if arr.sum() > 0 else xe.cos() - we
        assert_matches(exe(x=arr), want.numpy(), **backend_tol(np.float32))
    cnode = next(n for n in exe.graph.op_nodes() if exe.graph.op(n) == "cond")
    sub = exe.graph.attrs(cnode)["true_graph"]
    line = _line_of("the branches' line")
    assert all(sub.graph.loc(n).endswith(f"{HERE}:{line}") for n in sub.graph.op_nodes())
    assert "sin %" in str(exe.graph) and f"{HERE}:{line}" in gc.ir.printer.format_graph(exe.graph, locs=True)
    exe.graph.verify()


def test_passes_never_merge_or_fold_control_flow(backend):
    def f(x):
        a = cond(x.sum() > 0, lambda v: v + 1, lambda v: v - 1, x)
        b = cond(x.sum() > 0, lambda v: v * 2, lambda v: v - 1, x)
        c = cond(gc.tensor(True), lambda: gc.ones(2) * 3, lambda: gc.zeros(2))  # constant predicate and operands
        d = while_loop(lambda v: v.sum() < 9, lambda v: v + 1, gc.zeros(2))    # a loop on constants
        return a, b, c, d

    cf = gc.compile(f, backend=backend)
    x = _rand(2)
    _same(cf(x), f(x), backend)
    graph = cf.traces[0].graph
    assert sorted(graph.op(n) for n in graph.op_nodes() if graph.op(n) in ("cond", "while_loop")) == [
        "cond", "cond", "cond", "while_loop"]
    graph.verify()


# ----------------------------------------------------------------------------- gradients through cond
def test_static_gradients_through_cond_equal_eager_in_both_branches(backend, backend_tol):
    def f(a, b):
        return cond(a.sum() > b.sum(),
                    lambda u, v: (u * v).tanh() + u ** 3,
                    lambda u, v: u.exp() / (v * v + 1), a, b)

    for seed in range(4):
        arrays = [np.random.default_rng(seed + k).uniform(-1, 1, s) for k, s in enumerate([(3, 2), (2,)])]
        g = gc.static.Graph()
        xs = [g.placeholder(f"x{i}", a.shape, gc.float64, requires_grad=True) for i, a in enumerate(arrays)]
        out = f(*xs)
        grads = gc.static.grad((out * out).sum(), xs)
        got = g.compile(list(grads), backend=backend)(x0=arrays[0], x1=arrays[1])
        eager = [gc.tensor(a, requires_grad=True) for a in arrays]
        (lambda o: (o * o).sum())(f(*eager)).backward()
        for gs, e in zip(got, eager):
            assert_matches(gs, e.grad.numpy(), **backend_tol(np.float64))


def test_second_order_gradients_through_cond(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (3,), gc.float64, requires_grad=True)
    y = cond(x.sum() > 0, lambda a: (a ** 3).sum(), lambda a: a.sin().sum(), x)
    (gx,) = gc.static.grad(y, [x], create_graph=True)
    (gxx,) = gc.static.grad(gx.sum(), [x])
    exe = g.compile([gx, gxx], backend=backend)
    for v in (np.array([1.0, 2.0, 3.0]), np.array([-1.0, -2.0, 0.5])):
        d1, d2 = exe(x=v)
        want = (3 * v ** 2, 6 * v) if v.sum() > 0 else (np.cos(v), -np.sin(v))
        assert_matches(d1, want[0], rtol=1e-12, atol=1e-12)
        assert_matches(d2, want[1], rtol=1e-12, atol=1e-12)


def test_identity_branches_and_unused_operands_get_the_right_gradients(backend, backend_tol):
    g = gc.static.Graph()
    a = g.placeholder("a", (2,), gc.float64, requires_grad=True)
    b = g.placeholder("b", (2,), gc.float64, requires_grad=True)
    y = cond(a.sum() > 0, lambda u, v: u, lambda u, v: v * 2, a, b)
    ga, gb = gc.static.grad(y.sum(), [a, b])
    exe = g.compile([ga, gb], backend=backend)
    assert_matches(exe(a=np.ones(2), b=np.ones(2))[0], np.ones(2), **backend_tol(np.float64))
    assert_matches(exe(a=np.ones(2), b=np.ones(2))[1], np.zeros(2), **backend_tol(np.float64))
    assert_matches(exe(a=-np.ones(2), b=np.ones(2))[1], np.full(2, 2.0), **backend_tol(np.float64))


def test_compiled_training_step_through_cond_matches_eager(backend):
    gc.manual_seed(0)
    heads = [nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)) for _ in range(2)]
    refs = [nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)) for _ in range(2)]
    for r, h in zip(refs, heads):
        r.load_state_dict(h.state_dict())

    def step_of(a, b):
        params = list(a.parameters()) + list(b.parameters())
        # no momentum: a head the batch does not use gets a zero gradient here (None in eager), and momentum
        # would still move it
        opt = gc.optim.SGD(params, lr=0.1)

        def step(x, y):
            opt.zero_grad()
            pred = cond(x.sum() > 0, lambda v: a(v), lambda v: b(v).relu(), x)
            loss = F.mse_loss(pred, y)
            loss.backward()
            opt.step()
            return loss

        return step

    compiled = _compile(step_of(*heads), backend)
    eager = step_of(*refs)
    for i in range(8):
        x = _rand(5, 3, seed=i) + (0.5 if i % 3 else -0.5)
        y = _rand(5, 1, seed=100 + i)
        assert_matches(_call(compiled, x, y), eager(x, y).detach().numpy(), rtol=1e-5, atol=1e-6)
    for r, h in zip(refs, heads):
        for (name, p), q in zip(h.named_parameters(), r.parameters()):
            assert_matches(p, q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_training_step_through_cond_with_dynamic_sizes(backend):
    w = gc.tensor(np.linspace(-1, 1, 3), requires_grad=True)

    def f(x):
        y = cond(x.mean() > 0, lambda v: (v * w).mean(0) * v.shape[0], lambda v: v.sum(0) / (v.shape[0] + 1) * w, x)
        loss = (y ** 2).sum()
        loss.backward()
        return loss

    cf = gc.compile(f, dynamic=True, backend=backend)
    for n in (2, 5):
        for sign in (1, -1):
            x = gc.tensor(np.random.default_rng(n).standard_normal((n, 3))) * sign + sign
            w.grad = None
            got = cf(x), w.grad
            w.grad = None
            want = f(x), w.grad
            _same(got, want, backend)
    assert cf.retraces == ["first call"]


def test_gradients_of_captured_parameters_are_written_back(backend):
    w1 = rand64(3, seed=1)
    w2 = rand64(3, seed=2)

    def f(x):
        y = cond(x.sum() > 0, lambda v: (v * w1).tanh(), lambda v: v.exp() - w2 * w1, x)
        (y * y).sum().backward()

    cf = gc.compile(f, backend=backend)
    for v in ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]):
        x, xe = gc.tensor(v, requires_grad=True), gc.tensor(v, requires_grad=True)
        w1.grad = w2.grad = None
        cf(x)
        got = (w1.grad, w2.grad, x.grad)
        w1.grad = w2.grad = None
        f(xe)
        want = (w1.grad, w2.grad, xe.grad)
        for a, b in zip(got, want):
            # a parameter only the branch not taken uses gets zeros (eager leaves None)
            assert_matches(a, np.zeros(3) if b is None else b.numpy(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- while_loop under gc.compile
def test_while_loop_matches_eager_for_data_dependent_trip_counts(backend):
    scale = _rand(3, seed=5).abs() + 1  # captured

    def f(x, i0):  # (i0 an argument: the llvm backend turns a 0-d constant into shape (1,), a codegen bug)
        return while_loop(lambda i, y: y.abs().sum() < 50, lambda i, y: (i + 1, y * scale + 0.5), (i0, x))

    cf = _compile(f, backend)
    counts = set()
    for seed in range(6):
        x = _rand(3, seed=seed) * (seed + 1)
        got, want = _call(cf, x, gc.tensor(0)), f(x, gc.tensor(0))
        _same(got, want, backend)
        counts.add(want[0].item())
    assert len(counts) > 1 and cf.retraces == ["first call"]


def test_while_loop_with_dynamic_sizes_and_cond_in_its_body(backend):
    def f(x):
        def body(y, n):
            return cond(y.mean() > 0, lambda v: v - 1, lambda v: v * 0.5, y), n + 1

        return while_loop(lambda y, n: (y.abs().sum() > y.shape[0]) & (n < 20), body, (x, gc.tensor(0)))

    cf = gc.compile(f, dynamic=True, backend=backend)
    for n in (2, 6, 3):
        x = _rand(n, seed=n) * 4
        _same(cf(x), f(x), backend)
    assert cf.retraces == ["first call"]


def test_while_loop_in_a_built_graph(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (), gc.int64)
    steps = while_loop(lambda v, k: v != 1,
                       lambda v, k: (gc.where(v % 2 == 0, v // 2, 3 * v + 1), k + 1), (x, g.constant(0)))[1]
    exe = g.compile(steps, backend=backend)
    assert [exe(x=np.array(n)).item() for n in (1, 6, 7, 27)] == [0, 8, 16, 111]  # Collatz stopping times


def test_while_loop_carry_must_keep_its_specs():
    with pytest.raises(RuntimeError, match=r"body_fn gives carry\[0\] as f32\[\] but the carry is f32\[3\]"):
        gc.compile(lambda x: while_loop(lambda v: v.sum() < 9, lambda v: v.sum(), x))(_rand(3))
    with pytest.raises(RuntimeError, match=r"body_fn gives carry\[0\] as f64\[3\] but the carry is f32\[3\]"):
        while_loop(lambda v: v.sum() < 9, lambda v: v.double() + 1, gc.zeros(3))  # eager checks too
    with pytest.raises(TypeError, match="body_fn must return the loop carry: 2 tensor"):
        gc.compile(lambda x: while_loop(lambda v, w: v.sum() < 9, lambda v, w: v, (x, x)))(_rand(3))
    with pytest.raises(RuntimeError, match="cond_fn must return one tensor with exactly one element"):
        gc.compile(lambda x: while_loop(lambda v: v < 9, lambda v: v + 1, x))(_rand(3))


def test_backward_through_while_loop_is_a_clear_error():
    def f(x):
        y = while_loop(lambda v: v.sum() < 10, lambda v: v * 2, x)
        y.sum().backward()

    with pytest.raises(NotImplementedError, match="reverse-mode differentiation through gc.static.while_loop"):
        gc.compile(f)(gc.ones(3, requires_grad=True))
    g = gc.static.Graph()
    x = g.placeholder("x", (3,), requires_grad=True)
    y = while_loop(lambda v: v.sum() < 10, lambda v: v * 2, x)
    with pytest.raises(NotImplementedError, match="while_loop"):
        gc.static.grad(y.sum(), [x])
    with gc.no_grad():  # no history, no error
        gc.compile(lambda x: while_loop(lambda v: v.sum() < 10, lambda v: v * 2, x))(gc.ones(3, requires_grad=True))
