"""Random state (manual_seed, seed, initial_seed, get/set_rng_state, Generator) and the random factories."""
import math

import numpy as np
import pytest

import graphc as gc
from graphc.eager import random as gc_random
from helpers import assert_matches

N = 20000  # samples for the statistical checks: tolerances below are > 6 standard errors

RANDOM_CALLS = {
    "rand": lambda **g: gc.rand(3, 4, **g),
    "randn": lambda **g: gc.randn(5, **g),
    "randint": lambda **g: gc.randint(0, 100, (6,), **g),
    "randperm": lambda **g: gc.randperm(10, **g),
    "normal_floats": lambda **g: gc.normal(1.0, 2.0, (4,), **g),
    "normal_tensors": lambda **g: gc.normal(gc.zeros(3), gc.ones(3), **g),
    "bernoulli": lambda **g: gc.bernoulli(gc.full((8,), 0.5), **g),
    "multinomial": lambda **g: gc.multinomial(gc.tensor([1.0, 2.0, 3.0, 4.0]), 3, **g),
    "multinomial_repl": lambda **g: gc.multinomial(gc.tensor([1.0, 2.0]), 5, replacement=True, **g),
    "poisson": lambda **g: gc.poisson(gc.full((5,), 3.0), **g),
    "rand_like": lambda **g: gc.rand_like(gc.zeros(2, 2), **g),
    "randn_like": lambda **g: gc.randn_like(gc.zeros(3), **g),
    "randint_like": lambda **g: gc.randint_like(gc.zeros(4), 10, **g),
    "uniform_": lambda **g: gc.empty(4).uniform_(-1, 1, **g),
    "normal_": lambda **g: gc.empty(4).normal_(**g),
    "bernoulli_": lambda **g: gc.empty(4).bernoulli_(0.3, **g),
    "random_": lambda **g: gc.empty(4).random_(0, 50, **g),
    "exponential_": lambda **g: gc.empty(4).exponential_(**g),
}


# ----------------------------------------------------------------------------- the global state
@pytest.mark.parametrize("name", sorted(RANDOM_CALLS))
def test_manual_seed_makes_every_random_op_reproducible(name):
    call = RANDOM_CALLS[name]
    gc.manual_seed(1234)
    a = call().numpy().copy()
    b = call().numpy().copy()
    gc.manual_seed(1234)
    np.testing.assert_array_equal(call().numpy(), a)
    np.testing.assert_array_equal(call().numpy(), b)


@pytest.mark.parametrize("name", sorted(RANDOM_CALLS))
def test_generator_keyword_uses_its_own_stream(name):
    call = RANDOM_CALLS[name]
    g = gc.Generator().manual_seed(7)
    first = call(generator=g).numpy().copy()
    gc.manual_seed(0)
    gc.rand(10)  # the global stream moving does not touch g
    g.manual_seed(7)
    np.testing.assert_array_equal(call(generator=g).numpy(), first)


def test_rand_changes_between_draws_and_seeds():
    gc.manual_seed(1)
    a, b = gc.rand(100).numpy(), gc.rand(100).numpy()
    assert not np.array_equal(a, b)
    gc.manual_seed(2)
    assert not np.array_equal(gc.rand(100).numpy(), a)


def test_manual_seed_returns_the_default_generator():
    g = gc.manual_seed(42)
    assert isinstance(g, gc.Generator)
    assert g is gc_random.default_generator
    assert g.initial_seed() == 42 == gc.initial_seed()
    assert g.manual_seed(5) is g and gc.initial_seed() == 5


def test_manual_seed_accepts_torchs_range():
    assert gc.manual_seed(-1).initial_seed() == 2 ** 64 - 1  # negatives wrap to uint64
    assert gc.manual_seed(2 ** 64 - 1).initial_seed() == 2 ** 64 - 1
    assert gc.manual_seed("5").initial_seed() == 5
    assert gc.manual_seed(np.int64(9)).initial_seed() == 9
    with pytest.raises(ValueError):
        gc.manual_seed(2 ** 64)
    with pytest.raises(ValueError):
        gc.manual_seed(-(2 ** 63) - 1)
    with pytest.raises(TypeError):
        gc.manual_seed(None)


def test_seed_is_fresh_and_recorded():
    s1 = gc.seed()
    assert isinstance(s1, int) and 0 <= s1 < 2 ** 64
    assert gc.initial_seed() == s1
    a = gc.rand(4).numpy().copy()
    gc.manual_seed(s1)
    np.testing.assert_array_equal(gc.rand(4).numpy(), a)
    assert gc.seed() != s1


def test_generator_function_is_the_global_numpy_stream():
    g = gc_random.generator()
    assert isinstance(g, np.random.Generator)
    gc.manual_seed(3)
    assert gc_random.generator() is g  # reseeding keeps the object, so holders stay in sync
    x = g.random(3)
    gc.manual_seed(3)
    np.testing.assert_array_equal(gc_random.generator().random(3), x)


def test_rng_state_round_trip():
    gc.manual_seed(11)
    gc.randn(7)
    state = gc.get_rng_state()
    assert isinstance(state, gc.Tensor) and state.dtype == gc.uint8 and state.ndim == 1
    a = gc.rand(5).numpy().copy()
    b = gc.randint(0, 10 ** 9, (3,)).numpy().copy()
    c = gc.randn(4, dtype=gc.float64).numpy().copy()
    gc.set_rng_state(state)
    np.testing.assert_array_equal(gc.rand(5).numpy(), a)
    np.testing.assert_array_equal(gc.randint(0, 10 ** 9, (3,)).numpy(), b)
    np.testing.assert_array_equal(gc.randn(4, dtype=gc.float64).numpy(), c)


def test_rng_state_restores_mid_word():
    # an odd number of 32-bit draws leaves half a 64-bit word cached inside the bit generator
    gc.manual_seed(4)
    gc_random.generator().integers(0, 2 ** 31, dtype=np.int32)
    state = gc.get_rng_state()
    a = gc_random.generator().integers(0, 2 ** 31, size=3, dtype=np.int32)
    gc.set_rng_state(state)
    np.testing.assert_array_equal(gc_random.generator().integers(0, 2 ** 31, size=3, dtype=np.int32), a)


def test_rng_state_is_a_snapshot():
    gc.manual_seed(0)
    state = gc.get_rng_state()
    before = state.numpy().copy()
    gc.rand(10)
    np.testing.assert_array_equal(state.numpy(), before)
    assert not np.array_equal(gc.get_rng_state().numpy(), before)


def test_set_rng_state_errors():
    with pytest.raises(TypeError, match="uint8"):
        gc.set_rng_state(gc.zeros(3))
    with pytest.raises(TypeError):
        gc.set_rng_state(np.zeros(60, np.uint8))
    with pytest.raises(RuntimeError, match="size"):
        gc.set_rng_state(gc.zeros(3, dtype=gc.uint8))
    bad = gc.get_rng_state().numpy().copy()
    bad[0] ^= 0xFF
    with pytest.raises(RuntimeError):
        gc.set_rng_state(gc.from_numpy(bad))


def test_generator_object():
    g = gc.Generator()
    assert g.device == gc.device("cpu")
    s = g.seed()
    assert g.initial_seed() == s
    st = g.get_state()
    x = gc.rand(3, generator=g).numpy().copy()
    assert g.set_state(st) is g
    np.testing.assert_array_equal(gc.rand(3, generator=g).numpy(), x)
    gc.manual_seed(7)
    a = gc.rand(3).numpy().copy()
    np.testing.assert_array_equal(gc.rand(3, generator=gc.Generator().manual_seed(7)).numpy(), a)
    with pytest.raises(RuntimeError, match="cuda"):
        gc.Generator("cuda")
    with pytest.raises(TypeError):
        gc.rand(2, generator=5)


def test_dropout_follows_manual_seed():
    F = pytest.importorskip("graphc.nn.functional", exc_type=ImportError)
    x = gc.ones(200)
    gc.manual_seed(9)
    a = F.dropout(x, 0.5, training=True).numpy().copy()
    gc.manual_seed(9)
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=True).numpy(), a)


# ----------------------------------------------------------------------------- rand, randn and friends
@pytest.mark.parametrize("dtype", [gc.float16, gc.float32, gc.float64])
def test_rand_range_dtype_and_moments(dtype):
    gc.manual_seed(0)
    x = gc.rand(N, dtype=dtype)
    assert x.dtype == dtype and x.shape == (N,)
    a = x.numpy().astype(np.float64)
    assert a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.015 and abs(a.var() - 1 / 12) < 0.005


@pytest.mark.parametrize("dtype", [gc.float16, gc.float32, gc.float64])
def test_randn_dtype_and_moments(dtype):
    gc.manual_seed(0)
    a = gc.randn(N, dtype=dtype)
    assert a.dtype == dtype
    a = a.numpy().astype(np.float64)
    assert abs(a.mean()) < 0.05 and abs(a.std() - 1) < 0.05


def test_random_floats_follow_default_dtype():
    gc.set_default_dtype(gc.float64)
    for t in (gc.rand(2), gc.randn(2), gc.normal(0.0, 1.0, (2,))):
        assert t.dtype == gc.float64


@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 0, 3), (2, 3)])
def test_random_shapes(shape):
    for t in (gc.rand(shape), gc.randn(shape), gc.randint(5, shape), gc.normal(0.0, 1.0, shape),
              gc.rand_like(gc.zeros(shape)), gc.randn_like(gc.zeros(shape)), gc.randint_like(gc.zeros(shape), 3)):
        assert t.shape == shape


def test_random_factories_keywords():
    t = gc.rand(2, 3, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    out = gc.empty(1, dtype=gc.float64)
    assert gc.randn(4, out=out) is out and out.shape == (4,) and out.dtype == gc.float64
    assert gc.rand(size=(2,)).shape == (2,)
    with pytest.raises(RuntimeError):
        gc.rand(2, dtype=gc.int64)
    with pytest.raises(RuntimeError):
        gc.randn(2, dtype=gc.int32)
    with pytest.raises(RuntimeError):
        gc.rand_like(gc.zeros(2, dtype=gc.int64))
    with pytest.raises(RuntimeError):
        gc.randn_like(gc.zeros(2, dtype=gc.bool))


def test_like_random_dtype_override():
    x = gc.zeros(3, dtype=gc.int64)
    assert gc.rand_like(x, dtype=gc.float64).dtype == gc.float64
    assert gc.randn_like(gc.zeros(2, dtype=gc.float16)).dtype == gc.float16
    r = gc.randint_like(gc.zeros(1000), 3, 10)
    assert r.dtype == gc.float32
    a = r.numpy()
    assert a.min() >= 3 and a.max() <= 9 and np.all(a == np.round(a))
    assert gc.randint_like(gc.zeros(4), low=3, high=10, dtype=gc.int64).dtype == gc.int64


# ----------------------------------------------------------------------------- integers
def test_randint_forms_and_range():
    gc.manual_seed(0)
    a = gc.randint(10, (N,))
    assert a.dtype == gc.int64
    v = a.numpy()
    assert v.min() == 0 and v.max() == 9
    counts = np.bincount(v, minlength=10) / N
    assert np.abs(counts - 0.1).max() < 0.015
    b = gc.randint(3, 10, (1000,)).numpy()
    assert b.min() == 3 and b.max() == 9
    assert gc.randint(-5, -2, (50,)).numpy().max() <= -3
    assert gc.randint(high=5, size=(3,)).shape == (3,)
    assert gc.randint(5, size=[3]).shape == (3,)
    assert gc.randint(5, gc.Size([2, 2])).shape == (2, 2)
    assert gc.randint(gc.tensor(5), (2,)).shape == (2,)


@pytest.mark.parametrize("dtype", [gc.float32, gc.float64, gc.int32, gc.uint8, gc.int8, gc.int16])
def test_randint_dtypes(dtype):
    t = gc.randint(0, 100, (50,), dtype=dtype)
    assert t.dtype == dtype
    a = t.numpy()
    assert a.min() >= 0 and a.max() < 100 and np.all(a == np.round(a))


def test_randint_bool_and_bounds():
    assert gc.randint(2, (5,), dtype=gc.bool).dtype == gc.bool
    with pytest.raises(RuntimeError, match="out of bounds"):
        gc.randint(10, (3,), dtype=gc.bool)
    with pytest.raises(RuntimeError, match="out of bounds"):
        gc.randint(300, (3,), dtype=gc.uint8)
    with pytest.raises(RuntimeError, match="out of bounds"):
        gc.randint(-1, 3, (3,), dtype=gc.uint8)


def test_randint_errors():
    with pytest.raises(RuntimeError, match="from"):
        gc.randint(10, 3, (2,))
    with pytest.raises(RuntimeError, match="from"):
        gc.randint(3, 3, (2,))
    with pytest.raises(TypeError, match="size"):
        gc.randint(10, 3)
    with pytest.raises(TypeError):
        gc.randint(0.5, 3.7, (3,))
    with pytest.raises(TypeError):
        gc.randint((3,))
    with pytest.raises(RuntimeError):
        gc.randint(10, (3,), requires_grad=True)


@pytest.mark.parametrize("n", [0, 1, 2, 17])
def test_randperm_is_a_permutation(n):
    p = gc.randperm(n)
    assert p.dtype == gc.int64 and p.shape == (n,)
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(n))


def test_randperm_dtype_and_errors():
    p = gc.randperm(5, dtype=gc.float32)
    assert p.dtype == gc.float32
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(5, dtype=np.float32))
    with pytest.raises(RuntimeError):
        gc.randperm(-1)
    with pytest.raises(RuntimeError):
        gc.randperm(300, dtype=gc.uint8)
    with pytest.raises(TypeError):
        gc.randperm(2.0)
    gc.manual_seed(0)
    firsts = [int(gc.randperm(4).numpy()[0]) for _ in range(400)]
    assert set(firsts) == {0, 1, 2, 3}


# ----------------------------------------------------------------------------- normal
def test_normal_four_forms_shapes_and_dtypes():
    m, s = gc.zeros(3, 1), gc.ones(1, 2)
    assert gc.normal(m, s).shape == (3, 2)
    assert gc.normal(gc.zeros(3), 2.0).shape == (3,)
    assert gc.normal(gc.zeros(3)).shape == (3,)
    assert gc.normal(1.0, gc.ones(2, 2)).shape == (2, 2)
    assert gc.normal(0.0, 1.0, (4, 5)).shape == (4, 5)
    assert gc.normal(0, 1, (2,)).dtype == gc.float32
    assert gc.normal(0.0, 1.0, size=(2,), dtype=gc.float64).dtype == gc.float64
    # a tensor result takes the mean tensor's dtype, else the std tensor's
    assert gc.normal(gc.zeros(3), gc.ones(3, dtype=gc.float64)).dtype == gc.float32
    assert gc.normal(gc.zeros(3, dtype=gc.float16), gc.ones(3)).dtype == gc.float16
    assert gc.normal(gc.zeros((), dtype=gc.float64), gc.ones(3)).dtype == gc.float64
    assert gc.normal(0.0, gc.ones(3, dtype=gc.float64)).dtype == gc.float64


def test_normal_moments_per_element():
    gc.manual_seed(0)
    mean = gc.tensor([0.0, 10.0, -5.0], dtype=gc.float64).reshape(3, 1)
    std = gc.tensor([1.0, 0.0, 3.0], dtype=gc.float64).reshape(3, 1)
    x = gc.normal(mean.expand(3, N), std.expand(3, N)).numpy()
    np.testing.assert_allclose(x.mean(axis=1), [0, 10, -5], atol=0.1)
    np.testing.assert_allclose(x.std(axis=1), [1, 0, 3], atol=0.1)
    assert np.all(x[1] == 10.0)  # std 0 gives the mean exactly
    y = gc.normal(2.0, 0.5, (N,)).numpy()
    assert abs(y.mean() - 2) < 0.02 and abs(y.std() - 0.5) < 0.02


def test_normal_errors():
    with pytest.raises(RuntimeError, match="std >= 0"):
        gc.normal(gc.zeros(3), -1.0)
    with pytest.raises(RuntimeError, match="std >= 0"):
        gc.normal(gc.zeros(3), gc.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(RuntimeError, match="std >= 0"):
        gc.normal(0.0, -1.0, (2,))
    with pytest.raises(RuntimeError):
        gc.normal(gc.zeros(3), gc.ones(2))
    with pytest.raises(RuntimeError):
        gc.normal(gc.zeros(3, dtype=gc.int64), 1.0)
    with pytest.raises(TypeError):
        gc.normal(0.0, 1.0)
    with pytest.raises(TypeError):
        gc.normal(0.0, 1.0, 2)
    with pytest.raises(TypeError):
        gc.normal(gc.zeros(3), 2.0, (3,))


def test_sampling_ops_give_zero_gradient_to_their_parameters():
    # torch: normal/bernoulli/poisson are on the tape, with a zero gradient to mean, std, p, rate
    m = gc.zeros(3, requires_grad=True)
    s = gc.ones(3, requires_grad=True)
    x = gc.normal(m, s)
    assert x.requires_grad and x.grad_fn is not None
    x.sum().backward()
    assert_matches(m.grad, np.zeros(3, np.float32))
    assert_matches(s.grad, np.zeros(3, np.float32))
    p = gc.full((4,), 0.5, dtype=gc.float64, requires_grad=True)
    (gc.bernoulli(p) * 3).sum().backward()
    assert_matches(p.grad, np.zeros(4))
    r = gc.full((2,), 2.0, requires_grad=True)
    gc.poisson(r).sum().backward()
    assert_matches(r.grad, np.zeros(2, np.float32))
    with gc.no_grad():
        assert not gc.normal(m, 1.0).requires_grad


# ----------------------------------------------------------------------------- bernoulli, multinomial, poisson
@pytest.mark.parametrize("dtype", [gc.float16, gc.float32, gc.float64])
def test_bernoulli_probabilities(dtype):
    gc.manual_seed(0)
    p = gc.tensor([0.0, 1.0, 0.25], dtype=dtype).reshape(3, 1).expand(3, N)
    x = gc.bernoulli(p)
    assert x.dtype == dtype and x.shape == (3, N)
    a = x.numpy()
    assert set(np.unique(a)) <= {0, 1}
    assert a[0].sum() == 0 and a[1].sum() == N
    assert abs(a[2].mean() - 0.25) < 0.02


def test_bernoulli_with_p_number():
    x = gc.bernoulli(gc.zeros(N), 0.7)
    assert x.dtype == gc.float32 and abs(x.numpy().mean() - 0.7) < 0.02
    assert_matches(gc.bernoulli(gc.zeros(3, dtype=gc.int64), p=1.0), np.ones(3, np.int64))
    assert_matches(gc.bernoulli(gc.ones(2, 2), 0.0), np.zeros((2, 2), np.float32))
    assert gc.zeros(3).bernoulli().shape == (3,)


def test_bernoulli_errors():
    with pytest.raises(RuntimeError):
        gc.bernoulli(gc.tensor([0.0, 1.5]))
    with pytest.raises(RuntimeError):
        gc.bernoulli(gc.tensor([0.0, float("nan")]))
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        gc.bernoulli(gc.zeros(2), p=1.5)
    with pytest.raises(RuntimeError):
        gc.bernoulli(gc.tensor([0, 1]))
    with pytest.raises(TypeError):
        gc.bernoulli([0.5, 0.5])


def test_multinomial_without_replacement():
    gc.manual_seed(0)
    w = gc.tensor([0.0, 1.0, 2.0, 3.0])
    for _ in range(50):
        s = gc.multinomial(w, 3).numpy()
        assert len(set(s)) == 3 and 0 not in s
    s = gc.multinomial(w, 4)
    assert s.dtype == gc.int64
    np.testing.assert_array_equal(np.sort(s.numpy()), [0, 1, 2, 3])
    # the first draw of each row is proportional to the weights
    rows = gc.tensor([[1.0, 3.0]]).expand(N, 2)
    firsts = gc.multinomial(rows, 2).numpy()[:, 0]
    assert abs(firsts.mean() - 0.75) < 0.02


def test_multinomial_with_replacement():
    gc.manual_seed(0)
    w = gc.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]], dtype=gc.float64)
    s = gc.multinomial(w, N, replacement=True)
    assert s.shape == (2, N) and s.dtype == gc.int64
    a = s.numpy()
    assert 0 not in a[0]
    assert abs((a[0] == 2).mean() - 0.75) < 0.02
    assert np.all(a[1] == 0)


def test_multinomial_errors():
    w = gc.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="without replacement"):
        gc.multinomial(w, 4)
    with pytest.raises(RuntimeError, match="n_sample <= 0"):
        gc.multinomial(w, 0)
    with pytest.raises(RuntimeError):
        gc.multinomial(gc.tensor([1.0, -1.0]), 1)
    with pytest.raises(RuntimeError):
        gc.multinomial(gc.tensor([1.0, float("inf")]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities"):
        gc.multinomial(gc.zeros(3), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        gc.multinomial(gc.ones(1, 1, 3), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        gc.multinomial(gc.tensor(1.0), 1)
    with pytest.raises(RuntimeError, match="floating"):
        gc.multinomial(gc.tensor([1, 2]), 1)


def test_poisson():
    gc.manual_seed(0)
    rates = gc.tensor([0.0, 1.0, 20.0], dtype=gc.float64).reshape(3, 1).expand(3, N)
    x = gc.poisson(rates)
    assert x.dtype == gc.float64
    a = x.numpy()
    assert np.all(a[0] == 0) and np.all(a == np.round(a))
    np.testing.assert_allclose(a.mean(axis=1), [0, 1, 20], atol=0.15)
    with pytest.raises(RuntimeError):
        gc.poisson(gc.tensor([-1.0]))
    with pytest.raises(RuntimeError):
        gc.poisson(gc.tensor([1, 2]))


# ----------------------------------------------------------------------------- in-place fills
def test_uniform_and_normal_fill():
    gc.manual_seed(0)
    x = gc.empty(N, dtype=gc.float64)
    assert x.uniform_(-2, 3) is x
    a = x.numpy()
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    x.normal_(1.0, 2.0)
    a = x.numpy()
    assert abs(a.mean() - 1) < 0.06 and abs(a.std() - 2) < 0.06
    h = gc.empty(1000, dtype=gc.float16).uniform_()
    assert h.numpy().max() < 1


def test_in_place_fill_keeps_dtype_and_shape():
    x = gc.zeros(2, 3, dtype=gc.int64)
    assert x.random_(5, 9) is x
    a = x.numpy()
    assert x.dtype == gc.int64 and a.min() >= 5 and a.max() <= 8
    x.random_(3)
    assert x.numpy().max() <= 2
    b = gc.zeros(50, dtype=gc.bool).random_()
    assert b.dtype == gc.bool
    u = gc.zeros(50, dtype=gc.uint8).random_()
    assert u.dtype == gc.uint8
    f = gc.zeros(100).random_()
    assert 0 <= f.numpy().min() and f.numpy().max() <= 2 ** 24
    e = gc.zeros(N).exponential_(2.0)
    assert e.numpy().min() >= 0 and abs(e.numpy().mean() - 0.5) < 0.03
    m = gc.zeros(2, 3, dtype=gc.int64).bernoulli_(gc.tensor([1.0, 0.0, 1.0]))
    assert_matches(m, np.array([[1, 0, 1], [1, 0, 1]]))


def test_in_place_fill_errors_and_autograd():
    with pytest.raises(RuntimeError):
        gc.zeros(3, dtype=gc.int64).uniform_()
    with pytest.raises(RuntimeError):
        gc.zeros(3, dtype=gc.int64).normal_()
    with pytest.raises(RuntimeError, match="from"):
        gc.zeros(3).uniform_(2, 1)
    with pytest.raises(RuntimeError, match="std"):
        gc.zeros(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="lambda"):
        gc.zeros(3).exponential_(-1)
    with pytest.raises(RuntimeError):
        gc.zeros(3).bernoulli_(1.5)
    with pytest.raises(RuntimeError):
        gc.zeros(3).bernoulli_(gc.ones(1, 3))
    leaf = gc.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.uniform_()
    with gc.no_grad():
        leaf.normal_()
    v = leaf._version.v
    with gc.no_grad():
        leaf.uniform_()
    assert leaf._version.v == v + 1
    # overwriting a non-leaf cuts the gradient to its old value
    w = gc.ones(3, requires_grad=True)
    y = w * 2
    y.uniform_()
    (y * 1).sum().backward()
    assert_matches(w.grad, np.zeros(3, np.float32))


def test_rand_float16_never_reaches_one():
    gc.manual_seed(0)
    assert gc.rand(N, dtype=gc.float16).numpy().max() < 1
    assert math.isclose(gc.rand(N, dtype=gc.float16).numpy().astype(np.float64).mean(), 0.5, abs_tol=0.015)
