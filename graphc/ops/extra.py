"""Primitives whose results depend on the data: cummax/cummin indices, unique, bincount, searchsorted, histc.

Each has a numpy kernel and an exact ``infer`` (None where a size depends on the
values).  Only cummax/cummin are differentiable (the gradient goes to the
returned index, as in torch); the others give integer or counting results.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .registry import Spec, op_error, register
from .sorting import as_1d_if_scalar


# ----------------------------------------------------------------------------- cummax / cummin
def _running_extreme(better):
    def kernel(x, dim):
        a = np.moveaxis(as_1d_if_scalar(x), dim, -1)
        vals = np.empty_like(a)
        idx = np.zeros(a.shape, dtype=np.int64)
        n = a.shape[-1]
        if n:
            cur, cur_i = a[..., 0].copy(), np.zeros(a.shape[:-1], dtype=np.int64)
            vals[..., 0], idx[..., 0] = cur, 0
            is_float = a.dtype.kind == "f"
            for j in range(1, n):
                v = a[..., j]
                # torch: a nan always takes over (later nans move the index); ties move the index too
                take = better(v, cur)
                if is_float:
                    take = np.isnan(v) | (~np.isnan(cur) & take)
                cur = np.where(take, v, cur)
                cur_i = np.where(take, j, cur_i)
                vals[..., j], idx[..., j] = cur, cur_i
        vals, idx = np.moveaxis(vals, -1, dim), np.moveaxis(idx, -1, dim)
        return vals.reshape(x.shape), idx.reshape(x.shape)

    return kernel


def _cum_pair_infer(s, dim):
    return Spec(s.shape, s.dtype), Spec(s.shape, _dt.int64)


def _cum_extreme_grad(ctx, g, _gi=None):
    x, idx = ctx.inputs[0], ctx.outputs[1]
    if len(x.shape) == 0:
        return (g,)
    # each output position sends its gradient to the input position it copied
    return (g.new_zeros(x.shape).scatter_add(ctx.attrs["dim"], idx, g),)


register("cummax", "reduction", kernel=_running_extreme(np.greater_equal), infer=_cum_pair_infer,
         grad=_cum_extreme_grad, saves="output", num_outputs=2, nondiff_outputs=(1,))
register("cummin", "reduction", kernel=_running_extreme(np.less_equal), infer=_cum_pair_infer,
         grad=_cum_extreme_grad, saves="output", num_outputs=2, nondiff_outputs=(1,))


# ----------------------------------------------------------------------------- unique
def _unique(x):
    flat = x.reshape(-1)
    kw = {"equal_nan": False} if flat.dtype.kind == "f" else {}
    vals, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True, **kw)
    return vals, inverse.astype(np.int64).reshape(x.shape), counts.astype(np.int64)


def _unique_infer(s):
    return Spec((None,), s.dtype), Spec(s.shape, _dt.int64), Spec((None,), _dt.int64)


register("unique", "index", kernel=_unique, infer=_unique_infer, grad=None, saves="none", num_outputs=3,
         nondiff_outputs=(0, 1, 2), extra={"data_dependent_shape": True})


# ----------------------------------------------------------------------------- bincount
def _bincount_dtype(w: _dt.DType | None) -> _dt.DType:
    if w is None:
        return _dt.int64
    return w if w in (_dt.float32, _dt.float64) else _dt.float64


def _check_bincount_input(x):
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise op_error(RuntimeError, "bincount only supports 1-d non-negative integral inputs.")


def _bincount(x, minlength=0):
    _check_bincount_input(x)
    return np.bincount(x, minlength=minlength).astype(np.int64, copy=False)


def _bincount_weighted(x, w, minlength=0):
    _check_bincount_input(x)
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise op_error(RuntimeError, "bincount: weights should be 1-d and have the same length as input")
    out = _bincount_dtype(_dt.from_numpy_dtype(w.dtype)).np
    return np.bincount(x, weights=w.astype(np.float64), minlength=minlength).astype(out)


register("bincount", "index", kernel=_bincount, infer=lambda s, minlength=0: Spec((None,), _dt.int64),
         grad=None, saves="none", extra={"data_dependent_shape": True})
register("bincount_weighted", "index", kernel=_bincount_weighted,
         infer=lambda s, w, minlength=0: Spec((None,), _bincount_dtype(w.dtype)),
         grad=None, saves="none", extra={"data_dependent_shape": True})


# ----------------------------------------------------------------------------- searchsorted
def _searchsorted(boundaries, values, right=False, out_int32=False):
    side = "right" if right else "left"
    out = np.int32 if out_int32 else np.int64
    if boundaries.ndim == 1:
        return np.searchsorted(boundaries, values, side=side).astype(out)
    rows_b = boundaries.reshape(-1, boundaries.shape[-1])
    rows_v = values.reshape(-1, values.shape[-1])
    res = np.empty(rows_v.shape, dtype=out)
    for i in range(rows_b.shape[0]):
        res[i] = np.searchsorted(rows_b[i], rows_v[i], side=side)
    return res.reshape(values.shape)


def _searchsorted_infer(b, v, right=False, out_int32=False):
    return Spec(v.shape, _dt.int32 if out_int32 else _dt.int64)


register("searchsorted", "index", kernel=_searchsorted, infer=_searchsorted_infer, grad=None, saves="none",
         promote="common")


# ----------------------------------------------------------------------------- histc
def _histc(x, bins, min=0.0, max=0.0):
    lo, hi = float(min), float(max)
    finite = x[np.isfinite(x)] if x.dtype.kind == "f" else x
    if lo == hi and finite.size:
        lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    # torch's binning: bin = floor((v - lo) * bins / (hi - lo)), hi itself in the last bin; values outside
    # [lo, hi] (and nan) are ignored
    inside = x[(x >= lo) & (x <= hi)].astype(np.float64)
    pos = np.minimum(((inside - lo) * bins / (hi - lo)).astype(np.int64), bins - 1)
    counts = np.bincount(pos, minlength=bins)
    return counts.astype(x.dtype)


register("histc", "reduction", kernel=_histc, infer=lambda s, bins, min=0.0, max=0.0: Spec((bins,), s.dtype),
         grad=None, saves="none")
