"""gc.static.grad: gradients built in the graph by the same rules and engine as eager autograd."""
import numpy as np
import pytest

import graphc as gc
import graphc.nn.functional as F
from graphc.static import TracingError
from helpers import assert_matches


def _rand(shape, seed, positive=False):
    a = np.random.default_rng(seed).uniform(0.5 if positive else -1.0, 1.5 if positive else 1.0, size=shape)
    return a.astype(np.float64)


def _compare(fn, shapes, positive=False, extra_feeds=None, rtol=0.0, backend="interp"):
    """Static gradients of sum(fn(*xs) * weights) equal eager .grad (bit for bit unless rtol; the
    llvm backend's native math within a few float64 ulp)."""
    if backend != "interp":
        rtol = max(rtol, 1e-12)
    arrays = [_rand(s, seed=i, positive=positive) for i, s in enumerate(shapes)]
    g = gc.static.Graph()
    xs = [g.placeholder(f"x{i}", s, gc.float64, requires_grad=True) for i, s in enumerate(shapes)]
    extra = {k: g.placeholder(k, v.shape, gc.dtypes.from_numpy_dtype(v.dtype)) for k, v in (extra_feeds or {}).items()}
    out = fn(*xs, **extra)
    weights = gc.tensor(_rand(tuple(out.shape), seed=99))  # a fixed upstream gradient
    grads = gc.static.grad((out * weights).sum(), xs)
    exe = g.compile(list(grads), backend=backend)
    got = exe(**{f"x{i}": a for i, a in enumerate(arrays)}, **(extra_feeds or {}))

    eager = [gc.tensor(a, requires_grad=True) for a in arrays]
    e_extra = {k: gc.tensor(v) for k, v in (extra_feeds or {}).items()}
    (fn(*eager, **e_extra) * weights).sum().backward()
    for gs, x in zip(got, eager):
        assert_matches(gs, x.grad.numpy(), rtol=rtol, atol=0 if rtol == 0 else 1e-12)


POINTWISE = {
    "exp_log": (lambda a: a.exp() + a.abs().log1p(), [(3, 4)]),
    "tanh_sigmoid": (lambda a: a.tanh() * a.sigmoid(), [(5,)]),
    "sqrt_pow": (lambda a: (a.abs() + 1).sqrt() + a ** 3 + 2 ** a, [(2, 3)]),
    "div_mul": (lambda a, b: a / (b.abs() + 1) * b - a, [(3, 4), (3, 4)]),
    "max_min_where": (lambda a, b: gc.maximum(a, b) + gc.minimum(a, b) + gc.where(a > 0, a, b * 2), [(4,), (4,)]),
    "clamp_relu": (lambda a: a.clamp(-0.5, 0.5) + a.relu() + F.gelu(a), [(6,)]),
    "zero_dim": (lambda a, b: a * b + a.exp(), [(), ()]),
}


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_gradients_equal_eager(name, backend):
    fn, shapes = POINTWISE[name]
    _compare(fn, shapes, backend=backend)


BROADCAST = {
    "row_col": (lambda a, b: a * b + a, [(3, 1), (4,)]),
    "scalar_tensor": (lambda a, b: a - b, [(2, 3), ()]),
    "leading": (lambda a, b: a * b, [(2, 1, 3), (4, 1)]),
}


@pytest.mark.parametrize("name", BROADCAST)
def test_broadcasting_gradients_equal_eager(name, backend):
    fn, shapes = BROADCAST[name]
    _compare(fn, shapes, backend=backend)


REDUCTIONS = {
    "sum_dims": (lambda a: a.sum(dim=(0, 2)), [(2, 3, 4)]),
    "mean_keepdim": (lambda a: a.mean(-1, keepdim=True), [(3, 4)]),
    "amax_ties": (lambda a: gc.cat([a, a], 1).amax(1), [(3, 2)]),
    "max_dim_values": (lambda a: a.max(dim=1).values + a.min(0)[0].sum(), [(3, 4)]),
    "prod": (lambda a: a.prod(1), [(3, 4)]),
    "var_std": (lambda a: a.var(0) + a.std(1, keepdim=True).sum(), [(4, 3)]),
    "logsumexp_norm": (lambda a: a.logsumexp(1) + a.norm(), [(3, 5)]),
    "cumsum": (lambda a: a.cumsum(1), [(2, 4)]),
}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradients_equal_eager(name, backend):
    fn, shapes = REDUCTIONS[name]
    _compare(fn, shapes, backend=backend)


LINALG = {
    "matmul": (lambda a, b: a @ b, [(5, 3), (3, 2)]),
    "batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "vector": (lambda a, b: a @ b, [(3,), (3, 2)]),
    "linear": (lambda a, w, b: F.linear(a, w, b), [(4, 3), (2, 3), (2,)]),
}


@pytest.mark.parametrize("name", LINALG)
def test_matmul_gradients_equal_eager(name, backend):
    fn, shapes = LINALG[name]
    _compare(fn, shapes, backend=backend)


MOVEMENT = {
    "reshape_permute": (lambda a: a.reshape(4, 6).t().reshape(2, 3, 4).permute(2, 0, 1), [(2, 3, 4)]),
    "getitem_basic": (lambda a: a[1:, ::2] * a[0, -1], [(3, 4)]),
    "getitem_advanced": (lambda a: a[[0, 2, 2]] + a[:, gc.tensor([1, 0, 1, 3])], [(3, 4)]),
    "cat_stack_split": (lambda a, b: gc.stack([gc.cat([a, b], 0)[:2], b]).sum(0) + a.split(1, 0)[1], [(2, 3), (2, 3)]),
    "expand_squeeze": (lambda a: a.unsqueeze(0).expand(3, 2, 4).squeeze() * a.flip(0), [(2, 4)]),
    "view_flatten": (lambda a: a.view(6, 2).flatten(), [(3, 4)]),
}


@pytest.mark.parametrize("name", MOVEMENT)
def test_movement_gradients_equal_eager(name, backend):
    fn, shapes = MOVEMENT[name]
    _compare(fn, shapes, backend=backend)


def test_softmax_family_gradients_equal_eager(backend):
    _compare(lambda a: F.softmax(a, 1) + F.log_softmax(a, 0), [(4, 5)], backend=backend)


def test_cross_entropy_gradient_with_a_symbolic_target_equals_eager(backend):
    target = np.array([2, 0, 1, 2], np.int64)
    _compare(lambda a, t: F.cross_entropy(a, t), [(4, 3)], extra_feeds={"t": target}, backend=backend)
    _compare(lambda a, t: F.cross_entropy(a, t, reduction="sum", label_smoothing=0.1), [(4, 3)],
             extra_feeds={"t": target}, backend=backend)


def test_mse_loss_gradient_equals_eager(backend):
    _compare(lambda a, b: F.mse_loss(a, b), [(3, 2), (3, 2)], backend=backend)


def test_qr_with_one_output_used_fills_the_other_gradient_with_graph_zeros(backend):
    # the engine gives R's missing gradient as zeros: in a graph they must be a graph node
    _compare(lambda a: gc.linalg.qr(a)[0], [(4, 3)], rtol=1e-12, backend=backend)


def test_in_place_ops_in_the_graph_pass_gradients_like_eager(backend):
    def fn(a):
        y = a * 2
        y.add_(1)
        y[0] = 0.0
        y[1:].mul_(a[1:])
        return y
    _compare(fn, [(3, 2)], backend=backend)


def test_gradients_over_a_symbolic_batch_size(backend, backend_tol):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3, 2), gc.float64)
    w = g.parameter("w", gc.tensor(_rand((6, 2), seed=1)))
    loss = (x.view(x.shape[0], -1) @ w).tanh().mean()
    exe = g.compile(gc.static.grad(loss, w), backend=backend)
    for n in (1, 4, 7):
        a = _rand((n, 3, 2), seed=n)
        we = gc.tensor(_rand((6, 2), seed=1), requires_grad=True)
        (gc.tensor(a).view(n, -1) @ we).tanh().mean().backward()
        assert_matches(exe(x=a), we.grad.numpy(), **backend_tol())


def test_eager_leaves_used_in_a_graph_get_graph_gradients(backend):
    w = gc.tensor(_rand((3,), seed=5), requires_grad=True)
    g = gc.static.Graph()
    x = g.placeholder("x", (3,), gc.float64)
    gw = gc.static.grad((x * w).exp().sum(), w)
    a = _rand((3,), seed=6)
    assert_matches(g.compile(gw, backend=backend)(x=a), np.exp(a * w.detach().numpy()) * a)
    assert w.grad is None  # nothing accumulated into the eager leaf


def test_second_derivative_with_create_graph(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (3,), gc.float64, requires_grad=True)
    gx = gc.static.grad((x ** 3).sum(), x, create_graph=True)
    ggx = gc.static.grad(gx.sum(), x)
    a = _rand((3,), seed=2)
    r1, r2 = g.compile((gx, ggx), backend=backend)(x=a)
    assert_matches(r1, 3 * a ** 2, rtol=1e-14)
    assert_matches(r2, 6 * a, rtol=1e-14)


def test_a_graph_can_be_differentiated_twice(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (2,), gc.float64, requires_grad=True)
    loss = (x * x).sum()
    g1 = gc.static.grad(loss, x)
    g2 = gc.static.grad(loss * 3, [x])
    a = np.array([1.0, -2.0])
    r1, (r2,) = g.compile((g1, g2), backend=backend)(x=a)
    assert_matches(r1, 2 * a) and assert_matches(r2, 6 * a)


def test_grad_errors():
    g = gc.static.Graph()
    x = g.placeholder("x", (2,))
    y = g.placeholder("y", (2,), requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad: create placeholders with requires_grad=True"):
        gc.static.grad((x * y).sum(), [x])
    z = g.placeholder("z", (2,), requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        gc.static.grad((y * 2).sum(), [z])
    (gz,) = gc.static.grad((y * 2).sum(), [z], allow_unused=True)
    assert gz is None
    with pytest.raises(TypeError, match="not a symbolic tensor"):
        gc.static.grad(gc.ones(2, requires_grad=True).sum(), [y])


def test_backward_into_eager_leaves_outside_compile_is_an_error():
    w = gc.ones(2, requires_grad=True)
    g = gc.static.Graph()
    x = g.placeholder("x", (2,))
    with pytest.raises(TracingError, match="gc.static.grad"):
        (x * w).sum().backward()
    assert w.grad is None


def test_backward_on_symbolic_leaves_gives_symbolic_grads(backend, backend_tol):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 2), gc.float64, requires_grad=True)
    w = g.parameter("w", gc.tensor(_rand((2, 2), seed=4)))
    (x @ w).sin().sum().backward()
    (x * 3).sum().backward()  # accumulates, out of place
    exe = g.compile([x.grad, w.grad], backend=backend)
    a = _rand((5, 2), seed=8)
    xe = gc.tensor(a, requires_grad=True)
    we = gc.tensor(_rand((2, 2), seed=4), requires_grad=True)
    (xe @ we).sin().sum().backward()
    (xe * 3).sum().backward()
    gx, gw = exe(x=a)
    assert_matches(gx, xe.grad.numpy(), **backend_tol())
    assert_matches(gw, we.grad.numpy(), **backend_tol())
