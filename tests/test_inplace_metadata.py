"""Shape-changing in-place ops (t_, transpose_, squeeze_, unsqueeze_, swapaxes_, swapdims_)."""
import numpy as np
import pytest

import graphc as gc
from tests.helpers import assert_matches


@pytest.mark.parametrize("name, args, ref", [
    ("t_", (), lambda a: a.T),
    ("transpose_", (0, 1), lambda a: a.swapaxes(0, 1)),
    ("swapaxes_", (1, 0), lambda a: a.swapaxes(0, 1)),
    ("swapdims_", (0, -1), lambda a: a.swapaxes(0, 1)),
    ("unsqueeze_", (1,), lambda a: a[:, None]),
])
def test_metadata_inplace_changes_shape_and_keeps_memory(name, args, ref):
    a = np.arange(6.0).reshape(2, 3)
    x = gc.tensor(a)
    storage = x.numpy()
    y = getattr(x, name)(*args)
    assert y is x
    assert np.shares_memory(x.numpy(), storage)  # same memory, new shape
    assert_matches(x, ref(a))
    assert x._version.v == 1


def test_squeeze_inplace_with_and_without_dim():
    x = gc.zeros(1, 3, 1)
    assert x.squeeze_(0) is x and tuple(x.shape) == (3, 1)
    x.squeeze_()
    assert tuple(x.shape) == (3,)


def test_metadata_inplace_on_leaf_requiring_grad_raises():
    x = gc.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.t_()


def test_metadata_inplace_gradient_flows_through_new_shape():
    a = np.arange(6.0).reshape(2, 3)
    x = gc.tensor(a, dtype=gc.float64, requires_grad=True)
    y = x * 1
    y.t_()
    weights = gc.tensor(np.arange(6.0).reshape(3, 2), dtype=gc.float64)
    (y * weights).sum().backward()
    # y[j, i] = x[i, j], so dL/dx[i, j] = weights[j, i]
    assert_matches(x.grad, np.arange(6.0).reshape(3, 2).T)


def test_earlier_use_keeps_its_recorded_shape():
    x = gc.tensor(np.ones((2, 3)), dtype=gc.float64, requires_grad=True)
    w = x * 1
    z = w * 2  # recorded while w was (2, 3)
    w.unsqueeze_(0)
    (z.sum() + w.sum()).backward()
    assert_matches(x.grad, np.full((2, 3), 3.0))
