"""In-place ops and writes through views: values, dtype rules, and the gradients they leave behind."""
import numpy as np
import pytest

import graphc as gc
from graphc.autograd import gradcheck
from helpers import rand64


def leaf(values, dtype=gc.float32):
    return gc.tensor(values, dtype=dtype, requires_grad=True)


def npg(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- in-place basics
def test_in_place_returns_self_and_writes_memory():
    t = gc.tensor([1.0, 2.0, 3.0])
    arr = t.numpy()
    assert t.add_(1) is t
    assert t.mul_(2) is t
    np.testing.assert_allclose(arr, [4.0, 6.0, 8.0])  # same buffer


@pytest.mark.parametrize("op, value, expected", [
    ("__iadd__", 2, [3.0, 4.0]), ("__isub__", 2, [-1.0, 0.0]), ("__imul__", 3, [3.0, 6.0]),
    ("__itruediv__", 2, [0.5, 1.0]), ("__ifloordiv__", 2, [0.0, 1.0]), ("__imod__", 2, [1.0, 0.0]),
    ("__ipow__", 2, [1.0, 4.0]),
])
def test_augmented_assignment_float(op, value, expected):
    t = gc.tensor([1.0, 2.0])
    same = getattr(t, op)(value)
    assert same is t
    np.testing.assert_allclose(npg(t), expected)
    assert t.dtype == gc.float32


@pytest.mark.parametrize("op, value, expected", [
    ("__iadd__", 2, [3, 8]), ("__isub__", 1, [0, 5]), ("__imul__", 3, [3, 18]), ("__ifloordiv__", 4, [0, 1]),
    ("__imod__", 4, [1, 2]), ("__ipow__", 2, [1, 36]), ("__iand__", 2, [0, 2]), ("__ior__", 1, [1, 7]),
    ("__ixor__", 3, [2, 5]), ("__ilshift__", 1, [2, 12]), ("__irshift__", 1, [0, 3]),
])
def test_augmented_assignment_int(op, value, expected):
    t = gc.tensor([1, 6])
    alias = t
    t = getattr(t, op)(value)
    assert t is alias and t.dtype == gc.int64
    np.testing.assert_array_equal(npg(t), expected)


def test_operator_statement_form_keeps_identity():
    t = gc.tensor([1.0, 2.0])
    alias = t
    t += 1
    t *= 2
    t -= gc.tensor([1.0, 1.0])
    assert t is alias
    np.testing.assert_allclose(npg(alias), [3.0, 5.0])


def test_int_tensor_in_place_with_int_scalar():
    t = gc.tensor([1, 2], dtype=gc.int32)
    t.add_(5)
    assert t.dtype == gc.int32
    np.testing.assert_array_equal(npg(t), [6, 7])


@pytest.mark.parametrize("do", [
    lambda t: t.add_(2.5), lambda t: t.mul_(gc.tensor([1.5, 2.0])), lambda t: t.div_(2),
    lambda t: t.__itruediv__(2), lambda t: t.sqrt_(), lambda t: t.exp_(),
])
def test_int_tensor_cannot_take_float_result(do):
    t = gc.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        do(t)
    np.testing.assert_array_equal(npg(t), [1, 2])  # nothing was written


def test_bool_tensor_cannot_take_int_result():
    t = gc.tensor([True, False])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(2)


def test_float32_in_place_with_float64_other_keeps_float32():
    t = gc.tensor([1.0, 2.0])
    t.add_(gc.tensor([0.5, 0.25], dtype=gc.float64))
    assert t.dtype == gc.float32
    np.testing.assert_allclose(npg(t), [1.5, 2.25])


def test_in_place_broadcasting_other():
    t = gc.zeros(2, 3)
    t.add_(gc.tensor([1.0, 2.0, 3.0]))
    t.mul_(gc.tensor([[1.0], [2.0]]))
    np.testing.assert_allclose(npg(t), [[1, 2, 3], [2, 4, 6]])


def test_in_place_cannot_grow_the_tensor():
    t = gc.zeros(2, 3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        t.add_(gc.ones(4, 2, 3))
    t1 = gc.zeros(3, 1)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        t1.mul_(gc.ones(1, 4))


def test_in_place_into_broadcast_view_errors():
    t = gc.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        t.add_(1)


@pytest.mark.parametrize("name, args, fn", [
    ("relu_", (), lambda a: np.maximum(a, 0)),
    ("sigmoid_", (), lambda a: 1 / (1 + np.exp(-a))),
    ("tanh_", (), np.tanh),
    ("exp_", (), np.exp),
    ("neg_", (), np.negative),
    ("abs_", (), np.abs),
    ("clamp_", (-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    ("pow_", (2,), lambda a: a ** 2),
    ("sub_", (1.0,), lambda a: a - 1),
])
def test_unary_in_place_values_and_gradients(name, args, fn):
    x = rand64(5)

    def f(x):
        y = x * 1
        getattr(y, name)(*args)
        return y

    np.testing.assert_allclose(npg(f(x)), fn(npg(x)))
    assert gradcheck(f, (x,))


def test_in_place_chain_gradient():
    x = rand64(4)

    def f(x):
        y = x * 2
        y.add_(1).mul_(gc.tensor([3.0, -1.0, 0.5, 2.0], dtype=gc.float64)).sin_()
        return y

    assert gradcheck(f, (x,))


def test_in_place_on_non_requiring_tensor_with_requiring_other():
    x = leaf([1.0, 2.0, 3.0])
    a = gc.ones(3)
    a.mul_(x)  # a now depends on x; its old value (ones) is saved for the product
    assert a.requires_grad and a.grad_fn.name() == "MulBackward0" and not a.is_leaf
    (a * a).sum().backward()
    np.testing.assert_allclose(npg(x.grad), 2 * npg(x))


def test_in_place_gradient_matches_out_of_place():
    x = rand64(3, 4)
    w = rand64(4, seed=3)

    def inplace(x, w):
        y = x.clone()
        y.mul_(w).add_(w).tanh_()
        return y

    def outplace(x, w):
        return (x * w + w).tanh()

    np.testing.assert_allclose(npg(inplace(x, w)), npg(outplace(x, w)))
    assert gradcheck(inplace, (x, w))


def test_exp_in_place_then_write_errors_at_backward():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.exp_()  # saves its result, which is y itself
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_in_place_under_no_grad_keeps_history_unchanged():
    x = leaf([1.0, 2.0])
    y = x * 3
    fn = y.grad_fn
    with gc.no_grad():
        y.add_(100)
    assert y.grad_fn is fn
    (y * 1).sum().backward()  # add's gradient needs nothing saved
    np.testing.assert_allclose(npg(x.grad), [3.0, 3.0])


# ----------------------------------------------------------------------------- views
def test_view_mul_in_place_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    y = x.clone()
    y.view(2, 2).mul_(2)
    np.testing.assert_allclose(npg(y), [2.0, 4.0, 6.0, 8.0])
    assert y.grad_fn.name() == "CopySlices"
    (y * y).sum().backward()
    np.testing.assert_allclose(npg(x.grad), 8 * npg(x))


def test_view_add_in_place_with_broadcasting():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    b = leaf([10.0, 20.0])
    y = x.clone()
    v = y.view(2, 2)
    v.add_(b)
    np.testing.assert_allclose(npg(y), [11.0, 22.0, 13.0, 24.0])
    np.testing.assert_allclose(npg(v), [[11.0, 22.0], [13.0, 24.0]])
    (y * y).sum().backward()
    np.testing.assert_allclose(npg(x.grad), 2 * npg(y))
    yy = npg(y).reshape(2, 2)
    np.testing.assert_allclose(npg(b.grad), (2 * yy).sum(0))


def test_view_gradients_by_gradcheck():
    x = rand64(6)
    b = rand64(3, seed=4)

    def f(x, b):
        y = x * 1
        v = y.view(2, 3)
        v.mul_(b)
        return y.sin()

    assert gradcheck(f, (x, b))


def test_slice_in_place_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    y = x.clone()
    y[1:].mul_(2)
    np.testing.assert_allclose(npg(y), [1.0, 4.0, 6.0, 8.0])
    (y * y).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0, 16.0, 24.0, 32.0])


def test_transpose_in_place_gradient():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x.clone()
    y.t().add_(gc.tensor([1.0, 2.0]))
    np.testing.assert_allclose(npg(y), [[2.0, 3.0], [5.0, 6.0]])
    (y * y).sum().backward()
    np.testing.assert_allclose(npg(x.grad), 2 * npg(y))


def test_getitem_and_transpose_views_gradcheck():
    x = rand64(3, 4)
    w = rand64(3, seed=5)

    def f(x, w):
        y = x * 1
        y[:, 1].mul_(w)
        y.t()[2].add_(w)
        y[0, :2].sub_(y[2, 2:] * 1)
        return y.exp()

    assert gradcheck(f, (x, w))


def test_view_of_view_in_place():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x.clone()
    y.view(4)[1:3].add_(10)
    np.testing.assert_allclose(npg(y), [[1.0, 12.0], [13.0, 4.0]])
    (y * y).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [[2.0, 24.0], [26.0, 8.0]])


def test_view_sees_later_write_to_base():
    x = leaf([1.0, 2.0, 3.0])
    y = x.clone()
    v = y[:2]
    y.mul_(2)
    np.testing.assert_allclose(npg(v), [2.0, 4.0])
    v.sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0, 2.0, 0.0])


def test_view_sees_write_through_sibling_view():
    x = leaf([1.0, 2.0, 3.0])
    y = x.clone()
    v = y[:2]
    w = y[1:]
    w.mul_(3)
    np.testing.assert_allclose(npg(v), [1.0, 6.0])
    v.sum().backward()
    np.testing.assert_allclose(npg(x.grad), [1.0, 3.0, 0.0])


def test_view_of_plain_tensor_gains_history_from_copy():
    s = leaf([4.0, 5.0, 6.0])
    y = gc.zeros(3)
    v = y[1:]
    y.copy_(s)
    assert v.requires_grad and v.grad_fn is not None
    (v * v).sum().backward()
    np.testing.assert_allclose(npg(s.grad), [0.0, 10.0, 12.0])


def test_write_through_view_of_plain_tensor_with_grad_value():
    w = leaf([2.0, 3.0])
    y = gc.zeros(4)
    y[1:3].add_(w)
    assert y.requires_grad and y.grad_fn.name() == "CopySlices"
    (y * gc.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(npg(w.grad), [2.0, 3.0])


def test_base_and_view_share_version_counter():
    y = gc.zeros(4)
    v = y.view(2, 2)
    v.add_(1)
    assert y._version is v._version and y._version.v == 1
    np.testing.assert_allclose(npg(y), [1.0, 1.0, 1.0, 1.0])


def test_saved_base_modified_through_view_errors():
    x = leaf([1.0, 2.0])
    y = x * 1
    z = (y * y).sum()
    y[0:1].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


# ----------------------------------------------------------------------------- copy_, zero_, fill_
def test_copy_broadcasts_and_casts():
    t = gc.zeros(2, 3)
    t.copy_(gc.tensor([1.5, 2.5, 3.5], dtype=gc.float64))
    assert t.dtype == gc.float32
    np.testing.assert_allclose(npg(t), [[1.5, 2.5, 3.5]] * 2)
    i = gc.zeros(3, dtype=gc.int64)
    i.copy_(gc.tensor([1.7, -2.5, 3.9]))  # copy_ may narrow, truncating like torch
    np.testing.assert_array_equal(npg(i), [1, -2, 3])
    with pytest.raises(RuntimeError):
        t.copy_(gc.ones(4, 3))


def test_copy_gradient_goes_to_source_not_old_value():
    x = leaf([1.0, 2.0, 3.0])
    s = leaf([5.0, 6.0, 7.0], gc.float64)
    y = x * 1
    y.copy_(s)
    assert y.dtype == gc.float32
    (y * 2).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(npg(s.grad), [2.0, 2.0, 2.0])
    assert s.grad.dtype == gc.float64


def test_copy_broadcast_gradient_sums():
    x = leaf([1.0, 2.0, 3.0])
    s = leaf(5.0)
    y = x * 1
    y.copy_(s)
    (y * gc.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(npg(s.grad), 6.0)


def test_copy_into_leaf_errors_and_into_plain_tensor_records():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf"):
        x.copy_(gc.tensor([2.0]))
    s = leaf([1.0, 2.0])
    a = gc.zeros(2)
    a.copy_(s)
    assert a.requires_grad
    (a * 3).sum().backward()
    np.testing.assert_allclose(npg(s.grad), [3.0, 3.0])


def test_zero_and_fill_values():
    t = gc.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.zero_() is t
    np.testing.assert_allclose(npg(t), 0.0)
    t.fill_(2.5)
    np.testing.assert_allclose(npg(t), 2.5)
    i = gc.tensor([1, 2])
    i.fill_(7)
    assert i.dtype == gc.int64
    np.testing.assert_array_equal(npg(i), [7, 7])
    t.fill_(gc.tensor(1.5))
    np.testing.assert_allclose(npg(t), 1.5)
    with pytest.raises(RuntimeError, match="0-dimension"):
        t.fill_(gc.tensor([1.0, 2.0]))


def test_zero_and_fill_gradients():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y.zero_()
    (y + x).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [1.0, 1.0, 1.0])  # only the direct path
    x.grad = None
    v = leaf(2.0)
    y = x * 1
    y.fill_(v)
    (y * x).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(npg(v.grad), 6.0)


def test_fill_through_view():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y[1:].fill_(0.0)
    np.testing.assert_allclose(npg(y), [1.0, 0.0, 0.0])
    (y * 5).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [5.0, 0.0, 0.0])


def test_setitem_gradients():
    x = rand64(4)
    v = rand64(2, seed=7)

    def f(x, v):
        y = x * 1
        y[1:3] = v * 2
        return y.cos()

    assert gradcheck(f, (x, v))


def test_in_place_through_an_expand_that_shares_no_memory():
    # expanding a size-1 dim to 1 (or adding nothing) leaves every element its own location
    base = gc.tensor([1.0, 2.0])
    v = base.unsqueeze(1).expand(2, 1)
    v.add_(1)
    assert base.tolist() == [2.0, 3.0]
    row = gc.tensor([[1.0, 2.0, 3.0]])
    row.expand(1, 3).mul_(2)
    assert row.tolist() == [[2.0, 4.0, 6.0]]


def test_fill_and_zero_through_an_overlapping_expand_write_the_base():
    base = gc.tensor([1.0, 2.0])
    base.expand(3, 2).fill_(7)
    assert base.tolist() == [7.0, 7.0]
    base.expand(3, 2).zero_()
    assert base.tolist() == [0.0, 0.0]
    for write in (lambda e: e.add_(1), lambda e: e.__setitem__(Ellipsis, 5)):
        with pytest.raises(RuntimeError, match="single memory location"):
            write(gc.tensor([1.0, 2.0]).expand(3, 2))


def test_accumulating_into_a_grad_that_is_an_expand_view_does_not_share_memory():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward(create_graph=True)   # x.grad: the sum's expanded gradient
    x.grad.fill_(1.0)                     # writes both elements' one location
    x.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_a_view_made_under_no_grad_cannot_be_modified_in_place_with_grad_on():
    x = gc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with gc.no_grad():
        v = x[0:2]
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        v.mul_(2)
    with gc.no_grad():
        v.mul_(2)                      # both inside no_grad: allowed, and it writes x
    assert x.detach().tolist() == [2.0, 4.0, 3.0]
    y = x * 1
    with gc.no_grad():
        w = y[1:]
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        w.add_(1)
