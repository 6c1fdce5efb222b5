"""Indexing: x[...] and x[...] = v with torch's semantics, gather/scatter, index_*, masks,
take, nonzero; values against numpy or explicit loops, gradients by finite differences,
bounds errors that never wrap silently."""
import numpy as np
import pytest

import graphc as gc
from helpers import NP_OF, assert_matches, check_grad, rand64


def _data(shape, dtype=gc.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-4, 5, size=shape)
    if dtype is gc.bool:
        return a > 0
    if dtype.is_floating_point:
        return (a + rng.uniform(-0.4, 0.4, size=shape)).astype(NP_OF[dtype])
    return a.astype(NP_OF[dtype])


A = _data((3, 4, 5))


# ----------------------------------------------------------------------------- basic getitem
BASIC = [
    1, -1, (0, 2), (0, 2, -1), slice(1, 3), slice(None, None, 2), (slice(None), 1), (..., 1), (1, ...),
    (None, 1), (slice(None), None, slice(1, 4, 2)), (..., None), (None, ..., None, 0), slice(-10, 10),
    slice(5, 1), (slice(None), slice(3, 1)), (), ..., (0, ..., slice(1, None)),
]


@pytest.mark.parametrize("idx", BASIC, ids=[repr(i) for i in BASIC])
@pytest.mark.parametrize("dtype", [gc.float32, gc.int64, gc.bool])
def test_basic_getitem_is_a_view(idx, dtype):
    a = _data((3, 4, 5), dtype)
    x = gc.tensor(a)
    r = x[idx]
    assert_matches(r, a[idx])
    if r.numel():
        assert np.shares_memory(r.numpy(), x.numpy())
        assert r._version is x._version and r._base is x


def test_getitem_int_of_0d_and_python_index_types():
    x = gc.tensor(A)
    assert_matches(x[np.int64(1)], A[1])
    assert_matches(x[gc.tensor(1)], A[1])            # a 0-d integer tensor selects like an int
    assert x[gc.tensor(1)]._base is x
    assert_matches(gc.tensor(2.0)[None], np.array([2.0], np.float32))
    assert_matches(gc.tensor(2.0)[...], np.array(2.0, np.float32))
    assert x[0, 0, 0]._base is x                     # an all-int index is a 0-d view, not a copy


def test_getitem_errors():
    x = gc.tensor(A)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        x[0, -5]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[:, ::0]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        gc.tensor(1.0)[0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(IndexError, match="only integers, slices"):
        x[1.0]
    with pytest.raises(IndexError, match="must be long, int, byte or bool"):
        x[gc.tensor([0.0])]
    with pytest.raises(IndexError, match="must be long, int, byte or bool"):
        x[gc.tensor([0], dtype=gc.int16)]


# ----------------------------------------------------------------------------- advanced getitem
ADVANCED = [
    [0, 2, 0],
    ([0, 1], [1, 2]),
    (slice(None), [0, 3]),
    ([0, 1], slice(None), [0, 4]),          # separated advanced indices: their dims go first
    (slice(None), [[0, 1], [2, 3]], [1, 1]),
    (..., [0, -1]),                          # negative advanced indices count from the end
    ([[0], [2]], slice(1, 3), [1, 2]),
    ([],),
    ([True, False, True],),
    (slice(None), [True, False, True, True]),
]


@pytest.mark.parametrize("idx", ADVANCED, ids=[repr(i) for i in ADVANCED])
def test_advanced_getitem_matches_numpy(idx):
    x = gc.tensor(A)
    want = A[tuple(np.asarray(i, dtype=np.int64 if i == [] else None) if isinstance(i, list) else i
                   for i in (idx if isinstance(idx, tuple) else (idx,)))]
    r = x[idx]
    assert_matches(r, want)
    assert not np.shares_memory(r.numpy(), x.numpy())


def test_advanced_getitem_with_tensors_and_masks():
    x = gc.tensor(A)
    i = np.array([[0, 2], [1, 1]])
    assert_matches(x[gc.tensor(i)], A[i])
    assert_matches(x[gc.tensor(i, dtype=gc.int32), 1:], A[i, 1:])
    m = A > 0
    assert_matches(x[gc.tensor(m)], A[m])
    assert_matches(x[gc.tensor(m[:, :, 0])], A[m[:, :, 0]])
    assert_matches(x[1, gc.tensor(m[1, :, 0])], A[1, m[1, :, 0]])
    assert_matches(x[gc.tensor(m[:, :, 0]), 2], A[m[:, :, 0], 2])
    assert_matches(x[gc.tensor(m.astype(np.uint8)[:, 0, 0])], A[m[:, 0, 0]])


def test_advanced_getitem_follows_torch_not_numpy_for_ints():
    # torch selects with the int first; numpy would broadcast it with the list and put that dim first
    x = gc.tensor(A)
    r = x[1, :, [0, 1]]
    assert tuple(r.shape) == (4, 2)
    assert_matches(r, A[1][:, [0, 1]])
    r = x[gc.tensor(1), :, [0, 1]]
    assert_matches(r, A[1][:, [0, 1]])


def test_getitem_0d_bool_and_none_shapes():
    x = gc.tensor(A)
    assert tuple(x[True].shape) == (1, 3, 4, 5)
    assert tuple(x[False].shape) == (0, 3, 4, 5)
    assert tuple(x[gc.tensor(True)].shape) == (1, 3, 4, 5)
    assert_matches(x[:, None, [0, 1], None], A[:, None][:, :, [0, 1]][:, :, :, None])
    assert tuple(x[[0, 1], None, [0, 1]].shape) == (2, 1, 5)


def test_advanced_getitem_errors():
    x = gc.tensor(A)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[[0, 3]]
    with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 0 with size 3"):
        x[[-4]]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 2 with size 5"):
        x[:, :, gc.tensor([[5]])]
    with pytest.raises(IndexError, match="could not be broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="shape of the mask"):
        x[gc.ones(4, dtype=gc.bool)]
    with pytest.raises(IndexError, match="too many indices"):
        gc.tensor(1.0)[[0]]


# ----------------------------------------------------------------------------- getitem gradients
GETITEM_GRADS = [
    ("int", lambda x: x[1]),
    ("slices", lambda x: x[:, 1:3, ::2]),
    ("none_ellipsis", lambda x: x[None, ..., 1]),
    ("adv_repeated", lambda x: x[[0, 0, 1, 0]]),
    ("adv_two", lambda x: x[[0, 1, 1], :, [2, 2, 2]]),
    ("adv_mixed", lambda x: x[1:, [0, 0, 1]]),
    ("mask", lambda x: x[x > 0]),
    ("chain", lambda x: x[1][:, [1, 1]][0]),
]


@pytest.mark.parametrize("name,fn", GETITEM_GRADS, ids=[c[0] for c in GETITEM_GRADS])
def test_getitem_gradcheck(name, fn):
    check_grad(fn, rand64(2, 3, 3))


def test_repeated_advanced_index_accumulates_gradient():
    x = gc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert_matches(x.grad, np.array([3.0, 0.0, 1.0], np.float32))


# ----------------------------------------------------------------------------- setitem
def _set(a, idx, value):
    b = a.copy()
    b[idx] = value
    return b


SETITEM = [
    (1, 7.0), ((0, 2), -1.0), ((slice(None), 1), np.arange(5.0)), ((..., 0), np.ones((3, 1))), ([0, 2], 0.5),
    (([0, 1], [1, 2]), np.arange(5.0)), (([0, 1], [1, 2]), np.array([[5.0], [6.0]])), ((slice(None), [0, 3], 1), np.array([1.0, 2.0])),
    ("mask", 9.0), ((slice(1, None), None, 2), np.arange(5.0)), ((), 3.0),
]


@pytest.mark.parametrize("idx,value", SETITEM, ids=[repr(i) for i, _ in SETITEM])
def test_setitem_matches_numpy(idx, value):
    idx = A > 0 if isinstance(idx, str) else idx
    x = gc.tensor(A.copy())
    v0 = x._version.v
    x[idx] = gc.tensor(value) if isinstance(value, np.ndarray) else value
    np_idx = tuple(np.asarray(i) if isinstance(i, list) else i for i in idx) if isinstance(idx, tuple) else (
        np.asarray(idx) if isinstance(idx, list) else idx)
    assert_matches(x, _set(A, np_idx, value))
    assert x._version.v > v0


def test_setitem_casts_value_and_strips_leading_ones():
    x = gc.zeros(3, 4, dtype=gc.int64)
    x[0] = 2.7
    x[1] = gc.tensor([1.5, 2.5, 3.5, 4.5])
    x[2] = gc.ones(1, 1, 4, dtype=gc.int32)
    assert_matches(x, np.array([[2] * 4, [1, 2, 3, 4], [1] * 4]))
    b = gc.zeros(3, dtype=gc.bool)
    b[[0, 2]] = 1
    assert_matches(b, np.array([True, False, True]))


def test_setitem_errors():
    x = gc.zeros(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5] = 1
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = gc.ones(2, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[[0, 1]] = gc.ones(3)
    with pytest.raises(IndexError, match="index -4 is out of bounds"):
        x[[-4]] = 1.0
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[0, ::-1] = 1
    with pytest.raises(TypeError):
        x[0] = [1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="more than one element"):
        gc.ones(3).expand(2, 3)[0] = 1.0


def test_setitem_on_leaf_requiring_grad_raises_but_no_grad_allows():
    x = gc.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[[0, 1]] = 1.0
    with gc.no_grad():
        x[0] = 1.0
        x[[1]] = 2.0
    assert_matches(x, np.array([[1.0] * 4, [2.0] * 4, [0.0] * 4], np.float32))


def test_setitem_basic_records_copyslices_and_gradients():
    a = _data((3, 4))
    x = gc.tensor(a, requires_grad=True)
    w = gc.tensor(_data((4,), seed=1), requires_grad=True)
    y = x * 2
    y[1] = w
    y[:, 0] = 5.0
    assert y.grad_fn.name() == "CopySlices"
    (y * y).sum().backward()
    want_y = a * 2
    want_y[1] = w.detach().numpy()
    want_y[:, 0] = 5.0
    gx = 2 * 2 * want_y
    gx[1] = 0
    gx[:, 0] = 0
    assert_matches(x.grad, gx)
    gw = 2 * want_y[1]
    gw[0] = 0
    assert_matches(w.grad, gw)


def test_setitem_augmented_assignment_through_views():
    a = _data((3, 4))
    x = gc.tensor(a, requires_grad=True)
    y = x.clone()
    y[0] *= 2
    y[:, 1].mul_(3)
    y.sum().backward()
    g = np.ones((3, 4))
    g[0] *= 2
    g[:, 1] *= 3
    assert_matches(x.grad, g)
    want = a.copy()
    want[0] *= 2
    want[:, 1] *= 3
    assert_matches(y, want)


def test_setitem_from_own_view():
    a = _data((3, 4))
    x = gc.tensor(a, requires_grad=True)
    y = x.clone()
    y[0, 0] = y[1, 1]
    want = a.copy()
    want[0, 0] = a[1, 1]
    assert_matches(y, want)
    y.sum().backward()
    g = np.ones((3, 4))
    g[0, 0] = 0
    g[1, 1] = 2
    assert_matches(x.grad, g)


SETITEM_GRADS = [
    ("basic", lambda x, v: _assign(x * 1, (1, slice(1, 3)), v[0, :2])),
    ("advanced", lambda x, v: _assign(x * 1, ([0, 2], slice(1, None)), v[:2, :3])),
    ("adv_int_mix", lambda x, v: _assign(x * 1, (1, [0, 3]), v[0, 0])),
    ("mask", lambda x, v: _assign(x * 1, x.detach() > 0, v[1, 1])),
    ("broadcast_value", lambda x, v: _assign(x * 1, [0, 1], v[2])),
]


def _assign(y, idx, value):
    y[idx] = value
    return y


@pytest.mark.parametrize("name,fn", SETITEM_GRADS, ids=[c[0] for c in SETITEM_GRADS])
def test_setitem_gradcheck(name, fn):
    check_grad(fn, rand64(3, 4, seed=0), rand64(3, 4, seed=1))


# ----------------------------------------------------------------------------- gather / scatter
IDX = np.array([[0, 2, 1, 0], [1, 1, 0, 2]])


def _np_gather(a, dim, idx):
    out = np.empty(idx.shape, a.dtype)
    for pos in np.ndindex(*idx.shape):
        src = list(pos)
        src[dim] = idx[pos]
        out[pos] = a[tuple(src)]
    return out


def _np_scatter(a, dim, idx, src, combine=None):
    out = a.copy()
    for pos in np.ndindex(*idx.shape):
        dst = list(pos)
        dst[dim] = idx[pos]
        dst = tuple(dst)
        out[dst] = src[pos] if combine is None else combine(out[dst], src[pos])
    return out


@pytest.mark.parametrize("dtype", [gc.float32, gc.int64, gc.bool])
@pytest.mark.parametrize("dim", [0, 1, -2])
def test_gather(dtype, dim):
    a = _data((3, 4), dtype)
    idx = IDX if dim != 1 else IDX[:, :3]
    r = gc.tensor(a).gather(dim, gc.tensor(idx))
    assert_matches(r, _np_gather(a, dim % 2, idx))
    assert_matches(gc.gather(gc.tensor(a), dim, gc.tensor(idx, dtype=gc.int32)), _np_gather(a, dim % 2, idx))


def test_gather_index_larger_along_dim_and_0d():
    a = _data((3, 4))
    idx = np.zeros((2, 6), np.int64) + 3
    assert_matches(gc.tensor(a).gather(1, gc.tensor(idx)), _np_gather(a, 1, idx))
    assert_matches(gc.tensor(2.0).gather(0, gc.tensor(0)), np.array(2.0, np.float32))


def test_gather_errors():
    x = gc.tensor(_data((3, 4)))
    with pytest.raises(IndexError, match="gather\\(\\): index 3 is out of bounds for dimension 0 with size 3"):
        x.gather(0, gc.tensor(IDX + 1))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        x.gather(1, gc.tensor(IDX - 1))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(0, gc.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="Size does not match"):
        x.gather(1, gc.zeros(4, 1, dtype=gc.int64))
    with pytest.raises(RuntimeError, match="int32/int64"):
        x.gather(0, gc.tensor([[0.0]]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.gather(2, gc.tensor(IDX))


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_src_and_value(dim):
    a = _data((3, 4))
    idx = np.array([[0, 1, 2], [2, 0, 1]]) if dim == 1 else np.array([[0, 2, 1, 0], [1, 0, 2, 1]])
    src = _data((2, 4), seed=1)
    r = gc.tensor(a).scatter(dim, gc.tensor(idx), gc.tensor(src))
    assert_matches(r, _np_scatter(a, dim, idx, src))
    r = gc.scatter(gc.tensor(a), dim, gc.tensor(idx), value=1.5)
    assert_matches(r, _np_scatter(a, dim, idx, np.full(idx.shape, 1.5)))
    r = gc.tensor(a).scatter(dim, gc.tensor(idx), 2.0, reduce="add")
    assert_matches(r, _np_scatter(a, dim, idx, np.full(idx.shape, 2.0), np.add))
    r = gc.tensor(a).scatter(dim, gc.tensor(idx), gc.tensor(src), reduce="multiply")
    assert_matches(r, _np_scatter(a, dim, idx, src, np.multiply))


def test_scatter_int_tensor_converts_value():
    r = gc.zeros(3, dtype=gc.int64).scatter(0, gc.tensor([1]), 2.7)
    assert_matches(r, np.array([0, 2, 0]))


def test_scatter_add_repeated_indices_accumulate():
    a = _data((3, 4))
    src = _data((2, 4), seed=1)
    r = gc.tensor(a).scatter_add(0, gc.tensor(IDX), gc.tensor(src))
    assert_matches(r, _np_scatter(a, 0, IDX, src, np.add))
    y = gc.tensor(a.copy())
    y.scatter_add_(0, gc.tensor(IDX), gc.tensor(src))
    assert_matches(y, _np_scatter(a, 0, IDX, src, np.add))
    y = gc.tensor(a.copy())
    y.scatter_(0, gc.tensor(IDX), gc.tensor(src), reduce="add")
    assert_matches(y, _np_scatter(a, 0, IDX, src, np.add))


def test_scatter_errors():
    x = gc.zeros(3, 4)
    with pytest.raises(IndexError, match="scatter\\(\\): index 3 is out of bounds for dimension 0 with size 3"):
        x.scatter(0, gc.tensor([[3]]), 1.0)
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        x.scatter_add(0, gc.tensor([[-1]]), gc.ones(1, 1))
    with pytest.raises(RuntimeError, match="self.dtype to be equal to src.dtype"):
        x.scatter(0, gc.tensor([[0]]), gc.ones(1, 1, dtype=gc.float64))
    with pytest.raises(RuntimeError, match="no larger size than src"):
        x.scatter(0, gc.zeros(2, 2, dtype=gc.int64), gc.ones(1, 1))
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        x.scatter(0, gc.tensor([[0]]), 1.0, reduce="max")
    with pytest.raises(RuntimeError, match="reduce argument must be one of"):
        x.scatter_reduce(0, gc.tensor([[0]]), gc.ones(1, 1), "max")


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_loop(reduce, include_self):
    a = _data((3, 4))
    src = _data((2, 4), seed=1)
    r = gc.tensor(a).scatter_reduce(0, gc.tensor(IDX), gc.tensor(src), reduce, include_self=include_self)
    want = a.copy()
    for j in range(4):
        for i in range(3):
            vals = [src[k, j] for k in range(2) if IDX[k, j] == i]
            if not vals:
                continue
            if include_self:
                vals.append(a[i, j])
            want[i, j] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](vals)
    assert_matches(r, want)


def test_scatter_reduce_integer_mean_floors():
    r = gc.tensor([1, 2, 3, 4]).scatter_reduce(0, gc.tensor([0, 0, 1]), gc.tensor([5, 6, 7]), "mean")
    assert_matches(r, np.array([4, 4, 3, 4]))
    r = gc.tensor([-1, 2, 3, 4]).scatter_reduce(0, gc.tensor([0, 1]), gc.tensor([-1, 8]), "mean", include_self=False)
    assert_matches(r, np.array([-1, 8, 3, 4]))


SCATTER_GRADS = [
    ("gather0", lambda x, s: x.gather(0, gc.tensor(IDX))),
    ("gather1_repeated", lambda x, s: x.gather(1, gc.tensor([[0, 0, 3], [1, 1, 1], [2, 0, 0]]))),
    ("scatter", lambda x, s: x.scatter(1, gc.tensor([[0, 1, 2], [3, 2, 1]]), s)),
    ("scatter_value", lambda x, s: x.scatter(0, gc.tensor(IDX), 1.5)),
    ("scatter_add", lambda x, s: x.scatter_add(0, gc.tensor(IDX), s)),
    ("scatter_add_src_larger", lambda x, s: x.scatter_add(1, gc.tensor(IDX[:, :2]), s)),
]


@pytest.mark.parametrize("name,fn", SCATTER_GRADS, ids=[c[0] for c in SCATTER_GRADS])
def test_gather_scatter_gradcheck(name, fn):
    check_grad(fn, rand64(3, 4, seed=0), rand64(2, 4, seed=1))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradcheck(reduce, include_self):
    check_grad(lambda x, s: x.scatter_reduce(0, gc.tensor(IDX), s, reduce, include_self=include_self),
               rand64(3, 4, seed=0), rand64(2, 4, seed=1))


def test_scatter_reduce_prod_gradient_with_zeros():
    x = gc.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=gc.float64, requires_grad=True)
    s = gc.tensor([[2.0, 0.0], [0.0, 5.0]], dtype=gc.float64, requires_grad=True)
    idx = gc.tensor([[0, 0], [0, 1]])
    x.scatter_reduce(0, idx, s, "prod").sum().backward()
    # column 0: row 0 gets 0 * 2 * 0 (two zeros) -> no gradient; column 1: row 0 gets 2 * 0 (one zero)
    assert_matches(x.grad, np.array([[0.0, 0.0], [1.0, 5.0]]))
    assert_matches(s.grad, np.array([[0.0, 2.0], [0.0, 0.0]]))


def test_scatter_reduce_amax_splits_ties():
    x = gc.tensor([1.0, 1.0], dtype=gc.float64, requires_grad=True)
    s = gc.tensor([1.0, 0.0], dtype=gc.float64, requires_grad=True)
    x.scatter_reduce(0, gc.tensor([0, 0]), s, "amax").sum().backward()
    assert_matches(x.grad, np.array([0.5, 1.0]))
    assert_matches(s.grad, np.array([0.5, 0.0]))


# ----------------------------------------------------------------------------- index_select / add / fill / put
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("index", [[0, 2, 2], [1], []])
def test_index_select(dim, index):
    a = _data((3, 4))
    idx = np.array(index, np.int64)
    assert_matches(gc.tensor(a).index_select(dim, gc.tensor(idx)), np.take(a, idx, axis=dim))
    assert_matches(gc.index_select(gc.tensor(a), dim, gc.tensor(idx, dtype=gc.int32)), np.take(a, idx, axis=dim))


def test_index_select_0d_index_and_input():
    a = _data((3, 4))
    assert_matches(gc.tensor(a).index_select(0, gc.tensor(1)), a[[1]])
    assert_matches(gc.tensor(2.0).index_select(0, gc.tensor([0])), np.array(2.0, np.float32))


def test_index_select_errors():
    x = gc.ones(3, 4)
    with pytest.raises(IndexError, match="index_select\\(\\): index 3 is out of bounds for dimension 0 with size 3"):
        x.index_select(0, gc.tensor([0, 3]))
    with pytest.raises(IndexError, match="index_select\\(\\): index -1 is out of bounds"):
        x.index_select(1, gc.tensor([-1]))
    with pytest.raises(IndexError, match="supposed to be a vector"):
        x.index_select(0, gc.tensor([[0]]))
    with pytest.raises(RuntimeError, match="int32/int64"):
        x.index_select(0, gc.tensor([0.0]))


def test_index_add_and_fill():
    a = _data((3, 4))
    src = _data((3, 2), seed=1)
    r = gc.tensor(a).index_add(1, gc.tensor([0, 0]), gc.tensor(src), alpha=2)
    want = a.copy()
    want[:, 0] += 2 * (src[:, 0] + src[:, 1])
    assert_matches(r, want)
    y = gc.tensor(a.copy())
    y.index_add_(1, gc.tensor([0, 0]), gc.tensor(src), alpha=2)
    assert_matches(y, want)
    r = gc.tensor(a).index_fill(1, gc.tensor([0, 2]), -1.0)
    want = a.copy()
    want[:, [0, 2]] = -1
    assert_matches(r, want)
    with pytest.raises(RuntimeError, match="source tensor shape must match"):
        gc.tensor(a).index_add(0, gc.tensor([0]), gc.ones(1, 3, dtype=gc.float64))
    with pytest.raises(RuntimeError, match="same scalar type"):
        gc.tensor(a).index_add(0, gc.tensor([0]), gc.ones(1, 4))
    with pytest.raises(IndexError, match="index_add\\(\\): index -1 is out of bounds"):
        gc.tensor(a).index_add(0, gc.tensor([-1]), gc.ones(1, 4, dtype=gc.float64))


def test_index_put():
    a = _data((3, 4))
    i, j = np.array([0, 1, 0]), np.array([1, 2, 1])
    v = np.array([5.0, 6.0, 7.0])
    r = gc.tensor(a).index_put((gc.tensor(i), gc.tensor(j)), gc.tensor(v), accumulate=True)
    want = a.copy()
    np.add.at(want, (i, j), v)
    assert_matches(r, want)
    r = gc.tensor(a).index_put((None, gc.tensor([3])), gc.tensor(0.0, dtype=gc.float64))
    want = a.copy()
    want[:, 3] = 0
    assert_matches(r, want)
    y = gc.tensor(a.copy())
    y.index_put_((gc.tensor(a > 0),), gc.tensor(1.0, dtype=gc.float64))
    assert_matches(y, np.where(a > 0, 1.0, a))
    with pytest.raises(RuntimeError, match="dtypes match"):
        gc.tensor(a).index_put((gc.tensor([0]),), gc.tensor(1.0))
    with pytest.raises(IndexError, match="index_put\\(\\): index 3 is out of bounds"):
        gc.tensor(a).index_put((gc.tensor([3]),), gc.tensor(1.0, dtype=gc.float64))


INDEX_GRADS = [
    ("index_select_repeated", lambda x, v: x.index_select(1, gc.tensor([3, 0, 3, 3]))),
    ("index_add", lambda x, v: x.index_add(0, gc.tensor([2, 2, 0]), v[:3], alpha=0.5)),
    ("index_fill", lambda x, v: x.index_fill(1, gc.tensor([1]), v[0, 0])),
    ("index_put", lambda x, v: x.index_put((gc.tensor([0, 2]), gc.tensor([1, 1])), v[1, :2])),
    ("index_put_acc", lambda x, v: x.index_put((gc.tensor([0, 0]),), v[:2], accumulate=True)),
    ("masked_select", lambda x, v: x.masked_select(v.detach() > 0)),
    ("masked_select_broadcast", lambda x, v: v[0].masked_select(x.detach() > 0)),
    ("masked_fill", lambda x, v: x.masked_fill(v.detach() > 0, 2.0)),
    ("masked_fill_tensor", lambda x, v: x.masked_fill(v.detach() > 0, v[0, 0])),
    ("take", lambda x, v: gc.take(x, gc.tensor([[0, -1], [5, 5]]))),
    ("take_along_dim", lambda x, v: gc.take_along_dim(x, gc.tensor([[0], [3], [-1]]), 1)),
    ("take_along_dim_flat", lambda x, v: gc.take_along_dim(x, gc.tensor([1, 1, 11]))),
]


@pytest.mark.parametrize("name,fn", INDEX_GRADS, ids=[c[0] for c in INDEX_GRADS])
def test_index_ops_gradcheck(name, fn):
    check_grad(fn, rand64(3, 4, seed=0), rand64(3, 4, seed=1))


# ----------------------------------------------------------------------------- masks, take, nonzero
def test_masked_fill_and_select():
    a = _data((3, 4))
    m = a > 0
    assert_matches(gc.tensor(a).masked_fill(gc.tensor(m), 2.0), np.where(m, 2.0, a))
    ai = _data((3, 4), gc.int64)
    assert_matches(gc.tensor(ai).masked_fill(gc.tensor(m), 2.7), np.where(m, 2, ai))
    r = gc.ones(3).masked_fill(gc.ones(2, 3, dtype=gc.bool), 0.0)
    assert_matches(r, np.zeros((2, 3), np.float32))
    y = gc.tensor(a.copy())
    y.masked_fill_(gc.tensor(m[0]), -1.0)
    assert_matches(y, np.where(m[0], -1.0, a))
    assert_matches(gc.masked_select(gc.tensor(a), gc.tensor(m)), a[m])
    assert_matches(gc.tensor(a).masked_select(gc.tensor(m[0])), np.broadcast_to(a, (3, 4))[np.broadcast_to(m[0], (3, 4))])
    assert_matches(gc.masked_select(gc.tensor(3.0), gc.tensor(True)), np.array([3.0], np.float32))


def test_mask_errors():
    x = gc.ones(3)
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_fill(gc.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(gc.tensor([True, False, True]), gc.tensor([2.0]))
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_select(gc.tensor([1, 0, 1]))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.masked_fill_(gc.ones(2, 3, dtype=gc.bool), 1.0)


def test_take_and_take_along_dim():
    a = _data((3, 4), gc.int64)
    idx = np.array([[0, -1], [11, 4]])
    assert_matches(gc.take(gc.tensor(a), gc.tensor(idx)), np.take(a, idx))
    with pytest.raises(IndexError, match="take\\(\\): index 12 is out of bounds for dimension 0 with size 12"):
        gc.take(gc.tensor(a), gc.tensor([12]))
    with pytest.raises(RuntimeError, match="long tensor"):
        gc.take(gc.tensor(a), gc.tensor([1], dtype=gc.int32))
    i = np.array([[0], [3], [-1]])
    assert_matches(gc.take_along_dim(gc.tensor(a), gc.tensor(i), 1), np.take_along_axis(a, i, 1))
    i = np.array([[0, 1]])
    assert_matches(gc.tensor(a).take_along_dim(gc.tensor(i), 1), np.take_along_axis(a, np.broadcast_to(i, (3, 2)), 1))
    assert_matches(gc.take_along_dim(gc.tensor(a), gc.tensor([1, 11])), a.reshape(-1)[[1, 11]])
    with pytest.raises(IndexError, match="take_along_dim\\(\\): index 4 is out of bounds"):
        gc.take_along_dim(gc.tensor(a), gc.tensor([[4]]), 1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        gc.take_along_dim(gc.tensor(a), gc.tensor([0]), 1)


@pytest.mark.parametrize("dtype", [gc.float32, gc.int64, gc.bool])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0, 3), (2, 3, 2)])
def test_nonzero_argwhere_where(dtype, shape):
    a = _data(shape, dtype)
    x = gc.tensor(a)
    assert_matches(gc.nonzero(x), np.argwhere(a).astype(np.int64))
    assert_matches(x.argwhere(), np.argwhere(a).astype(np.int64))
    got = x.nonzero(as_tuple=True)
    want = np.nonzero(np.atleast_1d(a))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_matches(g, w.astype(np.int64))
    for g, w in zip(gc.where(x), want):
        assert_matches(g, w.astype(np.int64))


def test_second_order_gradients_of_index_ops():
    idx = gc.tensor(IDX)

    def fn(x):
        y = x * x
        y[0, [1, 2]] = x[1, :2] ** 2
        return y.gather(0, idx) * y[[2, 2, 0]].scatter_add(0, idx, x[:2])[:2]

    assert gc.autograd.gradgradcheck(fn, (rand64(3, 4),))


@pytest.mark.parametrize("index", [lambda x: x[:, [0, 2]], lambda x: x[:, :, [0, 2]],
                                   lambda x: x.index_select(1, gc.tensor([0, 2]))])
def test_advanced_index_results_are_contiguous_like_torch(index):
    x = gc.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    y = index(x)
    c_strides = tuple(s // 4 for s in np.empty(tuple(y.shape), np.float32).strides)
    assert y.is_contiguous() and y.stride() == c_strides
    np.testing.assert_array_equal(y.view(-1).numpy(), y.numpy().reshape(-1))


@pytest.mark.parametrize("idx", [[0, 2], gc.tensor([True, False, True]), (gc.tensor([0, 2]),)])
def test_advanced_setitem_needs_the_value_in_the_tensors_dtype(idx):
    x = gc.zeros(3)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        x[idx] = gc.tensor([1.0, 2.0], dtype=gc.float64)
    x[idx] = gc.tensor([1.0, 2.0])        # same dtype: fine
    x[idx] = 7                            # a number converts, as in torch
    x[0:2] = gc.tensor([1, 2])            # basic indices convert a tensor too
    assert x.tolist() == [1.0, 2.0, 7.0]
