"""Views under gc.compile: a view made before an in-place write to its base (or to a sibling view) reads
the written values, as eager views do through shared memory; gradients follow the writes."""
import numpy as np
import pytest

import graphc as gc
from helpers import assert_matches


def _write_through_view(x):
    y = x.clone()
    z = y[1:]
    z[0] = 9
    return z


def _write_base_read_view(x):
    y = x.clone()
    z = y.view(-1)
    y[0] = 5
    return z


def _add_to_base_read_transpose(x):
    y = x.clone()
    z = y.T
    y.add_(1)
    return z


def _sibling_views(x):
    y = x.clone()
    a, b = y[0], y[:, 0]
    a.fill_(7)
    return b


def _two_writes_through_a_view(x):
    y = x.clone()
    z = y[1:]
    z[:, 0] = 9
    z.mul_(2)
    return y


def _view_of_a_view(x):
    y = x.clone()
    z = y[1:]
    w = z[0]
    y.add_(1)
    w.mul_(3)
    return y, z, w


CASES = [_write_through_view, _write_base_read_view, _add_to_base_read_transpose, _sibling_views,
         _two_writes_through_a_view, _view_of_a_view]


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__.strip("_"))
def test_views_see_in_place_writes_like_eager(backend, fn):
    cf = gc.compile(fn, backend=backend)
    for seed in range(2):  # the second call runs the cached graph
        x = gc.tensor(np.random.default_rng(seed).standard_normal((3, 2)).astype(np.float32))
        got, want = cf(x), fn(x)
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for g, w in zip(got, want):
            assert_matches(g, w.numpy())


def test_gradient_through_a_view_written_in_place(backend):
    def loss(x):
        y = x * 1
        z = y[1:]
        z[0] = 0  # the write must reach z's values and stop the gradient into x[1]
        return (z * z).sum()

    data = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    grads = []
    for fn in (gc.compile(loss, backend=backend), loss):
        x = gc.tensor(data, requires_grad=True)
        out = fn(x)
        out.backward()
        grads.append((out.item(), x.grad.numpy()))
    assert grads[0][0] == pytest.approx(grads[1][0])
    assert_matches(gc.tensor(grads[0][1]), grads[1][1])
