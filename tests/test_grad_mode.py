"""Grad mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import threading

import numpy as np
import pytest

import graphc as gc


@pytest.fixture
def x():
    return gc.tensor([1.0, 2.0], requires_grad=True)


def test_default_is_enabled():
    assert gc.is_grad_enabled()


def test_no_grad_context(x):
    with gc.no_grad():
        assert not gc.is_grad_enabled()
        y = x * 2
    assert gc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_restores_on_exception(x):
    with pytest.raises(ValueError):
        with gc.no_grad():
            raise ValueError("boom")
    assert gc.is_grad_enabled()


def test_enable_grad_inside_no_grad(x):
    with gc.no_grad():
        with gc.enable_grad():
            assert gc.is_grad_enabled()
            y = x * 2
        assert not gc.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_nested_no_grad_keeps_outer_state():
    with gc.no_grad():
        with gc.no_grad():
            pass
        assert not gc.is_grad_enabled()
    assert gc.is_grad_enabled()


@pytest.mark.parametrize("bare", [False, True])
def test_no_grad_decorator(x, bare):
    def f(a):
        """doc of f"""
        assert not gc.is_grad_enabled()
        return a * 2

    g = gc.no_grad(f) if bare else gc.no_grad()(f)
    y = g(x)
    assert not y.requires_grad
    assert g.__name__ == "f" and g.__doc__ == "doc of f"
    assert gc.is_grad_enabled()


def test_bare_decorator_syntax(x):
    @gc.no_grad
    def f(a):
        return a * 2

    @gc.enable_grad
    def h(a):
        return a * 2

    assert not f(x).requires_grad
    with gc.no_grad():
        assert h(x).requires_grad
    assert gc.is_grad_enabled()


def test_decorated_function_called_twice_and_recursively(x):
    @gc.no_grad()
    def f(a, depth):
        if depth:
            return f(a, depth - 1)
        return a * 2

    assert not f(x, 3).requires_grad
    assert not f(x, 0).requires_grad
    assert gc.is_grad_enabled()


def test_enable_grad_decorator_under_no_grad(x):
    @gc.enable_grad()
    def f(a):
        return a * 2

    with gc.no_grad():
        y = f(x)
        assert not gc.is_grad_enabled()
    assert y.requires_grad


def test_set_grad_enabled_plain_call():
    gc.set_grad_enabled(False)
    assert not gc.is_grad_enabled()
    gc.set_grad_enabled(True)
    assert gc.is_grad_enabled()


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_context(x, mode):
    with gc.set_grad_enabled(mode):
        assert gc.is_grad_enabled() is mode
        y = x * 2
    assert gc.is_grad_enabled()
    assert y.requires_grad is mode


def test_set_grad_enabled_context_restores_previous_off():
    with gc.no_grad():
        with gc.set_grad_enabled(True):
            assert gc.is_grad_enabled()
        assert not gc.is_grad_enabled()


def test_set_grad_enabled_decorator(x):
    @gc.set_grad_enabled(False)
    def f(a):
        return a * 2

    assert gc.is_grad_enabled()  # decorating does not switch the mode
    assert not f(x).requires_grad
    assert gc.is_grad_enabled()


def test_autograd_namespace_aliases():
    assert gc.autograd.no_grad is gc.no_grad
    assert gc.autograd.enable_grad is gc.enable_grad
    assert gc.autograd.set_grad_enabled is gc.set_grad_enabled


def test_inference_mode(x):
    with gc.inference_mode():
        assert not gc.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad
    with gc.inference_mode(False):
        assert gc.is_grad_enabled()

    @gc.inference_mode()
    def f(a):
        return a * 2

    @gc.inference_mode
    def g(a):
        return a * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert gc.is_grad_enabled()


def test_no_grad_allows_in_place_on_leaf(x):
    with gc.no_grad():
        x.mul_(3)
    np.testing.assert_allclose(x.detach().numpy(), [3.0, 6.0])
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


def test_backward_of_graph_built_before_no_grad(x):
    y = (x * x).sum()
    with gc.no_grad():
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_grad_mode_is_thread_local(x):
    seen = {}

    def worker():
        seen["enabled"] = gc.is_grad_enabled()
        seen["rg"] = (x * 2).requires_grad

    with gc.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == {"enabled": True, "rg": True}
