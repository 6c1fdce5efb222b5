"""The convenience functions of graphc/eager/functions/extra.py, against numpy and hand formulas."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphc as gc
from helpers import assert_matches, check_grad, rand64


def _np(t):
    return t.detach().numpy()


# ------------------------------------------------------------------ type queries
def test_type_queries():
    x = gc.ones(2, 3)
    assert gc.is_tensor(x) and not gc.is_tensor(np.ones(2))
    assert gc.is_floating_point(x) and not gc.is_floating_point(gc.tensor([1]))
    assert gc.numel(x) == 6 and gc.numel(gc.tensor(1.0)) == 1
    with pytest.raises(TypeError):
        gc.numel([1, 2])


def test_result_and_promote_types():
    i32 = gc.tensor([1], dtype=gc.int32)
    assert gc.result_type(i32, 1.0) is gc.float32
    assert gc.result_type(i32, 1) is gc.int32
    assert gc.result_type(i32, gc.tensor(1, dtype=gc.int64)) is gc.int32
    assert gc.result_type(i32, gc.tensor([1], dtype=gc.int64)) is gc.int64
    assert gc.result_type(2, 3.0) is gc.float32
    assert gc.promote_types(gc.int8, gc.uint8) is gc.int16
    assert gc.promote_types(gc.int64, gc.float16) is gc.float16
    assert gc.can_cast(gc.int64, gc.int8) and gc.can_cast(gc.bool, gc.uint8)
    assert not gc.can_cast(gc.float32, gc.int32) and not gc.can_cast(gc.int32, gc.bool)


# ------------------------------------------------------------------ broadcasting
@pytest.mark.parametrize("shapes", [[(2, 3), (3,)], [(4, 1, 3), (5, 1), ()], [(0, 3), (1, 3)], [5, (1,)]])
def test_broadcast_shapes(shapes):
    want = np.broadcast_shapes(*shapes)
    assert tuple(gc.broadcast_shapes(*shapes)) == want


def test_broadcast_shapes_error():
    with pytest.raises(RuntimeError, match="broadcast"):
        gc.broadcast_shapes((2, 3), (4, 3))


def test_broadcast_tensors_and_grad():
    a, b = np.arange(3.0).reshape(3, 1), np.arange(4.0)
    ra, rb = gc.broadcast_tensors(gc.tensor(a), gc.tensor(b))
    na, nb = np.broadcast_arrays(a, b)
    assert_matches(ra, na)
    assert_matches(rb, nb)
    check_grad(lambda x, y: gc.broadcast_tensors(x, y)[0] * gc.broadcast_tensors(x, y)[1], rand64(3, 1), rand64(4))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    a, b, c = np.arange(2), np.arange(3) + 10, np.arange(4) * 2
    got = gc.meshgrid(gc.tensor(a), gc.tensor(b), gc.tensor(c), indexing=indexing)
    for g, w in zip(got, np.meshgrid(a, b, c, indexing=indexing)):
        assert_matches(g, w)
    got2 = gc.meshgrid([gc.tensor(a), gc.tensor(b)], indexing=indexing)
    for g, w in zip(got2, np.meshgrid(a, b, indexing=indexing)):
        assert_matches(g, w)
    with pytest.raises(RuntimeError):
        gc.meshgrid(gc.tensor(a), indexing="yx")
    with pytest.raises(RuntimeError):
        gc.meshgrid(gc.ones(2, 2))


# ------------------------------------------------------------------ pointwise
@pytest.mark.parametrize("dtype", [gc.float32, gc.float64, gc.int64])
def test_clamp_min_max(dtype):
    a = np.array([-3, -1, 0, 2, 5])
    x = gc.tensor(a, dtype=dtype)
    assert_matches(gc.clamp_min(x, 0), np.maximum(a, 0).astype(gc.tensor([], dtype=dtype).numpy().dtype))
    assert_matches(x.clamp_max(1), np.minimum(a, 1).astype(x.numpy().dtype))
    y = x.clone()
    y.clamp_min_(-1)
    assert_matches(y, np.maximum(a, -1).astype(x.numpy().dtype))
    y.clamp_max_(1)
    assert_matches(y, np.clip(a, -1, 1).astype(x.numpy().dtype))


def test_addcmul_addcdiv():
    a, b, c = np.random.default_rng(1).uniform(1, 2, size=(3, 3, 4))
    x, t1, t2 = gc.tensor(a), gc.tensor(b[0]), gc.tensor(c[:1])
    assert_matches(gc.addcmul(x, t1, t2, value=0.5), a + 0.5 * b[0] * c[:1])
    assert_matches(x.addcdiv(t1, t2, value=2), a + 2 * b[0] / c[:1])
    assert_matches(gc.addcmul(x.float(), t1.float(), t2.float()), a + b[0] * c[:1], dtype=gc.float32, rtol=1e-5)
    y = x.clone()
    y.addcmul_(t1, t2)
    assert_matches(y, a + b[0] * c[:1])
    ints = gc.tensor([1, 2])
    assert_matches(gc.addcmul(ints, ints, ints, value=2), np.array([3, 10]))
    with pytest.raises(RuntimeError, match="addcdiv"):
        gc.addcdiv(gc.ones(2), ints, ints)
    check_grad(lambda p, q, r: gc.addcmul(p, q, r, value=0.3), rand64(3, 4), rand64(4), rand64(3, 1, seed=2))
    check_grad(lambda p, q, r: gc.addcdiv(p, q, r, value=-2), rand64(3, 4), rand64(4),
               rand64(3, 1, low=1, high=2, seed=2))


def test_inf_and_real_predicates():
    a = np.array([-np.inf, -1.0, 0.0, np.inf, np.nan])
    x = gc.tensor(a)
    assert_matches(gc.isneginf(x), np.isneginf(a))
    assert_matches(x.isposinf(), np.isposinf(a))
    assert_matches(gc.isreal(x), np.ones(5, dtype=bool))
    assert_matches(gc.isneginf(gc.tensor([1, -2])), np.zeros(2, dtype=bool))


# ------------------------------------------------------------------ softmax
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_function_and_method(dim):
    a = np.random.default_rng(0).normal(size=(3, 4))
    e = np.exp(a - a.max(dim, keepdims=True))
    want = e / e.sum(dim, keepdims=True)
    x32 = gc.tensor(a, dtype=gc.float32)
    assert_matches(gc.softmax(x32, dim), want, dtype=gc.float32, rtol=1e-5)
    assert_matches(x32.softmax(dim), want, dtype=gc.float32, rtol=1e-5)
    assert_matches(x32.log_softmax(dim), np.log(want), dtype=gc.float32, rtol=1e-5, atol=1e-5)
    assert_matches(gc.log_softmax(x32, dim, dtype=gc.float64), np.log(want), rtol=1e-6)
    check_grad(lambda t: gc.softmax(t, dim), rand64(3, 4))


# ------------------------------------------------------------------ shape helpers
def test_view_reshape_as_ravel():
    x = gc.arange(6.0)
    assert_matches(x.view_as(gc.ones(2, 3)), np.arange(6.0).reshape(2, 3), dtype=gc.float32)
    t = gc.arange(6.0).reshape(2, 3).t()
    assert_matches(t.reshape_as(gc.ones(6)), np.arange(6.0).reshape(2, 3).T.ravel(), dtype=gc.float32)
    assert_matches(gc.ravel(t), np.arange(6.0).reshape(2, 3).T.ravel(), dtype=gc.float32)
    assert_matches(gc.tensor(3.0).ravel(), np.array([3.0]), dtype=gc.float32)


@pytest.mark.parametrize("size", [(1, 3), (3,), (2, 1, 1), (1,), (2, 1, 3), ()])
def test_sum_to_size(size):
    a = np.arange(6.0).reshape(2, 1, 3)
    b = np.broadcast_to(a, (2, 1, 3))
    lead = b.ndim - len(size)
    want = b.sum(tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and b.shape[lead + i] != 1),
                 keepdims=True).reshape(size)
    assert_matches(gc.tensor(a, dtype=gc.float64).sum_to_size(size), want)
    check_grad(lambda t: t.sum_to_size(size), rand64(2, 1, 3))


def test_sum_to_size_error():
    with pytest.raises(RuntimeError, match="expandable"):
        gc.ones(2, 3).sum_to_size(3, 3)


@pytest.mark.parametrize("n,dim", [(1, -1), (2, 1), (1, 0), (3, -1), (5, -1)])
def test_diff(n, dim):
    a = np.random.default_rng(3).normal(size=(3, 4))
    assert_matches(gc.diff(gc.tensor(a), n, dim), np.diff(a, n, dim))
    pre, app = np.ones((3, 1)), np.zeros((3, 2))
    if dim in (1, -1):
        got = gc.diff(gc.tensor(a), n, dim, prepend=gc.tensor(pre), append=gc.tensor(app))
        assert_matches(got, np.diff(a, n, dim, prepend=pre, append=app))
    check_grad(lambda t: gc.diff(t, n, dim), rand64(3, 4))
    b = np.array([True, False, False, True])
    assert_matches(gc.diff(gc.tensor(b)), np.diff(b))
    with pytest.raises(RuntimeError):
        gc.diff(gc.tensor(1.0))


@pytest.mark.parametrize("dim", [None, 0, -1])
def test_cross(dim):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(1, 3))
    axis = 0 if dim is None else dim
    assert_matches(gc.cross(gc.tensor(a), gc.tensor(b), dim=dim), np.cross(a, np.broadcast_to(b, a.shape), axis=axis))
    check_grad(lambda p, q: gc.cross(p, q, dim=dim), rand64(3, 3), rand64(3, 3, seed=5))
    with pytest.raises(RuntimeError, match="length 3"):
        gc.cross(gc.ones(3, 2), gc.ones(3, 2), dim=1)


def test_trace():
    a = np.arange(12).reshape(3, 4)
    assert_matches(gc.trace(gc.tensor(a, dtype=gc.int32)), np.array(np.trace(a), dtype=np.int64))
    assert_matches(gc.tensor(a, dtype=gc.float64).trace(), np.array(np.trace(a), dtype=np.float64))
    check_grad(gc.trace, rand64(3, 4))
    with pytest.raises(RuntimeError):
        gc.trace(gc.ones(3))


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 2)), ((2,), (3,)), ((2, 2), (3,)), ((), (2,)), ((2, 1, 2), (2, 2))])
def test_kron(sa, sb):
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    assert_matches(gc.kron(gc.tensor(a), gc.tensor(b)), np.kron(a, b))
    check_grad(gc.kron, rand64(*sa), rand64(*sb, seed=3))


@pytest.mark.parametrize("k", [0, 1, 2, 3, -1, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0), (0, 2)])
def test_rot90(k, dims):
    a = np.arange(24).reshape(2, 3, 4)
    assert_matches(gc.rot90(gc.tensor(a), k, dims), np.rot90(a, k, dims))
    if k == 1:
        check_grad(lambda t: gc.rot90(t, k, dims), rand64(2, 3, 4))


def test_rot90_errors():
    with pytest.raises(RuntimeError):
        gc.rot90(gc.ones(3))
    with pytest.raises(RuntimeError):
        gc.rot90(gc.ones(3, 3), 1, [0, 0])
    with pytest.raises(IndexError):
        gc.rot90(gc.ones(3, 3), 1, [0, 5])


# ------------------------------------------------------------------ reductions
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp(dim):
    a = np.random.default_rng(7).normal(size=(3, 4)) * 30
    want = np.logaddexp.accumulate(a, axis=dim)
    assert_matches(gc.logcumsumexp(gc.tensor(a), dim), want, rtol=1e-10)
    big = np.array([1000.0, 1000.0, -np.inf])
    assert_matches(gc.tensor(big).logcumsumexp(0), np.logaddexp.accumulate(big))
    neg = np.array([-np.inf, -np.inf])
    assert_matches(gc.logcumsumexp(gc.tensor(neg), 0), neg)
    check_grad(lambda t: gc.logcumsumexp(t, dim), rand64(3, 4))
    with pytest.raises(NotImplementedError):
        gc.logcumsumexp(gc.tensor([1, 2]), 0)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False), (-1, True)])
def test_nansum_nanmean(dim, keepdim):
    a = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]])
    axis = dim
    assert_matches(gc.nansum(gc.tensor(a), dim, keepdim), np.nansum(a, axis=axis, keepdims=keepdim))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns on the all-nan column
        want = np.nanmean(a, axis=axis, keepdims=keepdim)
    assert_matches(gc.tensor(a).nanmean(dim, keepdim), want)
    check_grad(lambda t: gc.nansum(t, dim, keepdim) + gc.nanmean(t, dim, keepdim), rand64(2, 3))


def test_nansum_int_and_nanmean_error():
    assert_matches(gc.nansum(gc.tensor([1, 2], dtype=gc.int32)), np.array(3, dtype=np.int64))
    with pytest.raises(RuntimeError, match="nanmean"):
        gc.nanmean(gc.tensor([1, 2]))


# ------------------------------------------------------------------ constructions
def test_block_diag():
    a, b, c = np.arange(6.0).reshape(2, 3), np.array([7.0, 8.0]), np.array(9.0)
    want = np.zeros((4, 6))
    want[:2, :3] = a
    want[2, 3:5] = b
    want[3, 5] = c
    assert_matches(gc.block_diag(gc.tensor(a, dtype=gc.float64), gc.tensor(b, dtype=gc.float64),
                                 gc.tensor(c, dtype=gc.float64)), want)
    mixed = gc.block_diag(gc.tensor([[1, 2]]), gc.tensor([[0.5]]))
    assert_matches(mixed, np.array([[1, 2, 0], [0, 0, 0.5]]), dtype=gc.float32)
    check_grad(lambda p, q: gc.block_diag(p, q), rand64(2, 3), rand64(1, 2, seed=1))
    with pytest.raises(RuntimeError):
        gc.block_diag(gc.ones(1, 1, 1))


def test_cartesian_prod():
    a, b = np.array([1, 2]), np.array([3, 4, 5])
    want = np.array([[x, y] for x in a for y in b])
    assert_matches(gc.cartesian_prod(gc.tensor(a), gc.tensor(b)), want)
    assert_matches(gc.cartesian_prod(gc.tensor(a)), a)
    check_grad(gc.cartesian_prod, rand64(2), rand64(3, seed=1))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_cdist(p):
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    want = (np.abs(a[:, :, None, :] - b[:, None, :, :]) ** p).sum(-1) ** (1 / p)
    assert_matches(gc.cdist(gc.tensor(a), gc.tensor(b), p=p), want, rtol=1e-10)
    check_grad(lambda x, y: gc.cdist(x, y, p=p), rand64(3, 2), rand64(4, 2, seed=1))
    with pytest.raises(RuntimeError):
        gc.cdist(gc.ones(3, 2), gc.ones(3, 3))
    with pytest.raises(RuntimeError):
        gc.cdist(gc.ones(3), gc.ones(3, 3))


@pytest.mark.parametrize("dim", [-1, 0])
def test_trapezoid(dim):
    rng = np.random.default_rng(9)
    y = rng.normal(size=(3, 4))
    assert_matches(gc.trapezoid(gc.tensor(y), dim=dim), np.trapezoid(y, axis=dim))
    assert_matches(gc.trapz(gc.tensor(y), dx=0.5, dim=dim), np.trapezoid(y, dx=0.5, axis=dim))
    xs = np.sort(rng.normal(size=y.shape[dim]))
    assert_matches(gc.trapezoid(gc.tensor(y), gc.tensor(xs), dim=dim), np.trapezoid(y, xs, axis=dim))
    assert_matches(gc.trapezoid(gc.tensor([1, 2, 3])), np.array(4.0), dtype=gc.float32)
    check_grad(lambda t: gc.trapezoid(t, dim=dim), rand64(3, 4))


@pytest.mark.parametrize("N,increasing", [(None, False), (2, True), (4, False), (0, False)])
def test_vander(N, increasing):
    x = np.array([1, 2, 3])
    assert_matches(gc.vander(gc.tensor(x, dtype=gc.int32), N, increasing), np.vander(x, N, increasing).astype(np.int64))
    xf = np.array([0.5, -1.0, 2.0])
    assert_matches(gc.vander(gc.tensor(xf, dtype=gc.float64), N, increasing), np.vander(xf, N, increasing))
    with pytest.raises(RuntimeError):
        gc.vander(gc.ones(2, 2))


# ------------------------------------------------------------------ indexed writes
@pytest.mark.parametrize("mshape", [(3,), (2, 3), (2, 1)])
def test_masked_scatter(mshape):
    rng = np.random.default_rng(10)
    a, src = rng.normal(size=(2, 3)), rng.normal(size=(8,))
    m = rng.uniform(size=mshape) > 0.4
    mb = np.broadcast_to(m, a.shape)
    want = a.copy()
    want[mb] = src[:mb.sum()]
    assert_matches(gc.masked_scatter(gc.tensor(a), gc.tensor(m), gc.tensor(src)), want)
    y = gc.tensor(a)
    y.masked_scatter_(gc.tensor(m), gc.tensor(src))
    assert_matches(y, want)
    check_grad(lambda x, s: gc.masked_scatter(x, gc.tensor(m), s), rand64(2, 3), rand64(8, seed=1))


def test_masked_scatter_errors():
    x, m = gc.zeros(2, 3), gc.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="source"):
        x.masked_scatter(m, gc.arange(3.0))
    with pytest.raises(RuntimeError, match="dtype"):
        x.masked_scatter(m, gc.arange(10))
    with pytest.raises(RuntimeError, match="boolean"):
        x.masked_scatter(m.int(), gc.arange(10.0))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_copy(dim):
    rng = np.random.default_rng(11)
    a = rng.normal(size=(3, 4))
    idx = np.array([2, 0])
    src_shape = list(a.shape)
    src_shape[dim] = 2
    src = rng.normal(size=src_shape)
    want = a.copy()
    sl = [slice(None)] * 2
    sl[dim] = idx
    want[tuple(sl)] = src
    assert_matches(gc.index_copy(gc.tensor(a), dim, gc.tensor(idx), gc.tensor(src)), want)
    y = gc.tensor(a)
    y.index_copy_(dim, gc.tensor(idx), gc.tensor(src))
    assert_matches(y, want)
    check_grad(lambda x, s: x.index_copy(dim, gc.tensor(idx), s), rand64(3, 4), rand64(*src_shape, seed=1))


def test_index_copy_errors():
    x = gc.zeros(2, 3)
    with pytest.raises(IndexError, match="out of bounds"):
        x.index_copy(1, gc.tensor([0, 3]), gc.ones(2, 2))
    with pytest.raises(IndexError, match="Number of indices"):
        x.index_copy(1, gc.tensor([0, 2]), gc.ones(2, 3))
    with pytest.raises(RuntimeError, match="long"):
        x.index_copy(1, gc.tensor([0, 2], dtype=gc.int32), gc.ones(2, 2))
    assert_matches(gc.index_copy(gc.tensor(1.0), 0, gc.tensor([0]), gc.tensor(5.0)), np.array(5.0, dtype=np.float32))


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((3, 2), False), ((2, 4), False), ((7, 2), True),
                                        ((7, 2), False), ((2, 2, 2), False)])
def test_fill_diagonal_(shape, wrap):
    a = np.zeros(shape)
    np.fill_diagonal(a, 5.0, wrap=wrap)
    x = gc.zeros(*shape, dtype=gc.float64)
    r = x.fill_diagonal_(5.0, wrap=wrap)
    assert r is x
    assert_matches(x, a)


def test_fill_diagonal_errors():
    with pytest.raises(RuntimeError):
        gc.zeros(2, 3, 3).fill_diagonal_(1)
    with pytest.raises(RuntimeError):
        gc.zeros(3).fill_diagonal_(1)


@pytest.mark.parametrize("shape,dim,size,step", [((7,), 0, 3, 2), ((2, 5), 1, 2, 1), ((4, 3), 0, 4, 1),
                                                 ((4, 3), -2, 1, 3), ((5, 2, 3), 0, 2, 2)])
def test_unfold(shape, dim, size, step):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    win = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim)
    d = dim % a.ndim
    sl = [slice(None)] * win.ndim
    sl[d] = slice(None, None, step)
    assert_matches(gc.tensor(a).unfold(dim, size, step), win[tuple(sl)])
    check_grad(lambda t: t.unfold(dim, size, step), rand64(*shape))


def test_unfold_errors_and_0d():
    assert_matches(gc.tensor(3.0).unfold(0, 1, 1), np.array([3.0], dtype=np.float32))
    with pytest.raises(RuntimeError, match="size"):
        gc.arange(7.0).unfold(0, 8, 2)
    with pytest.raises(RuntimeError, match="step"):
        gc.arange(7.0).unfold(0, 3, 0)


# ------------------------------------------------------------------ data-dependent primitives
def _np_cum_extreme(a, axis, better):
    a = np.moveaxis(a, axis, -1)
    vals, idx = np.empty_like(a), np.zeros(a.shape, dtype=np.int64)
    for pos in np.ndindex(a.shape[:-1]):
        best, bi = None, 0
        for j, v in enumerate(a[pos]):
            if best is None or np.isnan(v) or (not np.isnan(best) and better(v, best)):
                best, bi = v, j
            vals[pos + (j,)], idx[pos + (j,)] = best, bi
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


@pytest.mark.parametrize("name,better", [("cummax", np.greater_equal), ("cummin", np.less_equal)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin(name, better, dim):
    a = np.array([[1.0, 3.0, 3.0, np.nan, 2.0], [5.0, -1.0, 5.0, 0.0, -1.0], [2.0, 2.0, 2.0, 2.0, 2.0]])
    want_v, want_i = _np_cum_extreme(a, dim, better)
    r = getattr(gc, name)(gc.tensor(a), dim)
    assert_matches(r.values, want_v)
    assert_matches(r.indices, want_i)
    v, i = getattr(gc.tensor(a[:2, :3].astype(np.int32)), name)(dim)
    wv, wi = _np_cum_extreme(a[:2, :3].astype(np.int32), dim, better)
    assert_matches(v, wv)
    assert_matches(i, wi)
    check_grad(lambda t: getattr(gc, name)(t, dim).values, rand64(3, 4))


def test_cummax_0d_and_empty():
    v, i = gc.cummax(gc.tensor(2.0), 0)
    assert_matches(v, np.array(2.0, dtype=np.float32))
    assert_matches(i, np.array(0))
    v, i = gc.cummin(gc.ones(0, 3), 0)
    assert v.shape == (0, 3) and i.dtype == gc.int64
    with pytest.raises(IndexError):
        gc.cummax(gc.ones(2), 1)


@pytest.mark.parametrize("data", [[3, 1, 2, 3, 1], [[1.0, 2.0], [1.0, -2.0]], [], 7])
def test_unique(data):
    a = np.array(data, dtype=np.float64 if np.asarray(data).dtype.kind == "f" else np.int64)
    vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    x = gc.tensor(a)
    assert_matches(gc.unique(x), vals)
    u, i, c = x.unique(return_inverse=True, return_counts=True)
    assert_matches(u, vals)
    assert_matches(i, inv.reshape(a.shape).astype(np.int64))
    assert_matches(c, counts.astype(np.int64))
    u, c = gc.unique(x, return_counts=True)
    assert_matches(c, counts.astype(np.int64))


def test_unique_nan_and_dim():
    u, c = gc.unique(gc.tensor([1.0, np.nan, np.nan]), return_counts=True)
    assert_matches(u, np.array([1.0, np.nan, np.nan], dtype=np.float32))
    assert_matches(c, np.array([1, 1, 1]))
    with pytest.raises(NotImplementedError):
        gc.unique(gc.ones(2, 2), dim=0)


def test_bincount():
    a = np.array([1, 3, 1, 0, 5])
    assert_matches(gc.bincount(gc.tensor(a)), np.bincount(a))
    assert_matches(gc.tensor(a).bincount(minlength=8), np.bincount(a, minlength=8))
    w = np.array([0.5, 1.0, 1.5, 2.0, -1.0])
    assert_matches(gc.bincount(gc.tensor(a), gc.tensor(w, dtype=gc.float32)), np.bincount(a, w).astype(np.float32))
    assert_matches(gc.bincount(gc.tensor(a), gc.tensor(w)), np.bincount(a, w))
    assert_matches(gc.bincount(gc.tensor(a), gc.tensor([1, 2, 3, 4, 5], dtype=gc.int32)),
                   np.bincount(a, [1, 2, 3, 4, 5]).astype(np.float64))
    assert_matches(gc.bincount(gc.tensor(np.zeros(0, dtype=np.int64)), minlength=3), np.zeros(3, dtype=np.int64))
    assert_matches(gc.bincount(gc.tensor(a, dtype=gc.uint8)), np.bincount(a))


def test_bincount_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        gc.bincount(gc.tensor([-1]))
    with pytest.raises(RuntimeError, match="1-d"):
        gc.bincount(gc.ones(2, 2, dtype=gc.int64))
    with pytest.raises(NotImplementedError):
        gc.bincount(gc.tensor([1.0]))
    with pytest.raises(RuntimeError, match="minlength"):
        gc.bincount(gc.tensor([1]), minlength=-1)
    with pytest.raises(RuntimeError, match="weights"):
        gc.bincount(gc.tensor([1, 3, 1]), gc.tensor([0.5, 1.0]))


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize(right):
    side = "right" if right else "left"
    b = np.array([1.0, 3.0, 3.0, 5.0])
    v = np.array([[0.0, 3.0, 4.0], [5.0, 6.0, 1.0]])
    want = np.searchsorted(b, v, side=side)
    assert_matches(gc.searchsorted(gc.tensor(b), gc.tensor(v), right=right), want)
    assert_matches(gc.searchsorted(gc.tensor(b), gc.tensor(v), side=side), want)
    assert_matches(gc.bucketize(gc.tensor(v), gc.tensor(b), right=right), want)
    assert_matches(gc.bucketize(gc.tensor(v), gc.tensor(b), out_int32=True, right=right), want.astype(np.int32))
    assert_matches(gc.searchsorted(gc.tensor(b), 3.0, right=right), np.array(np.searchsorted(b, 3.0, side=side)))
    bb = np.array([[1, 3, 5], [2, 4, 6]])
    vv = np.array([[3, 0], [4, 7]])
    want2 = np.stack([np.searchsorted(bb[i], vv[i], side=side) for i in range(2)])
    assert_matches(gc.searchsorted(gc.tensor(bb), gc.tensor(vv), right=right), want2)


def test_searchsorted_errors():
    with pytest.raises(RuntimeError, match="boundaries"):
        gc.searchsorted(gc.ones(2, 3), gc.tensor([3.0]))
    with pytest.raises(RuntimeError, match="opposites"):
        gc.searchsorted(gc.tensor([1, 3]), gc.tensor([3]), side="left", right=True)
    with pytest.raises(RuntimeError, match="1 dimension"):
        gc.bucketize(gc.tensor([3]), gc.ones(1, 3))


@pytest.mark.parametrize("data,bins,lo,hi", [
    ([1.0, 2.0, 1.0], 4, 0, 3), ([1.0, 2.0, 1.0, 5.0], 4, 0, 0), ([1.0, 1.0], 4, 0, 0), ([], 2, 0, 0),
    ([1.0, 2.0, 1.0, np.nan, np.inf, -1.0], 4, 0, 2), ([0.1, 0.2, 0.3, 0.7, 0.9, 1.0], 10, 0, 1)])
def test_histc(data, bins, lo, hi):
    a = np.array(data, dtype=np.float64)
    given_lo, given_hi = lo, hi
    fin = a[np.isfinite(a)]
    if lo == hi:
        lo, hi = (fin.min(), fin.max()) if fin.size else (0.0, 0.0)
        if lo == hi:
            lo, hi = lo - 1, hi + 1
    inside = a[(a >= lo) & (a <= hi)]
    want = np.zeros(bins)
    for v in inside:  # an independent binning: floor((v - lo) / width), the top edge in the last bin
        want[min(int((v - lo) * bins / (hi - lo)), bins - 1)] += 1
    assert_matches(gc.histc(gc.tensor(a), bins, min=given_lo, max=given_hi), want)


def test_histc_errors():
    with pytest.raises(NotImplementedError):
        gc.histc(gc.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="max must be larger"):
        gc.histc(gc.tensor([1.0]), 4, min=3, max=1)
    with pytest.raises(RuntimeError, match="bins"):
        gc.histc(gc.tensor([1.0]), 0)
