"""Index primitives: gather/scatter along a dim, advanced indexing (``index``,
``index_put``) and ``nonzero``.

Index tensors are ordinary inputs after the data inputs; they never take a
gradient.  Every kernel checks its indices and raises IndexError naming the
op, the index and the size: numpy would wrap negative indices silently.
Gradients are other index ops: gather <-> scatter_add, index <-> index_put.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .grad_utils import sum_to_shape
from .movement import BASIC_INDEX
from .pointwise import broadcast_shapes
from .registry import IndexOutOfBounds, Spec, op_error, register


# ----------------------------------------------------------------------------- shared checks
def check_bounds(index: np.ndarray, size: int, dim: int, op: str, allow_negative: bool) -> None:
    """IndexError unless every entry is in [0, size) (or [-size, size) when negatives count from the end)."""
    if index.size == 0:
        return
    lo, hi = index.min(), index.max()
    if hi >= size:
        bad = hi
    elif lo < (-size if allow_negative else 0):
        bad = lo
    else:
        return
    raise op_error(IndexOutOfBounds, f"{op}(): index {int(bad)} is out of bounds for dimension {dim} with size {size}")


def _along_dim(index: np.ndarray, dim: int) -> tuple:
    """A numpy index that picks ``a[i0, .., index[i0, ..], ..]`` for every position of ``index``."""
    nd = index.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(index)
        else:
            shape = [1] * nd
            shape[d] = index.shape[d]
            out.append(np.arange(index.shape[d]).reshape(shape))
    return tuple(out)


def _check_along(op: str, x, index, dim: int, src=None) -> None:
    if index.ndim != x.ndim:
        raise op_error(RuntimeError, f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                                     f"(index {list(index.shape)}, input {list(x.shape)})")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise op_error(RuntimeError, f"{op}(): Size does not match at dimension {d}: expected index "
                                         f"{list(index.shape)} to be no larger than self {list(x.shape)} apart from "
                                         f"dimension {dim}")
    if src is not None:
        if src.ndim != index.ndim:
            raise op_error(RuntimeError, f"{op}(): Index tensor must have the same number of dimensions as src "
                                         f"tensor (index {list(index.shape)}, src {list(src.shape)})")
        for d in range(index.ndim):
            if index.shape[d] > src.shape[d]:
                raise op_error(RuntimeError, f"{op}(): Expected index {list(index.shape)} to be no larger size than "
                                             f"src {list(src.shape)}")
    if x.ndim:
        check_bounds(index, x.shape[dim], dim, op, False)
    elif index.size and index.reshape(()) != 0:
        raise op_error(IndexError, f"{op}(): index {int(index.reshape(()))} is out of bounds for dimension 0 with size 1")


def _head(src: np.ndarray, shape: tuple) -> np.ndarray:
    """The leading ``shape`` block of ``src`` (scatter reads only that much of it)."""
    if src.shape == shape:
        return src
    return src[tuple(slice(0, n) for n in shape)]


def pad_to(t, like):
    """``t`` in the leading corner of zeros shaped like ``like`` (the inverse of :func:`_head`)."""
    if tuple(t.shape) == tuple(like.shape):
        return t
    attrs = {"index": tuple((0, n, 1) for n in t.shape)}
    return like.new_zeros(like.shape, dtype=t.dtype)._view_scatter(t, ((BASIC_INDEX, attrs),))


def _same_as_input(s, *rest, **attrs):
    return Spec(s.shape, s.dtype)


# ----------------------------------------------------------------------------- gather
def _gather(x, index, dim):
    _check_along("gather", x, index, dim)
    if x.ndim == 0:
        return x.reshape(1)[index.reshape(1)].reshape(index.shape)
    return x[_along_dim(index, dim)]


def _gather_grad(ctx, g):
    x, index = ctx.inputs
    return x.new_zeros(x.shape, dtype=g.dtype).scatter_add(ctx.attrs["dim"], index, g), None


register("gather", "index", kernel=_gather, infer=lambda s, i, dim: Spec(i.shape, s.dtype), grad=_gather_grad,
         saves="none", nondiff_inputs=(1,))


# ----------------------------------------------------------------------------- scatter, scatter_add
def _scatter_kernel(op, combine):
    def kernel(x, index, src, dim):
        _check_along(op, x, index, dim, src)
        out = x.copy()
        if index.size == 0:
            return out
        if x.ndim == 0:
            combine(out.reshape(1), index.reshape(1), src.reshape(1))
        else:
            combine(out, _along_dim(index, dim), _head(src, index.shape))
        return out

    kernel.__name__ = op
    return kernel


def _assign(out, idx, src):
    out[idx] = src


def _scatter_grad(ctx, g):
    _, index, src = ctx.inputs
    dim = ctx.attrs["dim"]
    gx = g.scatter(dim, index, 0.0) if ctx.needs_input_grad[0] else None
    gs = pad_to(g.gather(dim, index), src) if ctx.needs_input_grad[2] else None
    return gx, None, gs


def _scatter_add_grad(ctx, g):
    _, index, src = ctx.inputs
    gs = pad_to(g.gather(ctx.attrs["dim"], index), src) if ctx.needs_input_grad[2] else None
    return g, None, gs


register("scatter", "index", kernel=_scatter_kernel("scatter", _assign), infer=_same_as_input, grad=_scatter_grad,
         saves="none", nondiff_inputs=(1,))
register("scatter_add", "index", kernel=_scatter_kernel("scatter_add", np.add.at), infer=_same_as_input,
         grad=_scatter_add_grad, saves="none", nondiff_inputs=(1,))


# ----------------------------------------------------------------------------- scatter_reduce
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce: str, dtype: np.dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _scatter_reduce(x, index, src, dim, reduce, include_self=True):
    _check_along("scatter_reduce", x, index, dim, src)
    out = x.copy()
    if index.size == 0:
        return out
    flat = x.ndim == 0
    o = out.reshape(1) if flat else out
    idx = (index.reshape(1),) if flat else _along_dim(index, dim)
    s = src.reshape(1) if flat else _head(src, index.shape)
    if not include_self:
        o[idx] = _identity(reduce, x.dtype)
    _UFUNC[reduce].at(o, idx, s)
    if reduce == "mean":
        count = np.full(o.shape, 1 if include_self else 0, dtype=np.int64)
        np.add.at(count, idx, 1)
        count[count == 0] = 1
        if x.dtype.kind == "f":
            o[...] = o / count
        else:
            o[...] = np.floor_divide(o, count)
    return out


def _scatter_reduce_grad(ctx, g):
    x, index, src = ctx.inputs
    dim, reduce = ctx.attrs["dim"], ctx.attrs["reduce"]
    include_self = ctx.attrs.get("include_self", True)
    out = ctx.output
    srch = src[tuple(slice(0, n) for n in index.shape)]  # the part of src that is read
    if reduce == "sum":
        gx, gs = g, g.gather(dim, index)
    elif reduce == "mean":
        count = x.new_ones(x.shape, dtype=g.dtype) if include_self else x.new_zeros(x.shape, dtype=g.dtype)
        count = count.scatter_add(dim, index, g.new_ones(index.shape))
        share = g / count.masked_fill(count == 0, 1)
        gx, gs = share, share.gather(dim, index)
    elif reduce in ("amax", "amin"):
        # the gradient is split evenly among the contributors equal to the result, as in torch
        x_hits = (x == out).to(g.dtype)
        if not include_self:
            x_hits = x_hits.scatter(dim, index, 0.0)
        s_hits = (srch == out.gather(dim, index)).to(g.dtype)
        n = x_hits.scatter_add(dim, index, s_hits)
        share = g / n.masked_fill(n == 0, 1)
        gx, gs = x_hits * share, s_hits * share.gather(dim, index)
    else:  # prod: each contributor gets the product of the others, exact when some are zero
        xz, sz = x == 0, srch == 0
        x1, s1 = x.masked_fill(xz, 1), srch.masked_fill(sz, 1)
        prod_nz = x1.scatter_reduce(dim, index, s1, "prod", include_self=include_self)
        nzeros = xz.to(g.dtype) if include_self else x.new_zeros(x.shape, dtype=g.dtype)
        nzeros = nzeros.scatter_add(dim, index, sz.to(g.dtype))

        def others(vz, v1, pnz, nz):
            return (vz.logical_not() & (nz == 0)).to(g.dtype) * pnz / v1 + (vz & (nz == 1)).to(g.dtype) * pnz

        gx = g * others(xz, x1, prod_nz, nzeros)
        gs = g.gather(dim, index) * others(sz, s1, prod_nz.gather(dim, index), nzeros.gather(dim, index))
    if not include_self:
        gx = g.scatter(dim, index, 0.0)  # self is overwritten where src lands and passed through elsewhere
    return (gx if ctx.needs_input_grad[0] else None, None,
            pad_to(gs, src) if ctx.needs_input_grad[2] else None)


register("scatter_reduce", "index", kernel=_scatter_reduce, infer=_same_as_input, grad=_scatter_reduce_grad,
         saves="both", nondiff_inputs=(1,))


# ----------------------------------------------------------------------------- advanced indexing
# ``index(x, *indices, dims)`` indexes dim dims[k] of x with indices[k] (dims ascending) and keeps
# the other dims whole; ``wrap`` says whether negative indices count from the end (getitem) or
# are out of bounds (index_select).
def indexed_shape(shape: tuple, index_shapes: list, dims: tuple) -> tuple:
    """torch's result shape of indexing dims ``dims`` of ``shape`` with tensors of ``index_shapes``.

    The broadcast index shape replaces the indexed dims when they are adjacent, else it goes first.
    """
    try:
        bshape = broadcast_shapes(*index_shapes)
    except RuntimeError:
        raise op_error(IndexError, "shape mismatch: indexing tensors could not be broadcast together with shapes "
                                   + ", ".join(str(list(s)) for s in index_shapes)) from None
    rest = [s for d, s in enumerate(shape) if d not in dims]
    if dims[-1] - dims[0] == len(dims) - 1:
        return tuple(shape[:dims[0]]) + bshape + tuple(shape[dims[-1] + 1:])
    return bshape + tuple(rest)


def numpy_index(x, indices, dims, op, wrap):
    """The bounds-checked numpy index tuple that ``index``/``index_put`` use."""
    idx = [slice(None)] * (dims[-1] + 1)
    for a, d in zip(indices, dims):
        check_bounds(a, x.shape[d], d, op, wrap)
        idx[d] = a
    return tuple(idx)


def _index(x, *indices, dims, wrap=True):
    idx = numpy_index(x, indices, dims, "index", wrap)
    try:
        # numpy may lay the result out with the index dims innermost; torch's is contiguous
        return np.ascontiguousarray(x[idx])
    except IndexError:
        indexed_shape(x.shape, [a.shape for a in indices], dims)  # raises torch's message for unbroadcastable indices
        raise


def _index_infer(s, *index_specs, dims, wrap=True):
    return Spec(indexed_shape(s.shape, [i.shape for i in index_specs], dims), s.dtype)


def _index_grad(ctx, g):
    x, *indices = ctx.inputs
    gx = x.new_zeros(x.shape, dtype=g.dtype)._index_put_dims(g, indices, ctx.attrs["dims"], True)
    return (gx,) + (None,) * len(indices)


register("index", "index", kernel=_index, infer=_index_infer, grad=_index_grad, saves="none",
         extra={"backward_name": "IndexBackward0"})


def _index_put(x, values, *indices, dims, accumulate=False, wrap=True):
    idx = numpy_index(x, indices, dims, "index_put", wrap)
    target = indexed_shape(x.shape, [a.shape for a in indices], dims)
    try:
        ok = np.broadcast_shapes(values.shape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise op_error(RuntimeError, f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast "
                                     f"to indexing result of shape {list(target)}")
    out = x.copy()
    if accumulate:
        np.add.at(out, idx, values)
    else:
        out[idx] = values
    return out


def _index_put_grad(ctx, g):
    x, values, *indices = ctx.inputs
    dims, accumulate = ctx.attrs["dims"], ctx.attrs.get("accumulate", False)
    gx = gv = None
    if ctx.needs_input_grad[0]:
        gx = g if accumulate else g._index_put_dims(g.new_zeros(()), indices, dims, False)
    if ctx.needs_input_grad[1]:
        gv = sum_to_shape(g._index_dims(indices, dims), tuple(values.shape))
    return (gx, gv) + (None,) * len(indices)


register("index_put", "index", kernel=_index_put, infer=_same_as_input, grad=_index_put_grad, saves="none")


# ----------------------------------------------------------------------------- nonzero
def _nonzero(x):
    return np.argwhere(x).astype(np.int64, copy=False)


register("nonzero", "index", kernel=_nonzero, infer=lambda s: Spec((None, len(s.shape)), _dt.int64), grad=None,
         saves="none", extra={"data_dependent_shape": True})
