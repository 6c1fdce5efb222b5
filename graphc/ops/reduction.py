"""Reduction primitives: sum, prod, amax/amin, max/min with indices, argmax/argmin, all/any,
logsumexp, median, cumsum/cumprod (vector norms are ``linalg_vector_norm`` in linalg.py).

Attributes: ``dim`` is a tuple of non-negative dims for the multi-dim reductions
(the front end normalizes; a 0-d input reduces over ``()``) and one
non-negative int for the ops that return indices or scan; ``keepdim`` a bool.
``expand_reduced`` turns a reduced gradient back into the input's shape; every
reduction's rule uses it.  Integral and bool sums, products and scans give int64,
as in torch.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .registry import quiet, Spec, op_error, register
from .sorting import as_1d_if_scalar, index_select_grad, reduced_pair_infer, select_kth

_BY_NP = _dt._BY_NP


def reduced_shape(shape, dim, keepdim) -> tuple:
    """The shape left after reducing ``dim`` (a tuple of dims)."""
    if keepdim:
        return tuple(1 if i in dim else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dim)


def expand_reduced(g, shape, dim, keepdim):
    """Broadcast a gradient of a reduced value back to the input ``shape``."""
    return keep_reduced(g, shape, dim, keepdim).expand(tuple(shape))


def keep_reduced(t, shape, dim, keepdim):
    """A reduced value reshaped as if it had been reduced with keepdim=True (broadcasts against the input)."""
    if not keepdim and dim:
        return t.reshape(reduced_shape(shape, dim, True))
    return t


def evenly_distribute(g, x, value, dim, keepdim):
    """Gradient of a value some elements of ``x`` equal (max, median): split evenly among them.

    NaN counts as equal to a NaN result, as in torch.
    """
    v = keep_reduced(value, x.shape, dim, keepdim)
    mask = (x == v).logical_or(x.isnan().logical_and(v.isnan()))
    count = mask.sum(dim=dim, keepdim=True)
    return mask * (keep_reduced(g, x.shape, dim, keepdim) / count)


def _check_nonempty(x, dim, op):
    for d in dim:
        if x.shape[d] == 0:
            raise op_error(IndexError, f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _wide_int(dt: _dt.DType, dtype) -> _dt.DType:
    # torch: sum/prod/cumsum of integral or bool tensors accumulate and return int64
    if dtype is not None:
        return dtype
    return dt if dt.is_floating_point else _dt.int64


def _wide_infer(s, dim, keepdim=False, dtype=None):
    return Spec(reduced_shape(s.shape, dim, keepdim), _wide_int(s.dtype, dtype))


def _same_infer(s, dim, keepdim=False, **attrs):
    return Spec(reduced_shape(s.shape, dim, keepdim), s.dtype)


# ----------------------------------------------------------------------------- sum
def _sum(x, dim, keepdim=False, dtype=None):
    out_dt = _wide_int(_BY_NP[x.dtype], dtype).np
    # the ufunc's reduce directly: np.sum's Python wrapper (and an errstate block) would cost more
    # than the work on small tensors
    return np.add.reduce(x, axis=dim, dtype=out_dt, keepdims=keepdim)


def _sum_grad(ctx, g):
    x = ctx.inputs[0]
    return (expand_reduced(g, x.shape, ctx.attrs["dim"], ctx.attrs.get("keepdim", False)),)


register("sum", "reduction", kernel=_sum, infer=_wide_infer, grad=_sum_grad, saves="none")


# ----------------------------------------------------------------------------- prod
def _prod(x, dim, keepdim=False, dtype=None):
    out_dt = _wide_int(_BY_NP[x.dtype], dtype).np
    with quiet():
        return np.multiply.reduce(x, axis=dim, dtype=out_dt, keepdims=keepdim)


def _prod_grad(ctx, g):
    # d prod / d x_i is the product of the others: out / x_i where x_i != 0; where x_i is the
    # only zero of its slice, the product of the nonzero rest; otherwise 0
    x, out = ctx.inputs[0], ctx.outputs[0]
    dim, keepdim = ctx.attrs["dim"], ctx.attrs.get("keepdim", False)
    zero = x == 0
    nonzero = zero.logical_not()
    safe_x = x.where(nonzero, 1.0)
    n_zero = zero.sum(dim=dim, keepdim=True)
    others = safe_x.prod(dim[0], keepdim=True) if len(dim) == 1 else safe_x.prod().reshape(
        reduced_shape(x.shape, dim, True))
    at_zero = others * (n_zero == 1)
    scale = (keep_reduced(out, x.shape, dim, keepdim) / safe_x).where(nonzero, at_zero)
    return (keep_reduced(g, x.shape, dim, keepdim) * scale,)


register("prod", "reduction", kernel=_prod, infer=_wide_infer, grad=_prod_grad, saves="both")


# ----------------------------------------------------------------------------- amax / amin
def _extreme(fn, name):
    def kernel(x, dim, keepdim=False):
        _check_nonempty(x, dim, name)
        return fn(x, axis=dim, keepdims=keepdim)

    return kernel


def _evenly_grad(ctx, g):
    x, out = ctx.inputs[0], ctx.outputs[0]
    return (evenly_distribute(g, x, out, ctx.attrs["dim"], ctx.attrs.get("keepdim", False)),)


register("amax", "reduction", kernel=_extreme(np.maximum.reduce, "amax"), infer=_same_infer, grad=_evenly_grad,
         saves="both")
register("amin", "reduction", kernel=_extreme(np.minimum.reduce, "amin"), infer=_same_infer, grad=_evenly_grad,
         saves="both")


# ----------------------------------------------------------------------------- max / min along one dim
def _with_index(argfn, valfn, name):
    def kernel(x, dim, keepdim=False):
        a = as_1d_if_scalar(x)
        if a.shape[dim] == 0:
            raise op_error(IndexError, f"{name}(): Expected reduction dim {dim} to have non-zero size.")
        # numpy's argmax/argmin return the first extreme and treat NaN as the extreme, like torch;
        # maximum/minimum.reduce give the same values (NaN propagates) faster than a gather
        idx = argfn(a, axis=dim, keepdims=True)
        vals = valfn(a, axis=dim, keepdims=True)
        if x.ndim == 0:
            return vals.reshape(()), idx.reshape(()).astype(np.int64)
        if not keepdim:
            vals, idx = np.squeeze(vals, dim), np.squeeze(idx, dim)
        return vals, idx.astype(np.int64, copy=False)

    return kernel


register("max_dim", "reduction", kernel=_with_index(np.argmax, np.maximum.reduce, "max"), infer=reduced_pair_infer,
         grad=index_select_grad, saves="output", num_outputs=2, nondiff_outputs=(1,),
         extra={"backward_name": "MaxBackward0"})
register("min_dim", "reduction", kernel=_with_index(np.argmin, np.minimum.reduce, "min"), infer=reduced_pair_infer,
         grad=index_select_grad, saves="output", num_outputs=2, nondiff_outputs=(1,),
         extra={"backward_name": "MinBackward0"})


# ----------------------------------------------------------------------------- argmax / argmin
def _arg(argfn, name):
    def kernel(x, dim=None, keepdim=False):
        if x.dtype == np.bool_:
            raise op_error(RuntimeError, f"{name}(): does not support bool input")
        if dim is None:
            if x.size == 0:
                raise op_error(IndexError, f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            r = np.asarray(argfn(x), dtype=np.int64)
            return r.reshape((1,) * x.ndim) if keepdim else r
        a = as_1d_if_scalar(x)
        if a.shape[dim] == 0:
            raise op_error(IndexError, f"{name}(): Expected reduction dim {dim} to have non-zero size.")
        r = argfn(a, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)
        return r.reshape(()) if x.ndim == 0 else r

    return kernel


def _arg_infer(s, dim=None, keepdim=False):
    if dim is None:
        shape = (1,) * len(s.shape) if keepdim else ()
    else:
        shape = reduced_shape(s.shape, (dim,), keepdim)
    return Spec(shape, _dt.int64)


register("argmax", "reduction", kernel=_arg(np.argmax, "argmax"), infer=_arg_infer)
register("argmin", "reduction", kernel=_arg(np.argmin, "argmin"), infer=_arg_infer)


# ----------------------------------------------------------------------------- all / any
def _logical(fn):
    def kernel(x, dim, keepdim=False):
        r = fn(x, axis=dim, keepdims=keepdim)  # logical reduces give bool for any input dtype
        # torch keeps uint8 for uint8 input; everything else gives bool
        return np.asarray(r, dtype=np.uint8) if x.dtype == np.uint8 else np.asarray(r)

    return kernel


def _logical_infer(s, dim, keepdim=False):
    return Spec(reduced_shape(s.shape, dim, keepdim), _dt.uint8 if s.dtype is _dt.uint8 else _dt.bool)


register("all", "reduction", kernel=_logical(np.logical_and.reduce), infer=_logical_infer)
register("any", "reduction", kernel=_logical(np.logical_or.reduce), infer=_logical_infer)


# ----------------------------------------------------------------------------- logsumexp
def _logsumexp(x, dim, keepdim=False):
    if x.size == 0 or any(x.shape[d] == 0 for d in dim):
        return np.full(reduced_shape(x.shape, dim, keepdim), -np.inf, dtype=x.dtype)
    # shift by the max for stability; an infinite max shifts by 0 so inf - inf never appears
    m = np.maximum.reduce(x, axis=dim, keepdims=True)
    m = np.where(np.isinf(m), np.zeros((), x.dtype), m)
    with quiet():
        s = np.add.reduce(np.exp(x - m), axis=dim, keepdims=True)
        r = np.log(s) + m
    return (r if keepdim else r.reshape(reduced_shape(x.shape, dim, False))).astype(x.dtype, copy=False)


def _logsumexp_grad(ctx, g):
    # d/dx logsumexp = softmax(x) = exp(x - out)
    x, out = ctx.inputs[0], ctx.outputs[0]
    dim, keepdim = ctx.attrs["dim"], ctx.attrs.get("keepdim", False)
    return (keep_reduced(g, x.shape, dim, keepdim) * (x - keep_reduced(out, x.shape, dim, keepdim)).exp(),)


register("logsumexp", "reduction", kernel=_logsumexp, infer=_same_infer, grad=_logsumexp_grad, saves="both")


# ----------------------------------------------------------------------------- median
def _check_median_dtype(x):
    if x.dtype == np.bool_:
        raise op_error(RuntimeError, "median(): not implemented for 'Bool' tensors")


def _median(x):
    _check_median_dtype(x)
    flat = x.reshape(-1)
    if flat.size == 0:
        if x.dtype.kind != "f":
            raise op_error(IndexError, "median(): cannot compute the median of an empty integer tensor")
        return np.array(np.nan, dtype=x.dtype)
    if x.dtype.kind == "f" and np.isnan(flat).any():
        return np.array(np.nan, dtype=x.dtype)
    k = (flat.size - 1) // 2  # the lower median, as torch
    return np.array(np.partition(flat, k)[k], dtype=x.dtype)


def _median_grad(ctx, g):
    x = ctx.inputs[0]
    return (evenly_distribute(g, x, ctx.outputs[0], tuple(range(len(x.shape))), False),)


register("median", "reduction", kernel=_median, infer=lambda s: Spec((), s.dtype), grad=_median_grad, saves="both")


def _median_dim(x, dim, keepdim=False):
    _check_median_dtype(x)
    n = 1 if x.ndim == 0 else x.shape[dim]
    if n == 0:
        raise op_error(IndexError, f"median(): Expected reduction dim {dim} to have non-zero size.")
    vals, idx = select_kth(x, (n - 1) // 2 + 1, dim, keepdim)
    if x.dtype.kind == "f":
        # torch: a slice holding NaN has median NaN at its first NaN
        nan = np.isnan(as_1d_if_scalar(x))
        has_nan = nan.any(axis=dim, keepdims=keepdim)
        if has_nan.any():
            first = np.argmax(nan, axis=dim, keepdims=keepdim).reshape(idx.shape)
            has_nan = has_nan.reshape(idx.shape)
            vals = np.where(has_nan, np.array(np.nan, dtype=x.dtype), vals)
            idx = np.where(has_nan, first, idx).astype(np.int64, copy=False)
    return vals, idx


register("median_dim", "reduction", kernel=_median_dim, infer=reduced_pair_infer, grad=index_select_grad,
         saves="output", num_outputs=2, nondiff_outputs=(1,), extra={"backward_name": "MedianBackward1"})


# ----------------------------------------------------------------------------- cumsum / cumprod
def _scan(fn):
    def kernel(x, dim, dtype=None):
        out_dt = _wide_int(_BY_NP[x.dtype], dtype).np
        # float16 runs accumulate in float32, as torch's do (numpy's would round at every step)
        acc = np.float32 if out_dt == np.float16 else out_dt
        with quiet():
            return fn(as_1d_if_scalar(x), axis=dim, dtype=acc).reshape(x.shape).astype(out_dt, copy=False)

    return kernel


def _scan_infer(s, dim, dtype=None):
    return Spec(s.shape, _wide_int(s.dtype, dtype))


def reverse_cumsum(t, dim: int):
    """Sums from each position to the end along ``dim`` (the transpose of cumsum)."""
    return t.flip(dim).cumsum(dim).flip(dim)


def _cumsum_grad(ctx, g):
    if len(g.shape) == 0:
        return (g,)
    return (reverse_cumsum(g, ctx.attrs["dim"]),)


def _cumprod_grad(ctx, g):
    # d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i.  Before the first zero of a slice that is
    # out_j / x_i; at the first zero it is the cumprod with that zero replaced by 1; after it, 0.
    x, out = ctx.inputs[0], ctx.outputs[0]
    if len(x.shape) == 0:
        return (g,)
    dim = ctx.attrs["dim"]
    zero = x == 0
    zeros_so_far = zero.cumsum(dim)
    before = zeros_so_far == 0
    first = zero.logical_and(zeros_so_far == 1)
    grad_before = reverse_cumsum(g * out, dim) / x.where(before, 1.0)
    out_without_first = x.where(first.logical_not(), 1.0).cumprod(dim)
    grad_first = reverse_cumsum(g * out_without_first, dim)
    return (grad_before.where(before, grad_first.where(first, 0.0)),)


register("cumsum", "reduction", kernel=_scan(np.cumsum), infer=_scan_infer, grad=_cumsum_grad, saves="none")
register("cumprod", "reduction", kernel=_scan(np.cumprod), infer=_scan_infer, grad=_cumprod_grad, saves="both")
