"""Results of a compiled function that alias the caller's tensors, as torch.compile keeps them: an
argument (or captured tensor) returned as is *is* that tensor, and a view of one shares its memory."""
import numpy as np
import pytest

import graphc as gc


def _x():
    return gc.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))


def test_returning_an_argument_returns_that_tensor(backend):
    f = gc.compile(lambda t: t, backend=backend)
    x = _x()
    assert f(x) is x
    a, b = gc.compile(lambda t: (t, t * 2), backend=backend)(x)
    assert a is x
    np.testing.assert_array_equal(b.numpy(), x.numpy() * 2)


def test_an_argument_changed_in_place_and_returned_is_that_tensor(backend):
    def bump(t):
        t.add_(1)
        return t

    f = gc.compile(bump, backend=backend)
    x = _x()
    for i in range(1, 3):
        out = f(x)
        assert out is x
        np.testing.assert_array_equal(x.numpy(), np.arange(6).reshape(2, 3) + i)


@pytest.mark.parametrize("make,expected", [
    (lambda t: t.view(-1), lambda a: a.reshape(-1)),
    (lambda t: t[1], lambda a: a[1]),
    (lambda t: t.t(), lambda a: a.T),
    (lambda t: t[:, 1:].t()[0], lambda a: a[:, 1:].T[0]),
    (lambda t: t.unsqueeze(0).expand(4, 2, 3), lambda a: np.broadcast_to(a, (4, 2, 3))),
])
def test_a_view_of_an_argument_shares_its_memory(backend, make, expected):
    f = gc.compile(make, backend=backend)
    x = _x()
    out = f(x)
    np.testing.assert_array_equal(out.numpy(), expected(x.numpy()))
    assert np.shares_memory(out.numpy(), x.numpy())
    x.mul_(-1)                     # a write to the base shows through the view, as eagerly
    np.testing.assert_array_equal(out.numpy(), expected(x.numpy()))


def test_writing_through_a_returned_view_changes_the_argument(backend):
    f = gc.compile(lambda t: t[0], backend=backend)
    x = _x()
    row = f(x)
    row.fill_(7.0)
    np.testing.assert_array_equal(x.numpy()[0], [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(x.numpy()[1], [3.0, 4.0, 5.0])


def test_gradient_flows_through_a_returned_view(backend):
    f = gc.compile(lambda t: t.t()[0], backend=backend)
    x = gc.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = f(x)
    (out * gc.tensor([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0, 0], [3.0, 0, 0]])


def test_captured_parameter_and_its_view(backend):
    w = gc.nn.Parameter(gc.tensor(np.arange(4, dtype=np.float32).reshape(2, 2)))
    same = gc.compile(lambda: w, backend=backend)
    assert same() is w
    wt = gc.compile(lambda: w.t(), backend=backend)()
    assert wt.requires_grad and wt.grad_fn is not None        # a view of the parameter, as eagerly
    assert np.shares_memory(wt.detach().numpy(), w.detach().numpy())
    np.testing.assert_array_equal(wt.detach().numpy(), w.detach().numpy().T)


def test_a_tensor_made_inside_the_function_is_new_at_each_call(backend):
    def f(t):
        buf = gc.zeros(3)
        buf += t
        return buf, buf[1:]

    g = gc.compile(f, backend=backend)
    x = gc.tensor([1.0, 2.0, 3.0])
    a, a_view = g(x)
    b, _ = g(x)
    assert a is not b and not np.shares_memory(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a_view.numpy(), [2.0, 3.0])


def test_dynamic_shapes_keep_identity_but_copy_views(backend):
    f = gc.compile(lambda t: (t, t[0]), backend=backend, dynamic=True)
    for n in (3, 5):
        x = gc.tensor(np.arange(2 * n, dtype=np.float32).reshape(n, 2))
        same, row = f(x)
        assert same is x
        np.testing.assert_array_equal(row.numpy(), x.numpy()[0])


@pytest.mark.parametrize("make", [lambda t: t.detach(), lambda t: t.data, lambda t: t[..., 0].detach()[1]])
def test_a_detached_alias_shares_memory_without_history(backend, make):
    f = gc.compile(make, backend=backend)
    x = gc.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = f(x)
    assert out is not x and not out.requires_grad and out.grad_fn is None
    assert np.shares_memory(out.numpy(), x.detach().numpy())
    np.testing.assert_array_equal(out.numpy(), make(x).numpy())


@pytest.mark.parametrize("body", ["whole", "view"])
def test_in_place_on_a_non_leaf_argument_that_requires_grad(backend, body):
    # eagerly the argument's history continues from the in-place op; the call runs eagerly
    def f(x):
        if body == "whole":
            x.add_(1)
        else:
            x[0].mul_(2)
        return x * 1

    g = gc.compile(f, backend=backend)
    leaf = gc.ones(2, 3, requires_grad=True)
    with pytest.warns(gc.static.GraphBreakWarning, match="not a leaf"):
        out = g(leaf * 1)
    out.sum().backward()
    want = np.ones((2, 3), np.float32)
    if body == "view":
        want[0] = 2
    np.testing.assert_array_equal(leaf.grad.numpy(), want)


def test_contiguous_of_a_contiguous_argument_is_the_argument(backend):
    def clamp_through(t):
        v = t.contiguous()
        v.clamp_(min=0.5)
        return v * 1

    f = gc.compile(clamp_through, backend=backend)
    x = _x()
    g = gc.compile(lambda t: t.contiguous(), backend=backend)
    assert g(x) is x
    base = np.array([[0.0, 1.0], [-1.0, 2.0]], np.float32)
    x = gc.tensor(base.copy())
    f(x)                                       # v is x: x is clamped, as eagerly
    np.testing.assert_array_equal(x.numpy(), np.maximum(base, 0.5))
    xt = gc.tensor(base.copy()).t()            # not contiguous: v is a copy, xt stays
    out = f(xt)
    np.testing.assert_array_equal(xt.numpy(), base.T)
    np.testing.assert_array_equal(out.numpy(), np.maximum(base.T, 0.5))
    assert len(f.traces) == 2                  # contiguity is part of the signature


def test_a_returned_view_has_its_base_like_an_eager_view(backend):
    x = _x()
    out = gc.compile(lambda t: t[0], backend=backend)(x)
    assert out._base is x and out._base is x[0]._base
    y = gc.tensor(np.ones(3, np.float32), requires_grad=True)
    with gc.no_grad():
        o = gc.compile(lambda t: t[1:], backend=backend)(y)
    assert o._base is y and not o.requires_grad
