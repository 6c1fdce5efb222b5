"""Shape and movement ops: values, shapes and dtypes against numpy, views sharing memory,
gradients against finite differences, and torch's errors."""
import numpy as np
import pytest

import graphc as gc
from helpers import NP_OF, assert_matches, check_grad, rand64

DTYPES = [gc.float32, gc.float64, gc.int64, gc.int32, gc.uint8, gc.bool]


def _data(shape, dtype=gc.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-4, 5, size=shape)
    if dtype is gc.bool:
        return a > 0
    if dtype is gc.uint8:
        return np.abs(a).astype(np.uint8)
    if dtype.is_floating_point:
        return (a + rng.uniform(-0.4, 0.4, size=shape)).astype(NP_OF[dtype])
    return a.astype(NP_OF[dtype])


def _is_view_of(v, base):
    return np.shares_memory(v.numpy(), base.numpy()) and v._version is base._version


# ----------------------------------------------------------------------------- permute family
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dims", [((), ()), ((1,), (0,)), ((2, 3), (1, 0)), ((2, 0, 3), (2, 0, 1)),
                                        ((2, 3, 4), (-1, 0, 1))])
def test_permute_matches_numpy_and_is_a_view(dtype, shape, dims):
    a = _data(shape, dtype)
    x = gc.tensor(a)
    r = x.permute(*dims)
    assert_matches(r, np.transpose(a, dims))
    assert_matches(gc.permute(x, dims), np.transpose(a, dims))
    if a.size:
        assert _is_view_of(r, x)


@pytest.mark.parametrize("shape,d0,d1", [((), 0, -1), ((3,), 0, 0), ((2, 3), 0, 1), ((2, 3, 4), -1, 0)])
def test_transpose_swapaxes_swapdims(shape, d0, d1):
    a = _data(shape)
    x = gc.tensor(a)
    want = np.swapaxes(a, d0, d1) if a.ndim else a
    for f in (gc.transpose, gc.swapaxes, gc.swapdims):
        assert_matches(f(x, d0, d1), want)
    assert_matches(x.transpose(d0, d1), want)


def test_t_and_T():
    a = _data((2, 3))
    assert_matches(gc.tensor(a).t(), a.T)
    assert_matches(gc.t(gc.tensor(a[0])), a[0])
    assert_matches(gc.tensor(a).T, a.T)
    assert_matches(gc.tensor(_data((2, 3, 4))).mT, np.swapaxes(_data((2, 3, 4)), -1, -2))
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        gc.tensor(_data((2, 3, 4))).t()


@pytest.mark.parametrize("src,dst", [(0, 2), (-1, 0), ((0, 1), (2, 0)), ([2, 0], [0, 1])])
def test_movedim_moveaxis(src, dst):
    a = _data((2, 3, 4))
    assert_matches(gc.movedim(gc.tensor(a), src, dst), np.moveaxis(a, src, dst))
    assert_matches(gc.tensor(a).moveaxis(src, dst), np.moveaxis(a, src, dst))


def test_permute_errors():
    x = gc.tensor(_data((2, 3)))
    with pytest.raises(RuntimeError, match="duplicate dims"):
        x.permute(1, 1)
    with pytest.raises(RuntimeError, match="number of dims don't match"):
        x.permute(0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.permute(0, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.transpose(0, 2)
    with pytest.raises(RuntimeError, match="repeated dim"):
        gc.movedim(gc.tensor(_data((2, 3, 4))), (0, 0), (1, 2))
    with pytest.raises(RuntimeError, match="same number of dims"):
        gc.movedim(gc.tensor(_data((2, 3, 4))), (0, 1), (1,))
    with pytest.raises(TypeError):
        x.permute(0.0, 1)


# ----------------------------------------------------------------------------- squeeze family
@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((1,), None), ((1, 3, 1), None), ((1, 3, 1), 0),
                                       ((1, 3, 1), -1), ((1, 3, 1), 1), ((1, 3, 1), (0, 2)), ((2, 1, 0), (1, 2))])
def test_squeeze(shape, dim):
    a = _data(shape)
    x = gc.tensor(a)
    if dim is None:
        want = np.squeeze(a)
    else:
        dims = dim if isinstance(dim, tuple) else (dim,)
        axes = tuple(d % max(a.ndim, 1) for d in dims if a.ndim and a.shape[d] == 1)
        want = np.squeeze(a, axis=axes) if a.ndim else a
    r = x.squeeze() if dim is None else x.squeeze(dim)
    assert_matches(r, want)
    assert_matches(gc.squeeze(x, dim), want)
    assert r._base is x or a.size == 0


@pytest.mark.parametrize("shape,dim", [((), 0), ((), -1), ((3,), 0), ((3,), 1), ((3,), -1), ((2, 3), -2), ((2, 3), 2)])
def test_unsqueeze(shape, dim):
    a = _data(shape)
    r = gc.tensor(a).unsqueeze(dim)
    assert_matches(r, np.expand_dims(a, dim))


def test_squeeze_unsqueeze_errors():
    with pytest.raises(IndexError, match="Dimension out of range"):
        gc.tensor(_data((3,))).squeeze(1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        gc.tensor(_data((3,))).unsqueeze(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        gc.tensor(1.0).unsqueeze(2)


@pytest.mark.parametrize("shape,start,end", [((), 0, -1), ((3,), 0, -1), ((2, 3, 4), 0, -1), ((2, 3, 4), 1, 2),
                                             ((2, 3, 4), -2, -1), ((2, 3, 4), 1, 1), ((2, 0, 4), 0, 1)])
def test_flatten(shape, start, end):
    a = _data(shape)
    x = gc.tensor(a)
    r = x.flatten(start, end)
    if a.ndim == 0:
        want = a.reshape(1)
    else:
        s, e = start % a.ndim, end % a.ndim
        want = a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:]) if a.size else a.reshape(
            a.shape[:s] + (int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:])
    assert_matches(r, want)
    assert_matches(gc.flatten(x, start, end), want)


def test_flatten_of_a_transpose_copies_and_errors():
    a = _data((2, 3))
    r = gc.tensor(a).t().flatten()
    assert_matches(r, a.T.reshape(-1))
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        gc.tensor(a).flatten(1, 0)


@pytest.mark.parametrize("dim,sizes,want", [(1, (3, 4), (2, 3, 4)), (-1, (2, -1), (2, 2, 6)), (0, (1, 2), (1, 2, 12)),
                                            (1, (12,), (2, 12))])
def test_unflatten(dim, sizes, want):
    a = _data((2, 12))
    r = gc.tensor(a).unflatten(dim, sizes)
    assert_matches(r, a.reshape(want))
    with pytest.raises(RuntimeError, match="don't multiply up"):
        gc.tensor(a).unflatten(1, (5, -1))
    with pytest.raises(RuntimeError, match="don't multiply up"):
        gc.unflatten(gc.tensor(a), 1, (5, 2))


def test_contiguous():
    x = gc.tensor(_data((2, 3)))
    assert x.contiguous() is x
    t = x.t()
    c = t.contiguous()
    assert c.is_contiguous() and not t.is_contiguous()
    assert_matches(c, _data((2, 3)).T)


# ----------------------------------------------------------------------------- cat family
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_matches_numpy(dtype, dim):
    a, b = _data((2, 3), dtype, 0), _data((2, 3), dtype, 1)
    r = gc.cat([gc.tensor(a), gc.tensor(b), gc.tensor(a)], dim)
    assert_matches(r, np.concatenate([a, b, a], axis=dim))
    assert_matches(gc.concat((gc.tensor(a), gc.tensor(b)), dim=dim), np.concatenate([a, b], axis=dim))
    assert_matches(gc.concatenate([gc.tensor(a)], dim), a)


@pytest.mark.parametrize("d1,d2,want", [(gc.int32, gc.float32, gc.float32), (gc.int64, gc.int32, gc.int64),
                                        (gc.bool, gc.uint8, gc.uint8), (gc.float32, gc.float64, gc.float64),
                                        (gc.uint8, gc.int32, gc.int32)])
def test_cat_promotes(d1, d2, want):
    a, b = _data((2, 2), d1), _data((1, 2), d2)
    r = gc.cat([gc.tensor(a), gc.tensor(b)])
    assert_matches(r, np.concatenate([a, b]).astype(want.np), dtype=want)


def test_cat_skips_1d_empty_but_promotes_with_it():
    a = _data((2, 3), gc.int32)
    r = gc.cat([gc.tensor(a), gc.zeros(0, dtype=gc.float64), gc.tensor(a)], 1)
    assert_matches(r, np.concatenate([a, a], 1).astype(np.float64))
    assert_matches(gc.cat([gc.zeros(0), gc.zeros(0)]), np.zeros(0, np.float32))
    assert_matches(gc.cat([gc.zeros(2, 0), gc.ones(2, 3)], 1), np.ones((2, 3), np.float32))


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0.*\[2, 3\].*\[2, 4\]"):
        gc.cat([gc.ones(2, 3), gc.ones(2, 4)])
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        gc.cat([gc.ones(2, 3), gc.ones(3)])
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        gc.cat([gc.ones(()), gc.ones(())])
    with pytest.raises(ValueError, match="non-empty"):
        gc.cat([])
    with pytest.raises(IndexError, match="Dimension out of range"):
        gc.cat([gc.ones(2, 3)], 2)
    with pytest.raises(TypeError):
        gc.cat(gc.ones(2))
    with pytest.raises(TypeError):
        gc.cat([gc.ones(2), np.ones(2)])


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("dim", [0, -1])
def test_stack(shape, dim):
    a, b = _data(shape, seed=0), _data(shape, seed=1)
    assert_matches(gc.stack([gc.tensor(a), gc.tensor(b)], dim), np.stack([a, b], axis=dim))


def test_stack_promotes_and_errors():
    r = gc.stack([gc.ones(2, dtype=gc.int32), gc.ones(2, dtype=gc.float64)])
    assert_matches(r, np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        gc.stack([gc.ones(2), gc.ones(3)])
    with pytest.raises(RuntimeError, match="non-empty"):
        gc.stack([])


@pytest.mark.parametrize("shapes", [[(), (2,)], [(3,), (2,)], [(2, 3), (2, 1)], [(2, 1, 2), (2, 3, 2)]])
def test_hstack(shapes):
    arrs = [_data(s, seed=i) for i, s in enumerate(shapes)]
    assert_matches(gc.hstack([gc.tensor(a) for a in arrs]), np.hstack(arrs))


@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(3,), (2, 3)], [(1, 2, 2), (2, 2, 2)]])
def test_vstack_row_stack(shapes):
    arrs = [_data(s, seed=i) for i, s in enumerate(shapes)]
    assert_matches(gc.vstack([gc.tensor(a) for a in arrs]), np.vstack(arrs))
    assert_matches(gc.row_stack([gc.tensor(a) for a in arrs]), np.vstack(arrs))


@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(2, 3), (2, 3)], [(2, 3, 1), (2, 3, 2)]])
def test_dstack(shapes):
    arrs = [_data(s, seed=i) for i, s in enumerate(shapes)]
    assert_matches(gc.dstack([gc.tensor(a) for a in arrs]), np.dstack(arrs))


@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(3,), (3, 2)], [(2, 2), (2, 1)]])
def test_column_stack(shapes):
    arrs = [_data(s, seed=i) for i, s in enumerate(shapes)]
    assert_matches(gc.column_stack([gc.tensor(a) for a in arrs]), np.column_stack(arrs))


def test_atleast():
    assert_matches(gc.atleast_1d(gc.tensor(2.0)), np.array([2.0], np.float32))
    assert_matches(gc.atleast_2d(gc.ones(3)), np.ones((1, 3), np.float32))
    r = gc.atleast_3d(gc.ones(3), gc.ones(2, 2))
    assert [tuple(t.shape) for t in r] == [(1, 3, 1), (2, 2, 1)]


# ----------------------------------------------------------------------------- split family
def _pieces(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_matches(g, w)


@pytest.mark.parametrize("size,dim", [(2, 0), (3, 1), (4, 1), (1, -1), ([1, 6, 0], 1), ([2, 2, 3], -1)])
def test_split(size, dim):
    a = _data((4, 7))
    n = a.shape[dim]
    if isinstance(size, list):
        bounds = np.cumsum(size)[:-1]
    else:
        bounds = list(range(size, n, size))
    want = np.split(a, bounds, axis=dim)
    x = gc.tensor(a)
    _pieces(x.split(size, dim), want)
    _pieces(gc.split(x, size, dim=dim), want)
    for p in x.split(size, dim):
        if p.numel():
            assert _is_view_of(p, x)


def test_split_errors_and_empty():
    x = gc.arange(7)
    with pytest.raises(RuntimeError, match="sum exactly to 7"):
        x.split([3, 3])
    with pytest.raises(RuntimeError, match="split_size can only be 0"):
        x.split(0)
    _pieces(gc.arange(0).split(0), [np.zeros(0, np.int64)])
    _pieces(gc.arange(0).split(2), [np.zeros(0, np.int64)])


@pytest.mark.parametrize("n,chunks", [(6, 3), (6, 4), (6, 5), (7, 3), (1, 3), (0, 2)])
def test_chunk(n, chunks):
    a = np.arange(n)
    got = gc.tensor(a).chunk(chunks)
    size = -(-n // chunks) if n else 0
    if n == 0:
        want = [a] * chunks
    else:
        want = [a[i:i + size] for i in range(0, n, size)]
    _pieces(got, want)
    with pytest.raises(RuntimeError, match="greater than 0"):
        gc.tensor(a).chunk(0)


@pytest.mark.parametrize("arg", [3, 1, 7, 9, [1, 5], [5, 1], [0, 20], (2,)])
def test_tensor_split(arg):
    a = np.arange(14).reshape(2, 7)
    _pieces(gc.tensor(a).tensor_split(arg, 1), np.array_split(a, arg, axis=1))
    if not isinstance(arg, int):
        _pieces(gc.tensor_split(gc.tensor(a), gc.tensor(list(arg)), 1), np.array_split(a, arg, axis=1))
    else:
        _pieces(gc.tensor_split(gc.tensor(a), gc.tensor(arg), dim=-1), np.array_split(a, arg, axis=1))
    with pytest.raises(RuntimeError, match="larger than 0"):
        gc.tensor(a).tensor_split(0)


def test_hsplit_vsplit_dsplit():
    a = _data((4, 6, 2))
    x = gc.tensor(a)
    _pieces(x.hsplit(3), np.hsplit(a, 3))
    _pieces(gc.hsplit(x, [1, 4]), np.hsplit(a, [1, 4]))
    _pieces(x.vsplit(2), np.vsplit(a, 2))
    _pieces(gc.dsplit(x, 2), np.dsplit(a, 2))
    _pieces(gc.hsplit(gc.arange(6), 2), np.hsplit(np.arange(6), 2))
    with pytest.raises(RuntimeError, match="not divisible"):
        x.hsplit(4)
    with pytest.raises(RuntimeError, match="at least 3 dimension"):
        gc.ones(2, 2).dsplit(2)
    with pytest.raises(RuntimeError, match="at least 2 dimension"):
        gc.ones(2).vsplit(2)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim):
    a = _data((2, 3))
    got = gc.tensor(a).unbind(dim)
    _pieces(got, [np.take(a, i, axis=dim) for i in range(a.shape[dim])])
    assert len(gc.unbind(gc.ones(0, 3))) == 0
    with pytest.raises(IndexError):
        gc.tensor(1.0).unbind()


def test_iterating_a_tensor_unbinds():
    a = _data((3, 2))
    for row, want in zip(gc.tensor(a), a):
        assert_matches(row, want)


@pytest.mark.parametrize("dim,start,length", [(0, 0, 2), (1, -3, 2), (1, 4, 0), (-1, 1, 3)])
def test_narrow_and_select(dim, start, length):
    a = _data((3, 4))
    x = gc.tensor(a)
    s = start % a.shape[dim] if start < 0 else start
    want = np.take(a, range(s, s + length), axis=dim)
    r = x.narrow(dim, start, length)
    assert_matches(r, want)
    assert r._base is x or length == 0
    assert_matches(gc.narrow(x, dim, gc.tensor(start), length), want)
    assert_matches(x.select(dim, -1), np.take(a, -1, axis=dim))


def test_narrow_select_errors():
    x = gc.ones(3, 4)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(0, 2, 2)
    with pytest.raises(IndexError, match="start out of range"):
        x.narrow(0, 5, 0)
    with pytest.raises(IndexError, match="index 4 out of range"):
        x.select(1, 4)


# ----------------------------------------------------------------------------- repeat / tile / flip / roll
@pytest.mark.parametrize("shape,reps", [((), ()), ((), (2,)), ((3,), (2,)), ((2, 3), (2, 1)), ((2, 3), (2, 1, 3)),
                                        ((2, 3), (0, 2)), ((2, 0), (2, 2))])
def test_repeat(shape, reps):
    a = _data(shape)
    want = np.tile(a, reps) if reps else a
    assert_matches(gc.tensor(a).repeat(*reps), want)
    if reps:
        assert_matches(gc.tensor(a).repeat(reps), want)


@pytest.mark.parametrize("shape,reps", [((3,), (2,)), ((2, 3), (2,)), ((2, 3), (2, 1, 2)), ((), (3,))])
def test_tile(shape, reps):
    a = _data(shape, gc.int64)
    assert_matches(gc.tile(gc.tensor(a), reps), np.tile(a, reps))
    assert_matches(gc.tensor(a).tile(reps), np.tile(a, reps))


def test_repeat_errors():
    with pytest.raises(RuntimeError, match="can not be smaller"):
        gc.ones(2, 3).repeat(2)
    with pytest.raises(RuntimeError, match="negative dimension"):
        gc.ones(2, 3).repeat(-1, 1)


@pytest.mark.parametrize("dtype", [gc.float32, gc.int64, gc.bool])
@pytest.mark.parametrize("shape,dims", [((), ()), ((), (0,)), ((4,), (0,)), ((2, 3), (0, 1)), ((2, 3, 4), (-1,)),
                                        ((2, 0), (1,))])
def test_flip(dtype, shape, dims):
    a = _data(shape, dtype)
    want = np.flip(a, dims) if a.ndim else a
    x = gc.tensor(a)
    r = gc.flip(x, dims)
    assert_matches(r, want)
    assert r.numel() == 0 or not np.shares_memory(r.numpy(), x.numpy())
    if dims:
        assert_matches(x.flip(*dims), want)


def test_fliplr_flipud():
    a = _data((2, 3))
    assert_matches(gc.fliplr(gc.tensor(a)), np.fliplr(a))
    assert_matches(gc.tensor(a).flipud(), np.flipud(a))
    with pytest.raises(RuntimeError, match=">= 2-d"):
        gc.fliplr(gc.ones(3))
    with pytest.raises(RuntimeError, match=">= 1-d"):
        gc.flipud(gc.tensor(1.0))
    with pytest.raises(RuntimeError, match="multiple times"):
        gc.flip(gc.ones(2, 2), (0, 0))


@pytest.mark.parametrize("shape,shifts,dims", [((5,), 2, None), ((2, 3), 4, None), ((2, 3), -1, 1),
                                               ((2, 3), (1, 2), (0, 1)), ((2, 3), 3, 1), ((0, 3), 1, 0),
                                               ((), 1, None), ((2, 3), (1, 1), (1, 1))])
def test_roll(shape, shifts, dims):
    a = _data(shape)
    x = gc.tensor(a)
    r = gc.roll(x, shifts, dims)
    assert_matches(r, np.roll(a, shifts, dims))
    assert r.numel() == 0 or not np.shares_memory(r.numpy(), x.numpy())


def test_roll_errors():
    with pytest.raises(RuntimeError, match="must align"):
        gc.ones(2, 3).roll((1, 2), (0,))
    with pytest.raises(IndexError):
        gc.tensor(1.0).roll(1, 0)


# ----------------------------------------------------------------------------- diagonals and triangles
@pytest.mark.parametrize("offset", [0, 1, 2, -1, -3, 5])
def test_diag(offset):
    v = _data((3,))
    assert_matches(gc.diag(gc.tensor(v), offset), np.diag(v, offset))
    m = _data((3, 4))
    r = gc.tensor(m).diag(offset)
    assert_matches(r, np.diag(m, offset))
    with pytest.raises(RuntimeError, match="Supports 1D or 2D"):
        gc.diag(gc.ones(2, 2, 2))


@pytest.mark.parametrize("offset,d1,d2", [(0, 0, 1), (1, 0, 2), (-1, 2, 1), (0, -1, -2), (10, 0, 1)])
def test_diagonal_is_a_writable_view(offset, d1, d2):
    a = _data((3, 4, 5))
    x = gc.tensor(a.copy())
    r = x.diagonal(offset, d1, d2)
    assert_matches(r, np.diagonal(a, offset, d1, d2))
    if r.numel():
        assert _is_view_of(r, x)
        r.fill_(100.0)
        assert (np.diagonal(x.numpy(), offset, d1, d2) == 100).all()
    with pytest.raises(RuntimeError, match="cannot be identical"):
        x.diagonal(0, 1, 1)


def test_diag_embed():
    a = _data((2, 3))
    r = gc.diag_embed(gc.tensor(a), 1)
    want = np.zeros((2, 4, 4))
    for i in range(2):
        want[i] = np.diag(a[i], 1)
    assert_matches(r, want)


@pytest.mark.parametrize("dtype", [gc.float32, gc.int64, gc.bool])
@pytest.mark.parametrize("k", [0, 1, -1, 5, -5])
def test_tril_triu(dtype, k):
    a = _data((2, 3, 4), dtype)
    assert_matches(gc.tril(gc.tensor(a), k), np.tril(a, k))
    assert_matches(gc.tensor(a).triu(diagonal=k), np.triu(a, k))
    y = gc.tensor(a.copy())
    y.tril_(k)
    assert_matches(y, np.tril(a, k))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gc.tril(gc.ones(3))


def test_conj_is_identity_for_real():
    x = gc.ones(3)
    assert gc.conj(x) is x and x.conj() is x and x.resolve_conj() is x


# ----------------------------------------------------------------------------- gradients
GRAD_CASES = [
    ("permute", lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("transpose", lambda x: x.transpose(-1, 0), [(2, 3, 4)]),
    ("t", lambda x: x.t() * 2, [(2, 3)]),
    ("movedim", lambda x: gc.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("squeeze", lambda x: x.squeeze(), [(1, 3, 1)]),
    ("squeeze_0d", lambda x: x.squeeze(0), [()]),
    ("unsqueeze", lambda x: x.unsqueeze(1), [(2, 3)]),
    ("flatten", lambda x: x.flatten(1), [(2, 3, 2)]),
    ("flatten_t", lambda x: x.t().flatten(), [(2, 3)]),
    ("unflatten", lambda x: x.unflatten(0, (2, 3)), [(6,)]),
    ("cat", lambda x, y: gc.cat([x, y, x], 1), [(2, 3), (2, 1)]),
    ("stack", lambda x, y: gc.stack([x, y], -1), [(2, 3), (2, 3)]),
    ("hstack", lambda x, y: gc.hstack([x, y]), [(3,), (2,)]),
    ("vstack", lambda x, y: gc.vstack([x, y]), [(3,), (2, 3)]),
    ("dstack", lambda x, y: gc.dstack([x, y]), [(2, 3), (2, 3)]),
    ("column_stack", lambda x, y: gc.column_stack([x, y]), [(2,), (2, 2)]),
    ("split", lambda x: x.split([1, 2], 1)[1] * 3, [(2, 3)]),
    ("chunk", lambda x: x.chunk(2, 0), [(3, 2)]),
    ("tensor_split", lambda x: x.tensor_split([1, 3], 0), [(4, 2)]),
    ("unbind", lambda x: x.unbind(1), [(2, 3)]),
    ("narrow", lambda x: x.narrow(1, 1, 2), [(2, 4)]),
    ("select", lambda x: x.select(0, -1), [(2, 4)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), [(2, 3)]),
    ("tile", lambda x: x.tile((2,)), [(3,)]),
    ("flip", lambda x: x.flip(0, 1), [(2, 3)]),
    ("roll", lambda x: gc.roll(x, (1, -1), (0, 1)), [(3, 3)]),
    ("roll_flat", lambda x: gc.roll(x, 2), [(2, 3)]),
    ("diag_1d", lambda x: gc.diag(x, -1), [(3,)]),
    ("diag_2d", lambda x: gc.diag(x, 1), [(3, 4)]),
    ("diagonal", lambda x: x.diagonal(0, 0, 2), [(3, 2, 3)]),
    ("diag_embed", lambda x: gc.diag_embed(x), [(2, 2)]),
    ("tril", lambda x: x.tril(-1), [(3, 3)]),
    ("triu", lambda x: x.triu(1), [(2, 3, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(name, fn, shapes):
    inputs = [rand64(*s, seed=i) for i, s in enumerate(shapes)]
    check_grad(fn, *inputs)


def test_cat_gradient_reaches_each_input_in_its_dtype():
    x = gc.ones(2, 2, dtype=gc.float32, requires_grad=True)
    y = gc.ones(1, 2, dtype=gc.float64, requires_grad=True)
    r = gc.cat([x, y])
    assert r.dtype is gc.float64
    (r * gc.arange(6, dtype=gc.float64).reshape(3, 2)).sum().backward()
    assert_matches(x.grad, np.arange(4, dtype=np.float32).reshape(2, 2))
    assert_matches(y.grad, np.array([[4.0, 5.0]]))


# ----------------------------------------------------------------------------- in-place writes through views
@pytest.mark.parametrize("make_view,region", [
    (lambda y: y.t()[1], (slice(None), 1)),
    (lambda y: y.narrow(1, 1, 2), (slice(None), slice(1, 3))),
    (lambda y: y.unsqueeze(0).squeeze(0)[0], (0,)),
    (lambda y: y.diagonal(), "diag"),
    (lambda y: y.split(1, 0)[1], (slice(1, 2),)),
    (lambda y: y.unbind(1)[2], (slice(None), 2)),
    (lambda y: y.permute(1, 0).unflatten(0, (2, 2))[1], (slice(None), slice(2, 4))),
])
def test_inplace_through_view_updates_base_and_gradient(make_view, region):
    a = _data((3, 4))
    x = gc.tensor(a, requires_grad=True)
    y = x.clone()
    v = make_view(y)
    v.mul_(3)
    want = a.copy()
    mult = np.ones_like(a)
    if region == "diag":
        idx = np.arange(3)
        want[idx, idx] *= 3
        mult[idx, idx] = 3
    else:
        want[region] *= 3
        mult[region] = 3
    assert_matches(y, want)
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    assert_matches(x.grad, mult)


def test_inplace_through_view_of_leaf_is_refused():
    x = gc.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.t().mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.diagonal().zero_()


def test_view_shares_version_counter():
    y = gc.ones(3, 4)
    v = y.transpose(0, 1)
    before = y._version.v
    v.add_(1)
    assert y._version.v == before + 1
    assert (y.numpy() == 2).all()


def test_inplace_through_reshape_view_of_fortran_ordered_base():
    # y.t().flatten() is a view of an F-ordered y; the recorded CopySlices must still zero the right region
    x = gc.from_numpy(np.asfortranarray(np.arange(6.0).reshape(2, 3))).requires_grad_()
    y = x * 1
    v = y.t().flatten()
    assert v._base is y
    v.mul_(2)
    assert_matches(y, 2 * np.arange(6.0).reshape(2, 3))
    y.sum().backward()
    assert_matches(x.grad, np.full((2, 3), 2.0))


def test_second_order_gradients_through_views_and_cat():
    def fn(x):
        y = gc.cat([x * x, x.t()[:2].t()], 1)
        y.diagonal().mul_(x[0, 0])
        return y.roll(1, 0)

    assert gc.autograd.gradgradcheck(fn, (rand64(3, 3),))


def test_movedim_of_a_0d_tensor_accepts_dim_0_and_minus_1():
    x = gc.tensor(3.0)
    for src, dst in ((0, 0), (-1, 0), (0, -1), ([0], [-1])):
        assert gc.movedim(x, src, dst).item() == 3.0 and gc.moveaxis(x, src, dst).shape == ()


def test_tile_method_takes_ints_and_membership_compares_entries():
    x = gc.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(x.tile(2, 1).numpy(), np.tile(x.numpy(), (2, 1)))
    np.testing.assert_array_equal(x.tile((2,)).numpy(), np.tile(x.numpy(), (2,)))
    assert 3.0 in x and 7 not in x and gc.tensor([1.0, 2.0]) not in x and gc.tensor(2.0) in x
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
        "a" in x


def test_view_as_another_dtype_reinterprets_the_bytes():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    v = x.view(gc.int32)
    np.testing.assert_array_equal(v.numpy(), np.array([1.0, 2.0], np.float32).view(np.int32))
    assert not v.requires_grad
    y = gc.arange(4, dtype=gc.float32)
    assert y.view(gc.float16).shape == (8,) and y.view(gc.int64).shape == (2,)
    z = gc.zeros(2)
    z.view(gc.int32)[0] = int(np.array(1.0, np.float32).view(np.int32))   # shares memory
    assert z.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="stride"):
        y.reshape(2, 2).t().view(gc.int16)
