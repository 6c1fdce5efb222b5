"""Eager autograd semantics: backward, grad, accumulation, retain_graph, hooks, version counters, deep graphs."""
import time

import numpy as np
import pytest

import graphc as gc
from graphc.autograd import gradcheck, gradgradcheck
from helpers import rand64


def leaf(values, dtype=gc.float32):
    return gc.tensor(values, dtype=dtype, requires_grad=True)


def npg(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- backward() basics
def test_scalar_backward_default_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0, 4.0, 6.0])
    assert x.grad.dtype == gc.float32 and x.grad.shape == (3,)
    assert not x.grad.requires_grad and x.grad.grad_fn is None


@pytest.mark.parametrize("shape", [(3,), (2, 2), (0,)])
def test_non_scalar_backward_needs_gradient(shape):
    x = gc.ones(shape, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_one_element_non_scalar_backward_is_implicit():
    x = leaf([[3.0]])
    (x * x).backward()
    np.testing.assert_allclose(npg(x.grad), [[6.0]])


def test_backward_with_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(gc.tensor([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(npg(x.grad), [2.0, 2.0, -6.0])


def test_gradient_shape_mismatch_errors():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(gc.ones(2))


def test_gradient_of_other_float_dtype_is_accepted():
    x = leaf([1.0, 2.0])
    (x * 3).backward(gc.ones(2, dtype=gc.float64))
    assert x.grad.dtype == gc.float32
    np.testing.assert_allclose(npg(x.grad), [3.0, 3.0])


def test_backward_on_tensor_without_grad_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gc.tensor([1.0, 2.0]).sum().backward()


def test_backward_on_leaf_itself():
    x = leaf(2.0)
    x.backward()
    np.testing.assert_allclose(npg(x.grad), 1.0)


def test_autograd_backward_function_with_several_roots():
    x = leaf([1.0, 2.0])
    y1, y2 = x * 2, x * x
    gc.autograd.backward([y1, y2], [gc.ones(2), gc.tensor([1.0, 10.0])])
    np.testing.assert_allclose(npg(x.grad), [2 + 2.0, 2 + 40.0])


def test_broadcast_gradients_reduce_to_leaf_shapes():
    a = rand64(3, 1)
    b = rand64(1, 4, seed=1)
    (a * b + a).sum().backward()
    np.testing.assert_allclose(npg(a.grad), npg(b).sum(1, keepdims=True).repeat(3, 0) + 4)
    np.testing.assert_allclose(npg(b.grad), npg(a).sum(0, keepdims=True).repeat(4, 1))
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)


def test_diamond_graph_sums_both_paths():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = (y * y + y * 3).sum()  # dz/dx = (2y + 3) * 2
    z.backward()
    np.testing.assert_allclose(npg(x.grad), (2 * np.array([2.0, 4.0]) + 3) * 2)


def test_same_tensor_twice_as_input():
    x = leaf([1.0, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0, -4.0])
    assert (x * x).grad_fn.next_functions[0][0] is (x * x).grad_fn.next_functions[1][0]


# ----------------------------------------------------------------------------- accumulation
def test_gradients_accumulate_until_zeroed():
    x = leaf([1.0, 2.0])
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [6.0, 12.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [5.0, 5.0])
    g = x.grad
    x.grad.zero_()
    (x * 5).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [5.0, 5.0])
    assert x.grad is g  # accumulated in place into the existing tensor, as torch does


def test_grad_setter_validates():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = gc.ones(3)
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0]
    x.grad = gc.ones(2)
    np.testing.assert_allclose(npg(x.grad), [1.0, 1.0])


def test_non_leaf_grad_is_none_unless_retained():
    x = leaf([1.0, 2.0])
    y = x * 3
    z = y * y
    z.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf"):  # torch warns on this access too
        assert y.grad is None
    assert not y.is_leaf
    assert x.grad is not None


def test_retain_grad_keeps_and_accumulates():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(npg(y.grad), [6.0, 12.0])
    z.backward()
    np.testing.assert_allclose(npg(y.grad), [12.0, 24.0])
    np.testing.assert_allclose(npg(x.grad), [36.0, 72.0])


def test_retain_grad_on_leaf_is_noop_and_requires_grad_needed():
    x = leaf([1.0])
    x.retain_grad()
    (x * 2).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0])
    with pytest.raises(RuntimeError):
        gc.tensor([1.0]).retain_grad()


def test_retain_grad_sees_gradient_after_hooks():
    # torch runs retain_grad last, whatever the registration order
    for retain_first in (True, False):
        x = leaf([1.0, 2.0])
        y = x * 2
        if retain_first:
            y.retain_grad()
        y.register_hook(lambda g: g * 10)
        if not retain_first:
            y.retain_grad()
        y.sum().backward()
        np.testing.assert_allclose(npg(y.grad), [10.0, 10.0])
        np.testing.assert_allclose(npg(x.grad), [20.0, 20.0])


# ----------------------------------------------------------------------------- retain_graph
def test_second_backward_through_freed_graph_errors():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_second_backward_through_freed_output_saving_graph_errors():
    x = leaf([1.0, 2.0])
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(npg(x.grad), [4.0, 8.0])


def test_graph_that_saved_nothing_allows_second_backward():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    y = (a + b).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(npg(a.grad), [2.0, 2.0])
    np.testing.assert_allclose(npg(b.grad), [2.0, 2.0])


def test_grad_with_retain_graph_then_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (g,) = gc.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(npg(g), [2.0, 4.0])
    y.backward()
    np.testing.assert_allclose(npg(x.grad), [2.0, 4.0])


# ----------------------------------------------------------------------------- requires_grad propagation
def test_results_require_grad_only_when_an_input_does():
    x = leaf([1.0, 2.0])
    c = gc.tensor([3.0, 4.0])
    assert (x * c).requires_grad and (c * x).requires_grad
    assert not (c * c).requires_grad and (c * c).grad_fn is None
    assert (x * c).grad_fn is not None and not (x * c).is_leaf


def test_no_grad_results_do_not_require_grad():
    x = leaf([1.0, 2.0])
    with gc.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf


def test_integer_and_bool_results_do_not_require_grad():
    x = leaf([1.0, -2.0])
    assert not (x > 0).requires_grad
    assert not x.isnan().requires_grad
    assert not x.to(gc.int64).requires_grad


def test_requires_grad_on_integer_tensor_errors():
    with pytest.raises(RuntimeError, match="floating point"):
        gc.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        gc.tensor([1, 2], requires_grad=True)
    t = gc.tensor([True])
    with pytest.raises(RuntimeError):
        t.requires_grad = True


def test_requires_grad_setter_and_method():
    x = gc.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf


def test_setting_requires_grad_false_on_non_leaf_errors():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    y.requires_grad_(True)  # harmless
    assert y.requires_grad


# ----------------------------------------------------------------------------- detach
def test_detach_shares_data_and_version_counter():
    x = leaf([1.0, 2.0, 3.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d.mul_(2)  # allowed: d does not require grad; x sees the write
    np.testing.assert_allclose(npg(x), [2.0, 4.0, 6.0])
    assert x._version.v == d._version.v == 1


def test_detach_write_breaks_saved_values():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    x.detach().add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_detach_in_place():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    np.testing.assert_allclose(npg(y), [2.0, 4.0])


def test_detach_in_place_on_view_errors():
    x = leaf([1.0, 2.0])
    v = x.view(2, 1)
    with pytest.raises(RuntimeError, match="views"):
        v.detach_()


def test_data_attribute_is_detached():
    x = leaf([1.0, 2.0])
    assert not x.data.requires_grad
    x.data.mul_(3)
    np.testing.assert_allclose(npg(x), [3.0, 6.0])


# ----------------------------------------------------------------------------- in-place and version counter
def test_in_place_on_leaf_requiring_grad_errors():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x += 1
    with pytest.raises(RuntimeError, match="leaf"):
        x.zero_()


def test_in_place_on_view_of_leaf_errors():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.view(2, 1).mul_(2)


def test_in_place_on_leaf_allowed_under_no_grad():
    x = leaf([1.0, 2.0])
    with gc.no_grad():
        x.add_(1)
        x.zero_()
    np.testing.assert_allclose(npg(x), [0.0, 0.0])
    assert x.is_leaf and x.requires_grad


def test_modifying_saved_input_errors_at_backward():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = (h * h).sum()
    h.add_(1)  # the forward is fine; backward needs the old h
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulBackward0"):
        y.backward()


def test_modifying_input_of_output_saving_op_is_allowed():
    # exp saves its output only, so changing its input does not matter (as in torch)
    x = leaf([1.0, 2.0])
    h = x * 1
    y = h.exp()
    h.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(npg(x.grad), np.exp([1.0, 2.0]), rtol=1e-6)


def test_modifying_saved_output_errors():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_modifying_input_of_op_that_saved_nothing_is_allowed():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = (h + 3.0).sum()
    h.mul_(5)
    y.backward()
    np.testing.assert_allclose(npg(x.grad), [1.0, 1.0])


def test_mul_by_constant_saves_only_the_constant():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = (h * 3.0).sum()
    h.add_(1)  # h is not needed for d(h*3)/dh
    y.backward()
    np.testing.assert_allclose(npg(x.grad), [3.0, 3.0])
    c = gc.tensor([2.0, 4.0])
    y = (x * c).sum()
    c.add_(1)  # c is needed for d(x*c)/dx
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_where_does_not_save_its_values():
    x = leaf([1.0, -2.0])
    h = x * 1
    y = gc.where(x > 0, h, 0.0).sum()
    h.add_(3)
    y.backward()
    np.testing.assert_allclose(npg(x.grad), [1.0, 0.0])


def test_version_counter_bumps_on_every_in_place_write():
    t = gc.zeros(3)
    v0 = t._version.v
    t.add_(1)
    t.mul_(2)
    t[0] = 5.0
    assert t._version.v == v0 + 3


# ----------------------------------------------------------------------------- inputs=
def test_inputs_restricts_accumulation():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_allclose(npg(a.grad), [3.0, 4.0])
    assert b.grad is None
    (a * b).sum().backward(inputs=b)
    np.testing.assert_allclose(npg(b.grad), [1.0, 2.0])
    np.testing.assert_allclose(npg(a.grad), [3.0, 4.0])


def test_inputs_with_non_leaf_accumulates_into_it():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    y = a * 2
    (y * b).sum().backward(inputs=[y])
    np.testing.assert_allclose(npg(y.grad), [3.0, 4.0])
    assert a.grad is None and b.grad is None


def test_empty_inputs_errors():
    a = leaf([1.0])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * 2).sum().backward(inputs=[])


# ----------------------------------------------------------------------------- autograd.grad
def test_grad_returns_tuple_and_leaves_grad_untouched():
    x = leaf([1.0, 2.0])
    res = gc.autograd.grad((x * x).sum(), x)
    assert isinstance(res, tuple) and len(res) == 1
    np.testing.assert_allclose(npg(res[0]), [2.0, 4.0])
    assert x.grad is None
    assert not res[0].requires_grad


def test_grad_with_grad_outputs_for_non_scalar():
    x = leaf([1.0, 2.0])
    (g,) = gc.autograd.grad(x * x, x, grad_outputs=gc.tensor([1.0, -1.0]))
    np.testing.assert_allclose(npg(g), [2.0, -4.0])
    with pytest.raises(RuntimeError, match="scalar outputs"):
        gc.autograd.grad(x * x, x)


def test_grad_several_inputs_and_outputs():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    ga, gb = gc.autograd.grad([(a * b).sum(), (a * a).sum()], [a, b])
    np.testing.assert_allclose(npg(ga), [3.0 + 2.0, 4.0 + 4.0])
    np.testing.assert_allclose(npg(gb), [1.0, 2.0])


def test_grad_wrt_intermediate():
    x = leaf([1.0, 2.0])
    y = x * 3
    (g,) = gc.autograd.grad((y * y).sum(), y)
    np.testing.assert_allclose(npg(g), [6.0, 12.0])


def test_grad_allow_unused():
    a = leaf([1.0])
    b = leaf([2.0])
    ga, gb = gc.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    np.testing.assert_allclose(npg(ga), [2.0])
    assert gb is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        gc.autograd.grad((a * 2).sum(), [a, b])
    ga, gb = gc.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)
    np.testing.assert_allclose(npg(gb), [0.0])


def test_grad_input_not_requiring_grad_errors():
    a = leaf([1.0])
    c = gc.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        gc.autograd.grad((a * c).sum(), [c])


def test_grad_frees_graph_without_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    gc.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        gc.autograd.grad(y, x)


def test_hooks_apply_to_captured_gradients():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 3)
    (g,) = gc.autograd.grad((x * 2).sum(), x)
    np.testing.assert_allclose(npg(g), [6.0, 6.0])
    y = x * 2
    y.register_hook(lambda g: g * 10)
    (gy,) = gc.autograd.grad(y.sum(), y)
    np.testing.assert_allclose(npg(gy), [10.0, 10.0])


# ----------------------------------------------------------------------------- higher order
def test_higher_order_derivatives_of_cube():
    x = leaf([1.0, 2.0, -3.0], gc.float64)
    (g1,) = gc.autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(npg(g1), 3 * npg(x) ** 2)
    assert g1.requires_grad and g1.grad_fn is not None
    (g2,) = gc.autograd.grad(g1.sum(), x, create_graph=True)
    np.testing.assert_allclose(npg(g2), 6 * npg(x))
    (g3,) = gc.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(npg(g3), [6.0, 6.0, 6.0])
    assert x.grad is None


def test_backward_with_create_graph_gives_differentiable_grad():
    x = leaf([1.0, 2.0], gc.float64)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(npg(x.grad), 6 * npg(x))


@pytest.mark.parametrize("fn", [
    lambda a, b: a * b * a,
    lambda a, b: (a * b).exp(),
    lambda a, b: (a * b).tanh(),
    lambda a, b: (a - b).sigmoid(),
    lambda a, b: a / (b + 3.0),
    lambda a, b: (a + 2.0) ** (b + 1.0),
    lambda a, b: (a * a + 1).log() * b.sin(),
    lambda a, b: (a.abs() + 1).sqrt() / b.cos(),
], ids=["mul", "exp", "tanh", "sigmoid", "div", "pow", "log_sin", "sqrt_cos"])
def test_grad_of_grad(fn):
    a = rand64(3, seed=1)
    b = rand64(3, seed=2)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_grad_of_grad_of_pow_by_scalar_matches_formula():
    x = leaf([0.5, 1.5, 2.0], gc.float64)
    (g,) = gc.autograd.grad((x ** 4).sum(), x, create_graph=True)
    (h,) = gc.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(npg(h), 12 * npg(x) ** 2)


# ----------------------------------------------------------------------------- grad_fn structure
def test_grad_fn_names():
    x = leaf([1.0, 2.0])
    assert (x * 2).grad_fn.name() == "MulBackward0"
    assert (x + 1).grad_fn.name() == "AddBackward0"
    assert (x - x).grad_fn.name() == "SubBackward0"
    assert (x / 2).grad_fn.name() == "DivBackward0"
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.exp().grad_fn.name() == "ExpBackward0"
    assert (-x).grad_fn.name() == "NegBackward0"
    assert (x ** 2).grad_fn.name() == "PowBackward0"
    assert x.to(gc.float64).grad_fn.name() == "ToCopyBackward0"
    assert x.clone().grad_fn.name() == "CloneBackward0"
    assert gc.where(x > 1, x, 0.0).grad_fn.name() == "WhereBackward0"


@pytest.mark.parametrize("expr, name", [
    ("x.mean()", "MeanBackward0"), ("x.mean(0)", "MeanBackward1"), ("x.sum(0)", "SumBackward1"),
    ("x.max()", "MaxBackward1"), ("x.min()", "MinBackward1"), ("x.var()", "VarBackward0"),
    ("x.std()", "StdBackward0"), ("x.t()", "TBackward0"), ("x.transpose(0, 1)", "TransposeBackward0"),
    ("x.unsqueeze(0)", "UnsqueezeBackward0"), ("x[None, 0].squeeze()", "SqueezeBackward0"),
    ("x.unsqueeze(0).squeeze(0)", "SqueezeBackward1"), ("x[0]", "SelectBackward0"),
    ("x[:, 0]", "SelectBackward0"), ("x[0, 1:]", "SliceBackward0"), ("x[1:]", "SliceBackward0"),
    ("x.select(1, 0)", "SelectBackward0"), ("gc.stack([x, x])", "StackBackward0"),
    ("x.log1p()", "Log1PBackward0"), ("F.softmax(x, 1)", "SoftmaxBackward0"),
    ("F.log_softmax(x, 1)", "LogSoftmaxBackward0"), ("F.mse_loss(x, x.detach() + 1)", "MseLossBackward0"),
    ("F.cross_entropy(x, gc.tensor([0, 1]))", "NllLossBackward0"),
    ("F.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid())", "BinaryCrossEntropyBackward0"),
    ("x.index_select(0, gc.tensor([1]))", "IndexSelectBackward0"), ("x.masked_select(x > 1)", "MaskedSelectBackward0"),
    ("x.take(gc.tensor([0]))", "TakeBackward0"), ("x.masked_fill(x > 1, 0.0)", "MaskedFillBackward0"),
    ("gc.addmm(x, x, x)", "AddmmBackward0"), ("x.mv(x[0])", "MvBackward0"), ("gc.dot(x[0], x[1])", "DotBackward0"),
    ("gc.bmm(x[None], x[None])", "BmmBackward0"),
])
def test_grad_fn_names_of_composite_and_view_ops_follow_torch(expr, name):
    import graphc.nn.functional as F  # noqa: F401 (used by eval)
    x = gc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert eval(expr).grad_fn.name() == name


def test_next_functions_structure():
    x = leaf([1.0, 2.0])
    y = x * 2
    (acc, nr), (const, cnr) = y.grad_fn.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and nr == 0
    assert acc.variable is x
    assert const is None and cnr == 0
    z = (y + x).sum()
    (add_fn, _), = z.grad_fn.next_functions
    assert add_fn.name() == "AddBackward0"
    assert add_fn.next_functions[0][0] is y.grad_fn
    assert add_fn.next_functions[1][0] is acc  # one AccumulateGrad per leaf
    assert acc.next_functions == ()


def test_multi_output_node_output_numbers():
    x = leaf([[3.0, 1.0], [2.0, 5.0]])
    vals, idx = x.max(dim=1)
    assert vals.grad_fn is not None and not idx.requires_grad
    y = vals * 1
    assert y.grad_fn.next_functions[0] == (vals.grad_fn, 0)


# ----------------------------------------------------------------------------- hooks
def test_hook_on_leaf_modifies_accumulated_grad():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(npg(g).copy()))
    x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(npg(x.grad), [6.0, 6.0])


def test_hook_on_non_leaf_changes_upstream_grads():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: g + 1)
    (y * y).sum().backward()
    np.testing.assert_allclose(npg(x.grad), (2 * npg(y) + 1) * 2)


def test_hook_handle_remove():
    x = leaf([1.0])
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    (x * 2).sum().backward()
    np.testing.assert_allclose(npg(x.grad), [2.0])


def test_hook_on_tensor_without_grad_errors():
    with pytest.raises(RuntimeError):
        gc.tensor([1.0]).register_hook(lambda g: g)


def test_grad_fn_register_hook_sees_grads():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = {}
    y.grad_fn.register_hook(lambda gin, gout: seen.update(gin=gin, gout=gout))
    y.sum().backward()
    np.testing.assert_allclose(npg(seen["gout"][0]), [1.0, 1.0])
    np.testing.assert_allclose(npg(seen["gin"][0]), [3.0, 3.0])


# ----------------------------------------------------------------------------- deep graphs
def test_deep_chain_backpropagates_without_recursion(monkeypatch):
    from graphc.eager import dispatch

    monkeypatch.setattr(dispatch, "CHECK_SPECS", False)  # 100k shape-rule checks would dominate
    x = leaf([1.5])
    y = x
    n = 100_000
    t0 = time.perf_counter()
    for _ in range(n):
        y = -y
    y.sum().backward()
    assert time.perf_counter() - t0 < 60
    np.testing.assert_allclose(npg(x.grad), [1.0])  # an even number of negations


def test_deep_chain_with_saved_values():
    x = leaf([0.5], gc.float64)
    y = x
    for _ in range(2000):
        y = y * 1.001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(npg(x.grad), [1.001 ** 2000], rtol=1e-10)


def test_wide_fan_out():
    x = leaf([1.0])
    total = sum((x * float(i) for i in range(300)), gc.zeros(1))
    total.sum().backward()
    np.testing.assert_allclose(npg(x.grad), [sum(range(300))])


def test_relu_gradient_stays_connected_under_create_graph():
    # torch's relu backward is threshold_backward(g, y): differentiable in y with derivative 0,
    # so a gradient penalty through relu gives zeros, not "does not require grad"
    x = gc.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    g, = gc.autograd.grad(gc.relu(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.tolist() == [0.0, 1.0, 1.0]
    g2, = gc.autograd.grad(g.sum(), x)
    assert g2.tolist() == [0.0, 0.0, 0.0]
    w = gc.ones(3, 3, requires_grad=True)
    xs = gc.ones(2, 3, requires_grad=True)
    gx, = gc.autograd.grad(gc.relu(xs @ w).sum(), xs, create_graph=True)
    (gx ** 2).sum().backward()
    assert xs.grad is not None and xs.grad.tolist() == [[0.0] * 3] * 2
    np.testing.assert_allclose(w.grad.numpy(), np.full((3, 3), 4 * 3.0))  # d/dw sum_j (sum_k w_jk)^2 * 2 rows


def test_relu_gradient_passes_nan_inputs_on_like_torch():
    x = gc.tensor([float("nan"), -1.0, 0.0, 3.0], requires_grad=True)
    gc.relu(x).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_grad_from_create_graph_keeps_its_graph_when_a_plain_backward_accumulates():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = gc.tensor([3.0, 4.0], requires_grad=True)
    (x + y).exp().sum().backward(create_graph=True)   # one gradient tensor reaches both leaves
    assert x.grad is not y.grad and x.grad.requires_grad
    (x * 1).sum().backward()
    e = np.exp(np.array([4.0, 6.0]))
    np.testing.assert_allclose(x.grad.detach().numpy(), e + 1, rtol=1e-6)
    np.testing.assert_allclose(y.grad.detach().numpy(), e, rtol=1e-6)   # untouched by x's accumulation
    assert x.grad.requires_grad


@pytest.mark.parametrize("fn", [lambda x: x.mean(), lambda x: (x / 2).sum(), lambda x: (x * 3).sum(),
                                lambda x: x.remainder(1.5).sum(), lambda x: x.fmod(1.5).sum()])
def test_a_second_backward_works_where_only_python_numbers_were_saved(fn):
    x = gc.tensor([1.0, 2.5, 4.0], requires_grad=True)
    y = fn(x)
    y.backward()
    first = x.grad.clone()
    y.backward()          # torch keeps scalars, so nothing was freed
    np.testing.assert_allclose(x.grad.numpy(), 2 * first.numpy())


def test_a_second_backward_through_saved_tensors_still_fails():
    x = gc.tensor([1.0, 2.5], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_from_one_tensor_given_twice_adds_both_gradients():
    x = gc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    g, = gc.autograd.grad([y, y], [x], [gc.ones(3), gc.ones(3)])
    assert g.tolist() == [4.0, 4.0, 4.0]
    gc.autograd.backward([y, y], [gc.ones(3), gc.full((3,), 0.5)])
    assert x.grad.tolist() == [3.0, 3.0, 3.0]
    f = gc.compile(lambda t: (t * 2, t * 2))   # a compiled function returning one value twice
    a = gc.tensor([1.0, 2.0], requires_grad=True)
    u, v = f(a)
    (u.sum() + v.sum()).backward()
    assert a.grad.tolist() == [4.0, 4.0]
