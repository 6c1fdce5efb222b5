"""Outputs of a compiled function are differentiable, as with torch.compile: ``backward`` on them
fills the arguments' and parameters' ``.grad`` like the same code run eagerly."""
import numpy as np
import pytest

import graphc as gc
import graphc.nn as nn
from helpers import assert_matches


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _fn(a, b):
    return gc.tanh(a @ b).sum(dim=1), (a * 2).exp().mean()


def test_gradients_of_arguments_match_eager(backend):
    f = gc.compile(_fn, backend=backend)
    for step in range(2):        # the second call runs the cached graph and backward program
        xa, xb = _rand(3, 4, seed=step), _rand(4, 2, seed=step + 5)
        grads = []
        for fn in (f, _fn):
            a, b = gc.tensor(xa, requires_grad=True), gc.tensor(xb, requires_grad=True)
            u, v = fn(a, b)
            assert u.grad_fn is not None and v.requires_grad
            (u * gc.tensor([1.0, -2.0, 0.5])).sum().add(v * 3).backward()
            grads.append((a.grad.numpy(), b.grad.numpy()))
        for got, want in zip(*grads):
            assert_matches(gc.tensor(got), want, rtol=1e-5, atol=1e-6)
    assert "CompiledFunctionBackward" in repr(f(a, b)[0].grad_fn)


def test_compiled_module_then_eager_loss_backward(backend):
    def make():
        gc.manual_seed(3)
        return nn.Sequential(nn.Linear(5, 6), nn.GELU(), nn.Linear(6, 3))

    me, mc = make(), make()
    cm = gc.compile(mc, backend=backend)
    x = gc.tensor(_rand(4, 5))
    for _ in range(2):   # gradients accumulate across calls, as eagerly
        for model in (me, cm):
            out = model(x)
            ((out - 1.0) ** 2).mean().backward()
    for pe, pc in zip(me.parameters(), mc.parameters()):
        assert_matches(pc.grad, pe.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_unused_output_gradients_and_non_leaf_inputs(backend):
    w = gc.tensor(_rand(3, 4), requires_grad=True)
    f = gc.compile(_fn, backend=backend)
    u, _ = f(w * 3, gc.tensor(_rand(4, 2, seed=1)))     # b needs no grad; v is never used
    u.sum().backward()
    we = gc.tensor(w.detach().numpy(), requires_grad=True)
    ue, _ = _fn(we * 3, gc.tensor(_rand(4, 2, seed=1)))
    ue.sum().backward()
    assert_matches(w.grad, we.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_no_grad_calls_and_training_steps_return_plain_tensors():
    x = gc.tensor(_rand(2, 3), requires_grad=True)
    f = gc.compile(lambda a: (a * a).sum())
    with gc.no_grad():
        assert f(x).grad_fn is None and not f(x).requires_grad
    assert f(x).grad_fn is not None       # grad mode is part of the signature: a new trace

    gc.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = gc.optim.SGD(model.parameters(), lr=0.1)

    def step(a):
        loss = model(a).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    loss = gc.compile(step)(gc.tensor(_rand(4, 3)))
    assert loss.grad_fn is None           # backward already ran inside: nothing to differentiate


def test_inputs_changed_in_place_before_backward_raise():
    x = gc.tensor(_rand(3), requires_grad=True)
    y = x * 1.0
    out = gc.compile(lambda a: (a * a).sum())(y)
    with gc.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_dynamic_batch_backward():
    w = gc.tensor(_rand(4, 2), requires_grad=True)
    f = gc.compile(lambda a: gc.sigmoid(a @ w).sum(), dynamic=True)
    for n in [3, 5, 1]:
        w.grad = None
        a = _rand(n, 4, seed=n)
        f(gc.tensor(a)).backward()
        s = 1 / (1 + np.exp(-(a @ w.detach().numpy())))
        assert_matches(w.grad, a.T @ (s * (1 - s)), rtol=1e-5, atol=1e-6)


def test_second_backward_needs_retain_graph(backend):
    x = gc.ones(2, requires_grad=True)
    loss = gc.compile(lambda t: (t * t).sum(), backend=backend)(x)
    loss.backward(retain_graph=True)
    loss.backward()  # retained once: runs, and accumulates
    assert_matches(x.grad, np.full(2, 4.0, np.float32))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
