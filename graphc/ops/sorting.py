"""Sorting and selection primitives: sort, topk, kthvalue, and the helpers selection ops share.

Attributes: ``dim`` is one non-negative dim (the front end normalizes; a 0-d
input is treated as one element along dim 0).  Every op returns ``(values,
indices)``; indices are int64 and take no gradient.  Sorting is always stable,
so ties keep their original order (torch allows that for ``stable=False`` too),
and NaN sorts above every number, as in torch.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .registry import Spec, op_error, register


# ----------------------------------------------------------------------------- kernel helpers
def stable_argsort(x: np.ndarray, axis: int, descending: bool = False) -> np.ndarray:
    """Stable argsort along ``axis``; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # a stable ascending sort of the reversed array orders ties by descending original index;
    # reversing that result gives descending values with ties in ascending original order
    n = x.shape[axis]
    idx = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(idx, axis)


def as_1d_if_scalar(x: np.ndarray) -> np.ndarray:
    """A 0-d array as shape (1,), so dim 0 exists; other arrays unchanged."""
    return x.reshape(1) if x.ndim == 0 else x


def _int64(a: np.ndarray) -> np.ndarray:
    return a if a.dtype == np.int64 else a.astype(np.int64)


def _reject_bool(x: np.ndarray, op: str) -> None:
    if x.dtype == np.bool_:
        raise op_error(RuntimeError, f"{op}(): not implemented for 'Bool' tensors")


def select_kth(x: np.ndarray, k: int, dim: int, keepdim: bool):
    """Values and int64 indices of the k-th smallest (1-based) along ``dim``; ties resolve stably."""
    scalar = x.ndim == 0
    a = as_1d_if_scalar(x)
    idx = stable_argsort(a, dim)
    pick = np.take(idx, [k - 1], axis=dim)
    vals = np.take_along_axis(a, pick, axis=dim)
    if scalar:
        return vals.reshape(()), _int64(pick.reshape(()))
    if not keepdim:
        vals, pick = np.squeeze(vals, dim), np.squeeze(pick, dim)
    return vals, _int64(pick)


# ----------------------------------------------------------------------------- gradient helpers
def keepdim_shape(shape, dim: int) -> tuple:
    """``shape`` with ``dim`` set to 1 (unchanged for 0-d)."""
    return tuple(1 if i == dim else s for i, s in enumerate(shape))


def select_backward(g, indices, shape, dim: int, keepdim: bool):
    """Gradient of picking ``indices`` along ``dim``: ``g`` scattered into zeros of ``shape``."""
    shape = tuple(shape)
    if len(shape) == 0:
        return g.reshape(())
    if not keepdim:
        ks = keepdim_shape(shape, dim)
        g, indices = g.reshape(ks), indices.reshape(ks)
    return g.new_zeros(shape).scatter(dim, indices, g)


# ----------------------------------------------------------------------------- sort
def _sort(x, dim, descending=False, stable=False):
    a = as_1d_if_scalar(x)
    idx = stable_argsort(a, dim, descending)
    vals = np.take_along_axis(a, idx, axis=dim)
    return vals.reshape(x.shape), _int64(idx).reshape(x.shape)


def _same_shape_pair(s, **attrs):
    return Spec(s.shape, s.dtype), Spec(s.shape, _dt.int64)


def _permutation_grad(ctx, g, _gi=None):
    x = ctx.inputs[0]
    return (select_backward(g, ctx.outputs[1], x.shape, ctx.attrs["dim"], True),)


register("sort", "opaque", kernel=_sort, infer=_same_shape_pair, grad=_permutation_grad, saves="output",
         num_outputs=2, nondiff_outputs=(1,))


# ----------------------------------------------------------------------------- topk
def _topk(x, k, dim, largest=True, sorted=True):
    a = as_1d_if_scalar(x)
    if a.dtype == np.bool_:
        raise op_error(RuntimeError, "topk(): does not support bool tensors")
    n = a.shape[dim]
    if k < 0 or k > n:
        raise op_error(RuntimeError, f"topk(): selected index k out of range (k={k}, size {n} along dim {dim})")
    if x.ndim == 0:
        # torch returns the element itself for k = 0 or 1 on a 0-d tensor
        return x.copy(), np.zeros((), np.int64)
    idx = np.take(stable_argsort(a, dim, descending=largest), np.arange(k), axis=dim)
    return np.take_along_axis(a, idx, axis=dim), _int64(idx)


def _topk_infer(s, k, dim, largest=True, sorted=True):
    shape = tuple(k if i == dim else d for i, d in enumerate(s.shape))
    return Spec(shape, s.dtype), Spec(shape, _dt.int64)


def _topk_grad(ctx, g, _gi=None):
    x = ctx.inputs[0]
    return (select_backward(g, ctx.outputs[1], x.shape, ctx.attrs["dim"], True),)


register("topk", "opaque", kernel=_topk, infer=_topk_infer, grad=_topk_grad, saves="output",
         num_outputs=2, nondiff_outputs=(1,))


# ----------------------------------------------------------------------------- kthvalue
def _kthvalue(x, k, dim, keepdim=False):
    _reject_bool(x, "kthvalue")
    n = 1 if x.ndim == 0 else x.shape[dim]
    if n == 0:
        raise op_error(IndexError, f"kthvalue(): Expected reduction dim {dim} to have non-zero size.")
    if k < 1 or k > n:
        raise op_error(RuntimeError, f"kthvalue(): selected number k={k} out of range for dimension {dim} of size {n}")
    return select_kth(x, k, dim, keepdim)


def reduced_pair_infer(s, dim, keepdim=False, **attrs):
    """(values, int64 indices) after reducing the single ``dim``."""
    if keepdim:
        shape = keepdim_shape(s.shape, dim)
    else:
        shape = tuple(d for i, d in enumerate(s.shape) if i != dim)
    return Spec(shape, s.dtype), Spec(shape, _dt.int64)


def index_select_grad(ctx, g, _gi=None):
    """Gradient of a (values, indices) reduction over one dim: all of it goes to the returned index."""
    x = ctx.inputs[0]
    return (select_backward(g, ctx.outputs[1], x.shape, ctx.attrs["dim"], ctx.attrs.get("keepdim", False)),)


register("kthvalue", "reduction", kernel=_kthvalue, infer=reduced_pair_infer, grad=index_select_grad,
         saves="output", num_outputs=2, nondiff_outputs=(1,))
