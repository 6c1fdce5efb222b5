"""gc.compile's per-call fast path (plain tensor arguments, nothing captured): every semantic of the
full signature still holds: retraces on a new signature, state the function starts to capture,
guards, the LRU cache, checks on an argument's .grad."""
import types

import numpy as np
import pytest

import graphc as gc
from helpers import assert_matches

LATER = None  # a global that a compiled function reads; a test rebinds it


def _rand(*shape, seed=0, dtype=np.float32):
    return gc.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def test_fast_path_retraces_on_shape_dtype_and_requires_grad(backend):
    f = gc.compile(lambda x: x * 2 + 1, backend=backend)
    a = _rand(3, 4)
    for _ in range(3):
        assert_matches(f(a), a.numpy() * 2 + 1)
    b = _rand(5, 4, seed=1)
    assert_matches(f(b), b.numpy() * 2 + 1)
    c = _rand(5, 4, seed=2, dtype=np.float64)
    assert_matches(f(c), c.numpy() * 2 + 1)
    d = _rand(5, 4, seed=3).requires_grad_()
    assert_matches(f(d), d.detach().numpy() * 2 + 1)
    assert f.retraces[0] == "first call"
    assert "arg 0 shape (3, 4) -> (5, 4)" in f.retraces[1]
    assert "dtype" in f.retraces[2] and "requires_grad" in f.retraces[3]
    f(a), f(b), f(c), f(d)  # all cached
    assert len(f.retraces) == 4


def test_fast_path_sees_a_global_that_starts_to_hold_a_tensor(backend):
    global LATER
    LATER = None

    def fn(x):
        return x * 2 if LATER is None else x * LATER

    f = gc.compile(fn, backend=backend)
    a = _rand(2, 3)
    assert_matches(f(a), a.numpy() * 2)
    assert_matches(f(a), a.numpy() * 2)
    LATER = _rand(2, 3, seed=1)
    try:
        assert_matches(f(a), a.numpy() * LATER.numpy())
        assert len(f.retraces) == 2 and "LATER" in f.retraces[1]
    finally:
        LATER = None


def test_fast_path_sees_a_tensor_put_into_a_captured_list(backend):
    held = []

    def fn(x):
        return x + held[0] if held else x - 1

    f = gc.compile(fn, backend=backend)
    a = _rand(4)
    assert_matches(f(a), a.numpy() - 1)
    assert_matches(f(a), a.numpy() - 1)
    held.append(_rand(4, seed=1))
    assert_matches(f(a), a.numpy() + held[0].numpy())
    assert len(f.retraces) == 2


def test_fast_path_checks_guards_on_tensors_it_reaches_otherwise(backend):
    # reached through an attribute, not seen as captured state: a parameter node with a guard
    cfg = types.SimpleNamespace(w=_rand(3, seed=1).requires_grad_())
    f = gc.compile(lambda x: x * cfg.w, backend=backend)
    a = _rand(3)
    want = a.numpy() * cfg.w.detach().numpy()
    assert_matches(f(a), want)
    f(a)
    assert len(f.retraces) == 1
    cfg.w.requires_grad_(False)
    assert_matches(f(a), want)
    assert len(f.retraces) == 2 and "True) -> ((3,), 'float32', False)" in f.retraces[1], f.retraces


def test_fast_path_keeps_the_cache_least_recently_used_first(backend):
    f = gc.compile(lambda x: x + 1, cache_size=2, backend=backend)
    a, b, c = _rand(1), _rand(2), _rand(3)
    f(a), f(b), f(a)  # a is used last: c evicts b
    with pytest.warns(gc.static.RecompileWarning):
        f(c)
    assert len(f.retraces) == 3
    assert_matches(f(a), a.numpy() + 1)
    assert len(f.retraces) == 3
    assert_matches(f(b), b.numpy() + 1)  # evicted: traced again
    assert len(f.retraces) == 4 and len(f.traces) == 2


def test_argument_grad_of_another_shape_is_refused(backend):
    @gc.compile(backend=backend)
    def f(x):
        return x.grad * 2

    x = _rand(3).requires_grad_()
    x.grad = _rand(3, seed=1)
    assert_matches(f(x), x.grad.numpy() * 2)
    x._grad = _rand(5, seed=2)  # bypassing the setter's own check
    with pytest.raises(RuntimeError, match="x.grad"):
        f(x)


def test_fast_path_results_are_fresh_and_write_back_still_happens(backend):
    w = _rand(3, seed=1)

    @gc.compile(backend=backend)
    def step(x):
        w.add_(x)
        return x * 1

    a = _rand(3)
    w0 = w.numpy().copy()
    r1, r2 = step(a), step(a)
    assert r1._data is not r2._data and not np.shares_memory(r1._data, a._data)
    assert_matches(w, w0 + 2 * a.numpy())
