"""gc.autograd.Function: forward/backward, ctx bookkeeping, and errors, checked against torch's semantics."""
import numpy as np
import pytest

import graphc as gc
from graphc.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from helpers import rand64


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class ScaleBy(Function):
    """A tensor times a Python number: backward returns None for the number."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * g  # wrong on purpose


def test_apply_forward_value_and_grad_fn():
    x = gc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Square.apply(x)
    np.testing.assert_allclose(y.detach().numpy(), [1.0, 4.0, 9.0])
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "SquareBackward"
    assert y.grad_fn.next_functions[0][0] is x.grad_fn or y.grad_fn.next_functions[0][1] == 0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_forward_runs_without_recording():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen["enabled"] = gc.is_grad_enabled()
            y = x * 2
            seen["inner_requires_grad"] = y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    Probe.apply(gc.tensor([1.0], requires_grad=True))
    assert seen == {"enabled": False, "inner_requires_grad": False}


def test_no_input_requires_grad_gives_plain_tensor():
    y = Square.apply(gc.tensor([1.0, 2.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_under_no_grad_nothing_is_recorded():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    with gc.no_grad():
        y = Square.apply(x)
    assert not y.requires_grad and y.grad_fn is None


def test_non_tensor_argument_and_none_gradient():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = ScaleBy.apply(x, 3.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_needs_input_grad():
    recorded = {}

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            recorded["forward"] = ctx.needs_input_grad
            ctx.save_for_backward(a, b)
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            recorded["backward"] = ctx.needs_input_grad
            a, b = ctx.saved_tensors
            ga = g * b if ctx.needs_input_grad[0] else None
            gb = g * a if ctx.needs_input_grad[1] else None
            return ga, gb, None

    a = gc.tensor([1.0, 2.0], requires_grad=True)
    b = gc.tensor([3.0, 4.0])
    Mul.apply(a, b, 2).sum().backward()
    assert recorded["forward"] == (True, False, False)
    assert recorded["backward"] == (True, False, False)
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


def test_multiple_outputs():
    class SinCos(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc_):
            (x,) = ctx.saved_tensors
            return gs * x.cos() - gc_ * x.sin()

    x = rand64(4)
    s, c = SinCos.apply(x)
    assert s.grad_fn is c.grad_fn
    assert (s._out, c._out) == (0, 1)
    (s * 2 + c * 3).sum().backward()
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv) - 3 * np.sin(xv))


def test_multiple_outputs_one_unused_gets_zero_gradient():
    got = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got["g2"] = g2.detach().numpy().copy()
            return g1 * 2 + g2 * 3

    x = gc.tensor([1.0, 2.0], requires_grad=True)
    a, _ = Two.apply(x)
    a.sum().backward()
    np.testing.assert_allclose(got["g2"], [0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_mark_non_differentiable():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            idx = gc.tensor(np.argsort(x.detach().numpy()))
            vals = x * 1
            ctx.mark_non_differentiable(idx)
            return vals, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            return g

    x = gc.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortLike.apply(x)
    assert vals.requires_grad
    assert not idx.requires_grad and idx.grad_fn is None


def test_mark_non_differentiable_float_output():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            a, b = x * 2, x * 3
            ctx.mark_non_differentiable(b)
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2

    x = gc.tensor([1.0], requires_grad=True)
    a, b = Two.apply(x)
    assert a.requires_grad and not b.requires_grad


def test_mark_dirty_in_place_forward():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    leaf = gc.tensor([1.0, 2.0], requires_grad=True)
    y = leaf * 2
    v0 = y._version.v
    z = AddOneInPlace.apply(y)
    assert z is y
    assert y._version.v > v0
    np.testing.assert_allclose(y.detach().numpy(), [3.0, 5.0])
    assert y.grad_fn.name() == "AddOneInPlaceBackward"
    y.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), [2.0, 2.0])


def test_returning_an_input_unchanged_makes_a_new_tensor():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_backward_returning_too_many_gradients_errors():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = gc.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooMany.apply(x).sum().backward()


def test_backward_returning_too_few_gradients_errors():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = gc.tensor([1.0], requires_grad=True)
    y = gc.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooFew.apply(x, y).sum().backward()


def test_extra_none_gradients_are_accepted():
    class ExtraNone(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    x = gc.tensor([1.0], requires_grad=True)
    ExtraNone.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_backward_returning_wrong_shape_errors():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return gc.tensor([1.0, 2.0, 3.0])

    x = gc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        BadShape.apply(x).sum().backward()


def test_backward_returning_non_tensor_errors():
    class BadType(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 3.0

    x = gc.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError):
        BadType.apply(x).sum().backward()


def test_saved_tensor_modified_in_place_errors():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Square.apply(h)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_second_backward_after_saved_tensors_freed_errors():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_function_saving_nothing_allows_second_backward():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = ScaleBy.apply(x, 3.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_save_for_backward_rejects_non_tensors():
    class SavesNumber(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(3.0)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError):
        SavesNumber.apply(gc.tensor([1.0], requires_grad=True))


def test_save_output_for_backward():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = rand64(5)
    assert gradcheck(Exp.apply, (x,))


def test_create_graph_through_custom_function():
    # backward built from graphc ops is itself differentiable
    x = gc.tensor([1.0, 2.0, 3.0], dtype=gc.float64, requires_grad=True)
    y = Square.apply(x).sum()
    (g,) = gc.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2.0, 4.0, 6.0])
    assert g.requires_grad
    (g2,) = gc.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [2.0, 2.0, 2.0])


def test_gradcheck_and_gradgradcheck_on_custom_function():
    x = rand64(3, 2)
    assert gradcheck(Square.apply, (x,))
    assert gradgradcheck(Square.apply, (x,))


def test_gradcheck_catches_wrong_backward():
    x = rand64(4)
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, (x,))
    assert issubclass(GradcheckError, RuntimeError)
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x * x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    x = rand64(3)
    assert gradcheck(Cube.apply, (x,))


def test_materialize_grads_off_passes_none():
    got = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got["g2"] = g2
            return g1 * 2

    x = gc.tensor([1.0], requires_grad=True)
    a, _ = Two.apply(x)
    a.sum().backward()
    assert got["g2"] is None
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_custom_function_in_larger_graph_and_two_inputs():
    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a

    a, b = rand64(3, seed=1), rand64(3, seed=2)
    assert gradcheck(lambda p, q: Mul.apply(p.exp(), q * 2).sin(), (a, b))


def test_gradcheck_on_non_contiguous_input():
    x = gc.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 4)), dtype=gc.float64).t().requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda t: (t * t.sin()).sum(0), (x,))
    assert not gradcheck(WrongSquare.apply, (x,), raise_exception=False)


def test_gradcheck_needs_a_differentiable_input():
    with pytest.raises(ValueError):
        gradcheck(lambda t: t * 2, (gc.ones(2, dtype=gc.float64),))


def test_a_gradient_for_a_non_tensor_argument_is_refused():
    class Scale(gc.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g   # the second belongs to k, a Python number

    x = gc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="position 2, but the corresponding forward input was not a Variable"):
        Scale.apply(x, 3.0).sum().backward()


def test_mark_non_differentiable_on_a_returned_input():
    class Same(gc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_non_differentiable(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    y = Same.apply(gc.ones(2, requires_grad=True) * 1)
    assert not y.requires_grad and y.grad_fn is None
