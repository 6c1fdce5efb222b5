"""sort, argsort, msort, topk, kthvalue and the comparison helpers (isclose, allclose, equal)."""
import math

import numpy as np
import pytest

import graphc as gc
from helpers import NP_OF, assert_matches, check_grad, rand64

nan, inf = float("nan"), float("inf")


def _data(shape, dtype, seed=0, low=-3, high=4):
    rng = np.random.default_rng(seed)
    a = rng.integers(low, high, size=shape)  # small range: plenty of ties
    if dtype is gc.bool:
        return a > 0
    if dtype is gc.uint8:
        return np.abs(a).astype(np.uint8)
    return a.astype(NP_OF[dtype])


def _key(v, descending):
    # torch's order: NaN above every number
    big = math.isnan(v)
    return (not big, -v if not big else 0) if descending else (big, v if not big else 0)


def _ref_order(row, descending):
    """Independent stable order of a 1-d list: ties keep their index order."""
    vals = [float(v) for v in row]
    return sorted(range(len(vals)), key=lambda i: (_key(vals[i], descending), i))


def _ref_sort(a, dim, descending):
    """(values, indices) by sorting each 1-d slice along dim with Python's sorted."""
    if a.ndim == 0:
        return a.copy(), np.array(0, np.int64)
    moved = np.moveaxis(a, dim, -1)
    idx = np.empty(moved.shape, np.int64)
    for pos in np.ndindex(moved.shape[:-1]):
        idx[pos] = _ref_order(moved[pos].tolist(), descending)
    idx = np.moveaxis(idx, -1, dim)
    return np.take_along_axis(a, idx, axis=dim), idx


SORT_CASES = [((), -1), ((), 0), ((0,), -1), ((1,), 0), ((7,), -1), ((3, 5), -1), ((3, 5), 0), ((3, 5), -2),
              ((2, 3, 4), 1), ((2, 0, 3), 1)]


# ----------------------------------------------------------------------------- sort / argsort / msort
@pytest.mark.parametrize("shape,dim", SORT_CASES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_stable_reference(shape, dim, descending):
    for dtype in [gc.float32, gc.float64, gc.int32, gc.int64, gc.uint8, gc.bool]:
        a = _data(shape, dtype)
        values, indices = gc.sort(gc.tensor(a), dim, descending, stable=True)
        want_v, want_i = _ref_sort(a, dim, descending)
        assert_matches(values, want_v, dtype=dtype)
        assert_matches(indices, want_i)
        assert_matches(gc.tensor(a).argsort(dim, descending), want_i)


def test_sort_places_nan_like_torch():
    x = gc.tensor([1.0, nan, 3.0, nan, -inf])
    v, i = x.sort()
    assert i.tolist() == [4, 0, 2, 1, 3]
    v, i = x.sort(descending=True)
    assert i.tolist() == [1, 3, 2, 0, 4]
    assert math.isnan(v.tolist()[0]) and v.tolist()[2:] == [3.0, 1.0, -inf]


def test_sort_result_type_and_keywords():
    r = gc.tensor([[2.0, 1.0], [0.0, 5.0]]).sort(dim=0, descending=True)
    assert r.values is r[0] and r.indices is r[1]
    assert type(r).__name__ == "SortResult"
    assert r.indices.dtype == gc.int64
    assert_matches(gc.msort(gc.tensor([[2.0, 1.0], [0.0, 5.0]])), np.array([[0.0, 1.0], [2.0, 5.0]], np.float32))
    with pytest.raises(IndexError, match="sort"):
        gc.ones(2, 3).sort(2)
    with pytest.raises(TypeError, match="sort"):
        gc.sort([3, 1])


@pytest.mark.parametrize("shape,dim", [((), 0), ((6,), -1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 2), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_gradcheck(shape, dim, descending):
    check_grad(lambda t: gc.sort(t, dim, descending).values, rand64(*shape, seed=1))


def test_sort_gradient_goes_back_to_original_positions():
    x = gc.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, _ = x.sort()
    (v * gc.tensor([10.0, 20.0, 30.0])).sum().backward()
    assert_matches(x.grad, np.array([30.0, 10.0, 20.0], np.float32))


# ----------------------------------------------------------------------------- topk
@pytest.mark.parametrize("shape,dim,k", [((), 0, 1), ((), -1, 0), ((7,), -1, 3), ((7,), 0, 7), ((7,), 0, 0),
                                         ((3, 5), -1, 2), ((3, 5), 0, 3), ((2, 3, 4), 1, 2), ((2, 0, 3), 2, 1)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_stable_reference(shape, dim, k, largest):
    for dtype in [gc.float32, gc.int64, gc.uint8]:
        a = _data(shape, dtype)
        values, indices = gc.tensor(a).topk(k, dim, largest)
        want_v, want_i = _ref_sort(a, dim, largest)
        if a.ndim:
            want_v, want_i = np.take(want_v, range(k), axis=dim), np.take(want_i, range(k), axis=dim)
        assert_matches(values, want_v, dtype=dtype)
        assert_matches(indices, want_i)


def test_topk_nan_and_errors():
    v, i = gc.tensor([1.0, nan, 3.0, nan]).topk(2)
    assert i.tolist() == [1, 3]
    v, i = gc.tensor([1.0, nan, 3.0, nan]).topk(2, largest=False)
    assert i.tolist() == [0, 2]
    with pytest.raises(RuntimeError, match="k out of range"):
        gc.ones(3).topk(4)
    with pytest.raises(RuntimeError, match="k out of range"):
        gc.ones(3).topk(-1)
    with pytest.raises(RuntimeError, match="bool"):
        gc.tensor([True, False]).topk(1)
    with pytest.raises(TypeError, match="k"):
        gc.ones(3).topk(1.5)
    r = gc.ones(2, 3).topk(k=1, dim=0, sorted=False)
    assert type(r).__name__ == "TopkResult" and r.values.shape == (1, 3)


@pytest.mark.parametrize("shape,dim,k", [((), 0, 1), ((6,), -1, 3), ((3, 4), 0, 2), ((3, 4), -1, 4),
                                         ((2, 3, 2), 1, 1)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_gradcheck(shape, dim, k, largest):
    check_grad(lambda t: gc.topk(t, k, dim, largest).values, rand64(*shape, seed=2))


# ----------------------------------------------------------------------------- kthvalue
@pytest.mark.parametrize("shape,dim", [((), 0), ((7,), -1), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), -2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_values_and_indices(shape, dim, keepdim):
    for dtype in [gc.float32, gc.int32]:
        a = _data(shape, dtype, seed=3)
        n = 1 if a.ndim == 0 else a.shape[dim]
        for k in {1, (n + 1) // 2, n}:
            v, i = gc.kthvalue(gc.tensor(a), k, dim, keepdim)
            want = np.sort(a, axis=dim) if a.ndim else a
            want = np.take(want, [k - 1], axis=dim) if a.ndim else want
            if a.ndim and not keepdim:
                want = np.squeeze(want, dim)
            assert_matches(v, want, dtype=dtype)
            assert i.dtype == gc.int64 and i.shape == v.shape
            # the index points at an element with that value
            picked = np.take_along_axis(a, i.numpy().reshape(want.shape if keepdim else
                                                            np.expand_dims(want, dim).shape), axis=dim) \
                if a.ndim else a
            assert np.array_equal(picked.reshape(want.shape), want)


def test_kthvalue_errors_and_nan():
    with pytest.raises(RuntimeError, match="out of range"):
        gc.ones(2, 3).kthvalue(4)
    with pytest.raises(RuntimeError, match="out of range"):
        gc.ones(2, 3).kthvalue(0)
    with pytest.raises(RuntimeError, match="Bool"):
        gc.tensor([True]).kthvalue(1)
    v, i = gc.tensor([1.0, nan, 3.0, nan]).kthvalue(3)
    assert math.isnan(v.item()) and i.item() == 1
    assert type(gc.ones(2).kthvalue(1)).__name__ == "KthvalueResult"


def test_kthvalue_gradient_goes_to_returned_index():
    x = gc.tensor([[4.0, 1.0, 3.0], [0.0, 2.0, 9.0]], requires_grad=True)
    v, i = x.kthvalue(2, 1)
    v.sum().backward()
    assert_matches(x.grad, np.array([[0, 0, 1.0], [0, 1.0, 0]], np.float32))


# ----------------------------------------------------------------------------- isclose / allclose / equal
@pytest.mark.parametrize("rtol,atol,equal_nan", [(1e-5, 1e-8, False), (1e-2, 0.0, True), (0.0, 0.5, False),
                                                 (0.0, 0.0, True)])
def test_isclose_matches_numpy(rtol, atol, equal_nan):
    a = np.array([1.0, 1.001, nan, inf, -inf, inf, 0.0, 1e-9, 2.0, 100.0])
    b = np.array([1.0, 1.0, nan, inf, inf, 1e30, 0.0, 0.0, 2.4, 100.5])
    for dt in (np.float32, np.float64):
        r = gc.isclose(gc.tensor(a.astype(dt)), gc.tensor(b.astype(dt)), rtol, atol, equal_nan)
        assert_matches(r, np.isclose(a.astype(dt), b.astype(dt), rtol, atol, equal_nan))
        assert gc.tensor(a.astype(dt)).allclose(gc.tensor(b.astype(dt)), rtol, atol, equal_nan) == bool(
            np.allclose(a.astype(dt), b.astype(dt), rtol, atol, equal_nan))


def test_isclose_broadcasts_and_handles_integers_and_bools():
    a = gc.tensor([[1.0], [2.0]])
    assert_matches(a.isclose(gc.tensor([1.0, 2.0, 2.00001])),
                   np.array([[True, False, False], [False, True, True]]))
    assert_matches(gc.isclose(gc.tensor([3, 1]), gc.tensor([3, 2]), atol=1), np.array([True, True]))
    assert_matches(gc.isclose(gc.tensor([3, 1]), gc.tensor([3, 2])), np.array([True, False]))
    assert_matches(gc.isclose(gc.tensor([True, False]), gc.tensor([True, True])), np.array([True, False]))
    with pytest.raises(RuntimeError, match="did not match"):
        gc.isclose(gc.tensor([3, 1]), gc.tensor([3.0, 1.0]))
    with pytest.raises(RuntimeError, match="non-negative"):
        gc.isclose(a, a, rtol=-1.0)
    assert gc.allclose(gc.tensor(1.0), gc.tensor([1.0, 1.0])) is True


def test_comparison_helpers_do_not_record_gradients():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    r = gc.isclose(x, x * 1.0)
    assert not r.requires_grad and r.grad_fn is None
    assert gc.equal(x, x) is True


def test_equal():
    assert gc.equal(gc.tensor([1.0, 2.0]), gc.tensor([1.0, 2.0])) is True
    assert gc.equal(gc.tensor([1.0, 2.0]), gc.tensor([1.0, 2.5])) is False
    assert gc.equal(gc.tensor([1.0, 2.0]), gc.tensor([[1.0, 2.0]])) is False  # shapes differ, no broadcasting
    assert gc.equal(gc.tensor([nan]), gc.tensor([nan])) is False
    assert gc.equal(gc.tensor([3, 1]), gc.tensor([3.0, 1.0])) is True
    assert gc.zeros(0, 2).equal(gc.zeros(0, 2)) is True
    with pytest.raises(TypeError, match="equal"):
        gc.equal(gc.ones(2), [1.0, 1.0])
