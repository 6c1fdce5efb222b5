"""Reductions and scans: values, dtypes and shapes against numpy, gradients against finite differences."""
import math

import warnings

import numpy as np
import pytest

import graphc as gc
from helpers import NP_OF, assert_matches, check_grad, rand64

INT_DTYPES = [gc.int32, gc.int64, gc.uint8, gc.bool]
ALL_DTYPES = [gc.float32, gc.float64] + INT_DTYPES

# (shape, dims valid for it)
SHAPES_DIMS = [
    ((), [None, 0, -1]),
    ((1,), [None, 0, -1]),
    ((4,), [None, 0, -1, (0,)]),
    ((0,), [None, 0]),
    ((3, 4), [None, 0, 1, -1, -2, (0, 1), (-1, 0), [1]]),
    ((2, 0, 3), [None, 0, 2, (0, 2)]),
    ((2, 3, 4), [None, 1, -1, (0, 2), (2, -3), (0, 1, 2)]),
]
CASES = [(shape, dim) for shape, dims in SHAPES_DIMS for dim in dims]


def _data(shape, dtype, seed=0, low=-3, high=4):
    rng = np.random.default_rng(seed)
    a = rng.integers(low, high, size=shape)
    if dtype is gc.bool:
        return a > 0
    if dtype is gc.uint8:
        return np.abs(a).astype(np.uint8)
    if dtype.is_floating_point:
        return (a + rng.uniform(-0.4, 0.4, size=shape)).astype(NP_OF[dtype])
    return a.astype(NP_OF[dtype])


def _axis(dim, ndim):
    """numpy's axis for a torch dim argument (0-d tensors accept dim 0 / -1 and reduce nothing)."""
    if dim is None:
        return None
    if ndim == 0:
        return ()
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _wide(dtype):
    return gc.int64 if not dtype.is_floating_point else dtype


# ----------------------------------------------------------------------------- sum / mean / prod
@pytest.mark.parametrize("shape,dim", CASES)
def test_sum_matches_numpy(shape, dim):
    for dtype in ALL_DTYPES:
        for keepdim in (False, True):
            a = _data(shape, dtype)
            r = gc.sum(gc.tensor(a), dim, keepdim) if dim is not None else gc.sum(gc.tensor(a), keepdim=keepdim)
            want = np.sum(a, axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=_wide(dtype).np)
            assert_matches(r, want, dtype=_wide(dtype), rtol=1e-5)


def test_sum_dtype_argument_and_method():
    a = np.array([[1.5, 2.5], [3.0, -1.0]], dtype=np.float32)
    x = gc.tensor(a)
    assert_matches(x.sum(dtype=gc.float64), np.sum(a, dtype=np.float64), dtype=gc.float64)
    assert_matches(x.sum(1, dtype=gc.int32), np.sum(a, axis=1, dtype=np.int32), dtype=gc.int32)
    assert_matches(gc.tensor([1, 2], dtype=gc.int8).sum(dtype=gc.int8), np.array(3, np.int8))
    assert_matches(x.sum(()), np.sum(a))


def test_sum_dtype_gradient_comes_back_in_input_dtype():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    x.sum(dtype=gc.float64).backward()
    assert x.grad.dtype == gc.float32
    assert_matches(x.grad, np.ones(2, np.float32))


@pytest.mark.parametrize("dtype", [gc.float32, gc.float64])
@pytest.mark.parametrize("shape,dim", CASES)
def test_mean_matches_numpy(shape, dim, dtype):
    for keepdim in (False, True):
        a = _data(shape, dtype)
        r = gc.tensor(a).mean(dim, keepdim) if dim is not None else gc.tensor(a).mean(keepdim=keepdim)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on the mean of an empty slice
            want = np.mean(a, axis=_axis(dim, a.ndim), keepdims=keepdim)
        assert_matches(r, np.asarray(want, dtype=a.dtype), rtol=1e-5)


def test_mean_integer_input_needs_dtype():
    x = gc.tensor([1, 2, 4])
    with pytest.raises(RuntimeError, match="mean"):
        x.mean()
    assert_matches(x.mean(dtype=gc.float64), np.array(7 / 3))
    assert_matches(gc.mean(gc.tensor([1.0, 2.0]), dtype=gc.float64), np.array(1.5))
    assert_matches(gc.tensor([]).mean(), np.array(np.nan, np.float32))


@pytest.mark.parametrize("shape,dim", [(s, d) for s, d in CASES if not isinstance(d, (tuple, list))])
def test_prod_matches_numpy(shape, dim):
    for dtype in ALL_DTYPES:
        for keepdim in (False, True):
            a = _data(shape, dtype, low=-2, high=3)
            x = gc.tensor(a)
            r = x.prod(dim, keepdim) if dim is not None else x.prod()
            want = np.prod(a, axis=_axis(dim, a.ndim), keepdims=keepdim and dim is not None,
                           dtype=_wide(dtype).np)
            assert_matches(r, want, dtype=_wide(dtype), rtol=1e-5)


def test_prod_empty_is_one_and_tuple_dim_is_rejected():
    assert_matches(gc.tensor([]).prod(), np.array(1.0, np.float32))
    assert_matches(gc.zeros(2, 0).prod(1), np.ones(2, np.float32))
    with pytest.raises(TypeError, match="prod"):
        gc.ones(2, 3).prod((0, 1))
    assert_matches(gc.tensor([2.0, 3.0]).prod(dtype=gc.float64), np.array(6.0))


# ----------------------------------------------------------------------------- max / min / amax / amin
@pytest.mark.parametrize("dtype", [gc.float32, gc.int32, gc.int64, gc.uint8, gc.bool])
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 3, 4)])
def test_max_min_full(shape, dtype):
    a = _data(shape, dtype)
    assert_matches(gc.tensor(a).max(), np.max(a), dtype=dtype)
    assert_matches(gc.min(gc.tensor(a)), np.min(a), dtype=dtype)


@pytest.mark.parametrize("fn,np_arg", [("max", np.argmax), ("min", np.argmin)])
@pytest.mark.parametrize("shape,dim", [((), 0), ((), -1), ((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1),
                                       ((2, 0), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim(fn, np_arg, shape, dim, keepdim):
    a = _data(shape, gc.float32, low=-2, high=2).round()  # ties on purpose: the first index wins
    r = getattr(gc, fn)(gc.tensor(a), dim, keepdim)
    values, indices = r  # unpacks like a tuple
    assert values is r.values and indices is r.indices
    if a.ndim == 0:
        assert_matches(values, a)
        assert_matches(indices, np.array(0))
        return
    idx = np_arg(a, axis=dim, keepdims=True)
    want_v = np.take_along_axis(a, idx, axis=dim)
    if not keepdim:
        want_v, idx = np.squeeze(want_v, dim), np.squeeze(idx, dim)
    assert_matches(values, want_v)
    assert_matches(indices, idx.astype(np.int64))


def test_max_keyword_dim_and_nan():
    x = gc.tensor([[1.0, float("nan"), 3.0, float("nan")]])
    v, i = x.max(dim=1, keepdim=True)
    assert math.isnan(v.item()) and i.item() == 1
    v, i = x.min(1)
    assert math.isnan(v.item()) and i.item() == 1
    assert math.isnan(x.max().item()) and math.isnan(x.amin().item())


def test_max_of_two_tensors_is_maximum():
    a, b = gc.tensor([1.0, 5.0, -2.0]), gc.tensor([3.0, 4.0, -2.0])
    assert_matches(gc.max(a, b), np.array([3.0, 5.0, -2.0], np.float32))
    assert_matches(a.min(b), np.array([1.0, 4.0, -2.0], np.float32))
    assert_matches(gc.max(a, other=gc.tensor(0.0)), np.array([1.0, 5.0, 0.0], np.float32))


def test_max_min_errors():
    with pytest.raises(RuntimeError, match=r"max\(\).*numel\(\) == 0"):
        gc.tensor([]).max()
    with pytest.raises(RuntimeError, match=r"min\(\)"):
        gc.tensor([]).min()
    with pytest.raises(IndexError, match=r"max\(\).*dim 0.*non-zero"):
        gc.zeros(0, 3).max(0)
    assert gc.zeros(0, 3).max(1).values.shape == (0,)
    with pytest.raises(IndexError, match="max"):
        gc.ones(2, 3).max(2)
    with pytest.raises(TypeError, match="max"):
        gc.ones(2, 3).max(dim=(0, 1))
    with pytest.raises(TypeError):
        gc.ones(3).max(2.0)


@pytest.mark.parametrize("fn,np_fn", [("amax", np.max), ("amin", np.min)])
@pytest.mark.parametrize("shape,dim", [(s, d) for s, d in CASES if s != (0,) and 0 not in s])
def test_amax_amin_match_numpy(fn, np_fn, shape, dim):
    for dtype in [gc.float32, gc.float64, gc.int32, gc.bool]:
        for keepdim in (False, True):
            a = _data(shape, dtype)
            x = gc.tensor(a)
            r = getattr(gc, fn)(x, dim, keepdim) if dim is not None else getattr(x, fn)(keepdim=keepdim)
            assert_matches(r, np_fn(a, axis=_axis(dim, a.ndim), keepdims=keepdim), dtype=dtype)


def test_amax_empty_errors():
    with pytest.raises(RuntimeError, match="amax"):
        gc.tensor([]).amax()
    with pytest.raises(IndexError, match=r"amin\(\).*dim 0"):
        gc.zeros(0, 3).amin(0)
    assert_matches(gc.zeros(0, 3).amax(1), np.zeros(0, np.float32))
    with pytest.raises(RuntimeError, match="multiple times"):
        gc.ones(2, 3).amax((0, -2))


def test_max_ties_gradients_follow_torch():
    # max(x) and amax split the gradient evenly among ties; max(x, dim) sends it to the returned index
    x = gc.tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max().backward()
    assert_matches(x.grad, np.array([[0.5, 0, 0.5], [0, 0, 0]], np.float32))
    x.grad = None
    x.amax(1).sum().backward()
    assert_matches(x.grad, np.array([[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]], np.float32))
    x.grad = None
    x.max(1).values.sum().backward()
    assert_matches(x.grad, np.array([[1.0, 0, 0], [1.0, 0, 0]], np.float32))
    x.grad = None
    x.amin((0, 1)).backward()
    assert_matches(x.grad, np.array([[0, 1.0, 0], [0, 0, 0]], np.float32))


def test_aminmax():
    a = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, 1.0]], np.float32)
    lo, hi = gc.aminmax(gc.tensor(a))
    assert_matches(lo, np.array(-1.0, np.float32))
    assert_matches(hi, np.array(4.0, np.float32))
    r = gc.tensor(a).aminmax(dim=1, keepdim=True)
    assert_matches(r.min, a.min(1, keepdims=True))
    assert_matches(r.max, a.max(1, keepdims=True))
    with pytest.raises(RuntimeError, match="aminmax"):
        gc.tensor([]).aminmax()


# ----------------------------------------------------------------------------- argmax / argmin
@pytest.mark.parametrize("fn,np_fn", [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((5,), None), ((5,), -1), ((3, 4), None), ((3, 4), 0),
                                       ((3, 4), -1), ((2, 3, 4), 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(fn, np_fn, shape, dim, keepdim):
    for dtype in [gc.float32, gc.int64, gc.uint8]:
        a = _data(shape, dtype, low=-2, high=2)
        r = getattr(gc, fn)(gc.tensor(a), dim, keepdim)
        if dim is None:
            want = np.asarray(np_fn(a))
            if keepdim:
                want = want.reshape((1,) * a.ndim)
        elif a.ndim == 0:
            want = np.array(0)
        else:
            want = np_fn(a, axis=dim, keepdims=keepdim)
        assert_matches(r, want.astype(np.int64))


def test_argmax_errors():
    with pytest.raises(RuntimeError, match="bool"):
        gc.tensor([True, False]).argmax()
    with pytest.raises(IndexError, match="argmax"):
        gc.tensor([]).argmax()
    with pytest.raises(IndexError, match=r"argmin\(\).*dim 0"):
        gc.zeros(0, 2).argmin(0)
    with pytest.raises(TypeError, match="argmax"):
        gc.ones(2, 2).argmax(dim=(0,))


# ----------------------------------------------------------------------------- all / any / count_nonzero
@pytest.mark.parametrize("fn,np_fn", [("all", np.all), ("any", np.any)])
@pytest.mark.parametrize("shape,dim", CASES)
def test_all_any(fn, np_fn, shape, dim):
    for dtype in [gc.float32, gc.int64, gc.bool, gc.uint8]:
        for keepdim in (False, True):
            a = _data(shape, dtype, low=0, high=4)
            x = gc.tensor(a)
            r = getattr(gc, fn)(x, dim, keepdim) if dim is not None else getattr(x, fn)(keepdim=keepdim)
            want_dt = gc.uint8 if dtype is gc.uint8 else gc.bool
            want = np_fn(a, axis=_axis(dim, a.ndim), keepdims=keepdim)
            assert_matches(r, np.asarray(want).astype(want_dt.np), dtype=want_dt)


@pytest.mark.parametrize("shape,dim", CASES)
def test_count_nonzero(shape, dim):
    a = _data(shape, gc.float32, low=-1, high=2).round()
    want = np.count_nonzero(a, axis=_axis(dim, a.ndim))
    assert_matches(gc.count_nonzero(gc.tensor(a), dim), np.asarray(want, np.int64))


# ----------------------------------------------------------------------------- norm
def _np_norm(a, p, axis, keepdim):
    ab = np.abs(a.astype(np.float64))
    if p == 0:
        r = np.sum(ab != 0, axis=axis, keepdims=keepdim)
    elif p == math.inf:
        r = np.max(ab, axis=axis, keepdims=keepdim)
    elif p == -math.inf:
        r = np.min(ab, axis=axis, keepdims=keepdim)
    else:
        with np.errstate(divide="ignore"):
            r = np.sum(ab ** p, axis=axis, keepdims=keepdim) ** (1 / p)
    return np.asarray(r, a.dtype)


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, 0.5, 0, math.inf, -math.inf, -1.5])
@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((5,), None), ((3, 4), None), ((3, 4), 1),
                                       ((3, 4), (0, 1)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), -2)])
def test_norm_matches_formula(p, shape, dim):
    for keepdim in (False, True):
        a = _data(shape, gc.float32, seed=1).round()
        r = gc.norm(gc.tensor(a), p, dim, keepdim)
        want = _np_norm(a, 2 if p == "fro" else p, None if dim is None else _axis(dim, a.ndim),
                        keepdim and dim is not None)
        if keepdim and dim is None:
            want = want.reshape((1,) * a.ndim)
        assert_matches(r, want, rtol=1e-5)


def test_norm_dtype_and_errors():
    x = gc.tensor([[3.0, 4.0]])
    assert_matches(x.norm(dtype=gc.float64), np.array(5.0))
    assert_matches(x.norm(p=None), np.array(5.0, np.float32))
    assert_matches(gc.norm(gc.zeros(0, 3), 2, 1), np.zeros(0, np.float32))
    with pytest.raises(RuntimeError, match="floating"):
        gc.tensor([1, 2]).norm()
    m = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert_matches(gc.tensor(m).norm(p="nuc"), np.array(np.linalg.norm(m, "nuc"), np.float32), rtol=1e-5)
    assert_matches(gc.tensor(m).norm(p="fro", dim=(0, 1)), np.array(np.linalg.norm(m), np.float32), rtol=1e-5)
    with pytest.raises(RuntimeError, match="abc"):
        x.norm(p="abc")
    with pytest.raises(RuntimeError):
        gc.ones(2, 2, 2).norm(p="fro", dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="inf norm"):
        gc.zeros(0, 3).norm(math.inf)


@pytest.mark.parametrize("p,x,want", [
    (2, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    (1, [0.0, -2.0, 3.0], [0.0, -1.0, 1.0]),
    (3, [0.0, 0.0], [0.0, 0.0]),
    (1.5, [0.0, 0.0], [0.0, 0.0]),
    (0.5, [0.0, 1.0, 2.0], [0.0, 1 + 2 ** 0.5, (1 + 2 ** 0.5) / 2 ** 0.5]),
    (-1, [0.0, 1.0, 2.0], [0.0, 0.0, 0.0]),
    (0, [3.0, 1.0, 0.0], [0.0, 0.0, 0.0]),
    (math.inf, [3.0, -3.0, 2.0], [0.5, -0.5, 0.0]),
    (-math.inf, [3.0, -2.0, 2.0], [0.0, -0.5, 0.5]),
    (math.inf, [0.0, 0.0], [0.0, 0.0]),  # sign(0) == 0
])
def test_norm_gradient_at_special_points_is_torch_like(p, x, want):
    t = gc.tensor(x, dtype=gc.float64, requires_grad=True)
    t.norm(p).backward()
    assert_matches(t.grad, np.array(want), atol=1e-12)


@pytest.mark.parametrize("p", [2, 1, 3, 1.5, 0.5, -1, math.inf, -math.inf])
@pytest.mark.parametrize("shape,dim,keepdim", [((), None, False), ((), -1, True), ((5,), 0, False),
                                               ((3, 4), -1, True), ((3, 4), (0, 1), False), ((2, 3, 2), -3, False)])
def test_norm_gradcheck(p, shape, dim, keepdim):
    x = rand64(*shape, low=0.2, high=1.0, seed=3)
    with gc.no_grad():
        x.mul_(gc.tensor(np.where(np.arange(x.numel()) % 2, -1.0, 1.0).reshape(shape)))
    check_grad(lambda t: gc.norm(t, p, dim, keepdim), x)


# ----------------------------------------------------------------------------- var / std
@pytest.mark.parametrize("fn,np_fn", [("var", np.var), ("std", np.std)])
@pytest.mark.parametrize("shape,dim", [((5,), None), ((3, 4), None), ((3, 4), 1), ((3, 4), -2), ((3, 4), (0, 1)),
                                       ((2, 3, 4), (0, -1)), ((1, 4), 0)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_match_numpy(fn, np_fn, shape, dim, correction):
    for keepdim in (False, True):
        a = _data(shape, gc.float64, seed=2)
        x = gc.tensor(a)
        r = getattr(x, fn)(dim, correction=correction, keepdim=keepdim)
        axis = _axis(dim, a.ndim)
        n = a.size if axis is None else np.prod([a.shape[d] for d in np.atleast_1d(axis)])
        with np.errstate(all="ignore"):
            want = np_fn(a, axis=axis, keepdims=keepdim, ddof=correction) if n > correction else \
                np.sum((a - a.mean(axis=axis, keepdims=True)) ** 2, axis=axis, keepdims=keepdim) / 0.0
            if fn == "std" and n <= correction:
                want = np.sqrt(want)
        assert_matches(r, np.asarray(want), rtol=1e-6)


def test_var_unbiased_forms_and_edge_cases():
    a = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]], np.float32)
    x = gc.tensor(a)
    assert_matches(x.var(), np.var(a, ddof=1), rtol=1e-5)
    assert_matches(x.var(unbiased=False), np.var(a), rtol=1e-5)
    assert_matches(x.var(False), np.var(a), rtol=1e-5)
    assert_matches(x.std(1, True, True), np.std(a, axis=1, ddof=1, keepdims=True), rtol=1e-5)
    assert_matches(gc.tensor([1.0, 2.0]).var(correction=3), np.array(np.inf, np.float32))
    assert_matches(gc.ones(2, 3).var(correction=5), np.array(0.0, np.float32))
    assert_matches(gc.tensor(3.0).var(), np.array(np.nan, np.float32))
    assert_matches(gc.tensor([]).std(), np.array(np.nan, np.float32))
    with pytest.raises(RuntimeError, match="floating"):
        gc.tensor([1, 2]).var()
    with pytest.raises(TypeError, match="unbiased"):
        x.var(unbiased=True, correction=1)


def test_var_mean_std_mean():
    a = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
    v, m = gc.var_mean(gc.tensor(a), 1)
    assert_matches(v, np.var(a, axis=1, ddof=1))
    assert_matches(m, np.mean(a, axis=1))
    s, m = gc.std_mean(gc.tensor(a), dim=(0, 1), correction=0, keepdim=True)
    assert_matches(s, np.std(a, keepdims=True))
    assert_matches(m, np.mean(a, keepdims=True))


def test_std_gradient_is_zero_for_constant_input():
    x = gc.tensor([3.0, 3.0, 3.0], requires_grad=True)
    x.std().backward()
    assert_matches(x.grad, np.zeros(3, np.float32))


# ----------------------------------------------------------------------------- logsumexp
@pytest.mark.parametrize("shape,dim", [((), 0), ((5,), 0), ((3, 4), 1), ((3, 4), -2), ((3, 4), (0, 1)),
                                       ((2, 3, 4), (-1, 0)), ((0, 3), 0), ((0, 3), 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_matches_formula(shape, dim, keepdim):
    a = _data(shape, gc.float64, seed=4)
    axis = _axis(dim, a.ndim)
    with np.errstate(divide="ignore"):
        want = np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdim))
    assert_matches(gc.logsumexp(gc.tensor(a), dim, keepdim), want, rtol=1e-12)


def test_logsumexp_is_stable_and_handles_infinities():
    a = np.array([1000.0, 1000.0, -1000.0])
    assert_matches(gc.tensor(a).logsumexp(0), np.array(1000 + math.log(2)))
    inf = math.inf
    assert gc.tensor([inf, inf]).logsumexp(0).item() == inf
    assert gc.tensor([inf, -inf]).logsumexp(0).item() == inf
    assert gc.tensor([-inf, -inf]).logsumexp(0).item() == -inf
    assert_matches(gc.tensor([1, 2]).logsumexp(0), np.array(np.log(np.e + np.e ** 2), np.float32))


def test_logsumexp_gradient_is_softmax():
    a = np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 999.0]])
    x = gc.tensor(a, requires_grad=True)
    x.logsumexp(1).sum().backward()
    e = np.exp(a - a.max(1, keepdims=True))
    assert_matches(x.grad, e / e.sum(1, keepdims=True), rtol=1e-12)


# ----------------------------------------------------------------------------- median
@pytest.mark.parametrize("shape", [(), (1,), (4,), (5,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize("dtype", [gc.float32, gc.int64])
def test_median_is_lower_median(shape, dtype):
    a = _data(shape, dtype, seed=5)
    flat = np.sort(a.reshape(-1))
    assert_matches(gc.tensor(a).median(), flat[(flat.size - 1) // 2], dtype=dtype)


@pytest.mark.parametrize("shape,dim", [((), 0), ((4,), 0), ((5,), -1), ((3, 4), 1), ((3, 4), 0), ((2, 3, 5), -2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_median_with_dim(shape, dim, keepdim):
    a = _data(shape, gc.float32, seed=6, low=-2, high=2).round()  # ties
    v, i = gc.median(gc.tensor(a), dim, keepdim)
    if a.ndim == 0:
        assert_matches(v, a)
        assert_matches(i, np.array(0))
        return
    n = a.shape[dim]
    order = np.argsort(a, axis=dim, kind="stable")
    idx = np.take(order, [(n - 1) // 2], axis=dim)
    want_v = np.take_along_axis(a, idx, axis=dim)
    if not keepdim:
        want_v, idx = np.squeeze(want_v, dim), np.squeeze(idx, dim)
    assert_matches(v, want_v)
    assert_matches(i, idx.astype(np.int64))


def test_median_nan_empty_and_errors():
    nan = float("nan")
    assert math.isnan(gc.tensor([1.0, nan, 3.0]).median().item())
    v, i = gc.tensor([[1.0, nan, 3.0, nan], [1.0, 2.0, 3.0, 4.0]]).median(1)
    assert i.tolist() == [1, 1] and math.isnan(v.tolist()[0]) and v.tolist()[1] == 2.0
    assert math.isnan(gc.tensor([]).median().item())
    with pytest.raises(IndexError, match="median"):
        gc.zeros(0, 2).median(0)
    with pytest.raises(RuntimeError, match="Bool"):
        gc.tensor([True]).median()


def test_median_gradients():
    x = gc.tensor([3.0, 1.0, 3.0, 5.0, 3.0], requires_grad=True)
    x.median().backward()  # without dim: split evenly among the elements equal to the median
    assert_matches(x.grad, np.array([1 / 3, 0, 1 / 3, 0, 1 / 3], np.float32))
    x.grad = None
    x.median(0).values.backward()  # with dim: all of it to the returned index
    want = np.zeros(5, np.float32)
    want[x.median(0).indices.item()] = 1
    assert_matches(x.grad, want)


# ----------------------------------------------------------------------------- cumsum / cumprod
@pytest.mark.parametrize("fn,np_fn", [("cumsum", np.cumsum), ("cumprod", np.cumprod)])
@pytest.mark.parametrize("shape,dim", [((), 0), ((), -1), ((0,), 0), ((5,), 0), ((3, 4), 1), ((3, 4), -2),
                                       ((2, 3, 4), 1)])
def test_scans_match_numpy(fn, np_fn, shape, dim):
    for dtype in ALL_DTYPES:
        a = _data(shape, dtype, low=-2, high=3)
        r = getattr(gc, fn)(gc.tensor(a), dim)
        want = np_fn(a.reshape(1) if a.ndim == 0 else a, axis=0 if a.ndim == 0 else dim, dtype=_wide(dtype).np)
        assert_matches(r, want.reshape(a.shape), dtype=_wide(dtype))


def test_scan_dtype_argument_inplace_and_required_dim():
    x = gc.tensor([1.5, 2.5])
    assert_matches(x.cumsum(0, dtype=gc.int32), np.array([1, 3], np.int32))
    assert_matches(x.cumprod(0, dtype=gc.float64), np.array([1.5, 3.75]))
    y = gc.tensor([1.0, 2.0, 3.0])
    assert y.cumsum_(0) is y
    assert_matches(y, np.array([1.0, 3.0, 6.0], np.float32))
    y.cumprod_(-1)
    assert_matches(y, np.array([1.0, 3.0, 18.0], np.float32))
    with pytest.raises(TypeError):
        gc.ones(2).cumsum()
    with pytest.raises(IndexError, match="cumsum"):
        gc.ones(2).cumsum(1)


@pytest.mark.parametrize("values", [
    [2.0, 0.5, -1.5, 3.0, 0.7],
    [2.0, 0.0, -1.5, 3.0, 0.7],
    [0.0, 0.5, -1.5, 0.0, 0.7],
    [1.5, 0.5, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
])
def test_cumprod_gradient_with_zeros(values):
    x = gc.tensor(values, dtype=gc.float64, requires_grad=True)
    check_grad(lambda t: t.cumprod(0), x)
    m = gc.tensor([values, values[::-1]], dtype=gc.float64, requires_grad=True)
    check_grad(lambda t: t.cumprod(-1), m)
    check_grad(lambda t: t.cumprod(0), m)


@pytest.mark.parametrize("values", [[2.0, 0.5, -1.5], [2.0, 0.0, -1.5], [0.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
def test_prod_gradient_with_zeros(values):
    x = gc.tensor(values, dtype=gc.float64, requires_grad=True)
    check_grad(lambda t: t.prod(), x)
    m = gc.tensor([values, values[::-1]], dtype=gc.float64, requires_grad=True)
    check_grad(lambda t: t.prod(1), m)
    check_grad(lambda t: t.prod(0, keepdim=True), m)


# ----------------------------------------------------------------------------- gradcheck of every reduction
GRAD_CASES = [((), None, False), ((), 0, True), ((), -1, False), ((4,), 0, False), ((4,), -1, True),
              ((3, 4), 1, False), ((3, 4), -2, True), ((3, 4), (0, 1), False), ((2, 3, 2), (-1, 0), True),
              ((2, 3, 2), None, False)]


def _call(fn, dim, keepdim):
    if dim is None:
        return lambda t: fn(t)
    return lambda t: fn(t, dim, keepdim)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "var", "std", "var_c0"])
@pytest.mark.parametrize("shape,dim,keepdim", GRAD_CASES)
def test_gradcheck_multi_dim_reductions(name, shape, dim, keepdim):
    x = rand64(*shape, seed=7)
    if name in ("var", "std", "var_c0") and x.numel() == 1:
        return  # a single element has nan (co)variance, as in torch
    if name == "var_c0":
        check_grad(lambda t: gc.var(t, dim, correction=0, keepdim=keepdim), x)
    elif name == "logsumexp" and dim is None:
        check_grad(lambda t: gc.logsumexp(t, ()), x)
    else:
        check_grad(_call(getattr(gc, name), dim, keepdim), x)


@pytest.mark.parametrize("name", ["prod", "max", "min", "median", "kthvalue"])
@pytest.mark.parametrize("shape,dim,keepdim", [(s, d, k) for s, d, k in GRAD_CASES if not isinstance(d, tuple)])
def test_gradcheck_single_dim_reductions(name, shape, dim, keepdim):
    x = rand64(*shape, seed=9)
    if name == "kthvalue":
        if dim is None:
            return
        check_grad(lambda t: gc.kthvalue(t, 1, dim, keepdim).values, x)
        return
    fn = getattr(gc, name)
    if dim is None:
        check_grad(lambda t: fn(t), x)
    elif name == "prod":
        check_grad(lambda t: fn(t, dim, keepdim), x)
    else:
        check_grad(lambda t: fn(t, dim, keepdim).values, x)


@pytest.mark.parametrize("fn", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape,dim", [((), 0), ((5,), -1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 2), 1)])
def test_gradcheck_scans(fn, shape, dim):
    check_grad(lambda t: getattr(gc, fn)(t, dim), rand64(*shape, seed=10))


def test_var_mean_gradcheck():
    check_grad(lambda t: gc.var_mean(t, 1), rand64(3, 4, seed=11))
    check_grad(lambda t: gc.std_mean(t, (0, -1), keepdim=True), rand64(2, 3, 2, seed=12))


# ----------------------------------------------------------------------------- argument errors
@pytest.mark.parametrize("call", [
    lambda x: x.sum(2), lambda x: x.mean(-3), lambda x: x.amax((0, 5)), lambda x: x.var(3), lambda x: x.norm(2, 4),
    lambda x: x.logsumexp(2), lambda x: x.all(2), lambda x: x.count_nonzero(-4), lambda x: x.median(2),
    lambda x: x.argmax(2), lambda x: x.prod(9),
])
def test_bad_dims_raise_index_error(call):
    with pytest.raises(IndexError, match="out of range"):
        call(gc.ones(2, 3))


def test_non_tensor_input_raises_type_error():
    with pytest.raises(TypeError, match="sum"):
        gc.sum([1.0, 2.0])
    with pytest.raises(TypeError, match="must be an int"):
        gc.ones(2, 3).sum(1.5)


# ----------------------------------------------------------------------------- float16 accumulates in float32
def test_float16_mean_cumsum_var_accumulate_in_float32_like_torch():
    x = (np.random.default_rng(0).random(4096) * 10).astype(np.float16)
    exact = np.cumsum(x.astype(np.float64))
    got = gc.tensor(x).cumsum(0).numpy()
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float64), exact, rtol=2e-3)   # float16 steps drift by 10%
    big = gc.tensor([60000.0, 60000.0], dtype=gc.float16)
    assert big.mean().item() == 60000.0                                   # the float16 sum overflows
    assert gc.tensor([6e4, 6e4, -6e4], dtype=gc.float16).cumsum(0).tolist() == [60000.0, math.inf, 60000.0]
    const = gc.tensor(np.full(3, 1.9, np.float16))
    assert const.var().item() == 0.0 and const.std().item() == 0.0
    assert const.var().dtype == gc.float16 and gc.std_mean(const)[1].dtype == gc.float16


def test_mean_with_float16_dtype_rounds_once_from_the_input():
    x = np.random.default_rng(4).standard_normal((2, 3, 4)).astype(np.float32)
    got = gc.mean(gc.tensor(x), 0, dtype=gc.float16).numpy()
    np.testing.assert_array_equal(got, x.astype(np.float64).mean(0).astype(np.float16))
