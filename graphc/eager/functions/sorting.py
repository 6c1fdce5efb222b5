"""Public sorting, selection and comparison helpers: sort, argsort, msort, topk, kthvalue,
isclose, allclose, equal.

sort, topk and kthvalue are primitives (:mod:`graphc.ops.sorting`) returning a
named tuple ``(values, indices)`` that also unpacks; sorting is stable and NaN
sorts above every number, as in torch.  The comparison helpers are composites
on the pointwise ops and never record gradients.
"""
from __future__ import annotations

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import canon_dim
from ..dispatch import apply
from ..tensor import Tensor
from . import pointwise as _pw
from .out import write_out
from .reduction import ValuesIndices

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "isclose", "allclose", "equal"]

_SORT, _TOPK, _KTHVALUE = _get("sort"), _get("topk"), _get("kthvalue")


class SortResult(ValuesIndices):
    """Result of ``sort``."""

    __slots__ = ()


class TopkResult(ValuesIndices):
    """Result of ``topk``."""

    __slots__ = ()


class KthvalueResult(ValuesIndices):
    """Result of ``kthvalue``."""

    __slots__ = ()


def _check_tensor(input, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _dim(input: Tensor, dim, op: str) -> int:
    nd = input.ndim
    if type(dim) is int and 0 <= dim < nd:
        return dim
    return canon_dim(dim, nd, op)


def _int_arg(k, name: str, op: str) -> int:
    if isinstance(k, bool) or not hasattr(k, "__index__") or isinstance(k, float):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(k).__name__}")
    return k.__index__()


def _out_pair(r, out, op):
    if out is None:
        return r
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{op}(): out must be a tuple of two tensors (values, indices)")
    return type(r)(write_out(r[0], out[0], op), write_out(r[1], out[1], op))


# ----------------------------------------------------------------------------- sort family
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False, out=None) -> SortResult:
    """``(values, indices)`` sorted along ``dim``; always stable (equal elements keep their order)."""
    _check_tensor(input, "sort")
    attrs = {"dim": _dim(input, dim, "sort"), "descending": bool(descending), "stable": bool(stable)}
    vals, idx = apply(_SORT, (input,), attrs)
    return _out_pair(SortResult(vals, idx), out, "sort")


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (int64)."""
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor, *, out=None) -> Tensor:
    """Values sorted along dim 0."""
    r = sort(input, 0).values
    return r if out is None else write_out(r, out, "msort")


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, out=None) -> TopkResult:
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, best first.

    Equal elements are taken in index order; NaN counts as the largest value.
    """
    _check_tensor(input, "topk")
    attrs = {"k": _int_arg(k, "k", "topk"), "dim": _dim(input, dim, "topk"), "largest": bool(largest),
             "sorted": bool(sorted)}
    vals, idx = apply(_TOPK, (input,), attrs)
    return _out_pair(TopkResult(vals, idx), out, "topk")


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out=None) -> KthvalueResult:
    """The ``k``-th smallest element (1-based) along ``dim`` and its index."""
    _check_tensor(input, "kthvalue")
    attrs = {"k": _int_arg(k, "k", "kthvalue"), "dim": _dim(input, dim, "kthvalue"), "keepdim": bool(keepdim)}
    vals, idx = apply(_KTHVALUE, (input,), attrs)
    return _out_pair(KthvalueResult(vals, idx), out, "kthvalue")


# ----------------------------------------------------------------------------- comparison helpers
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (bool, broadcast); equal infinities match.

    Both tensors must have the same dtype, as in torch.
    """
    _check_tensor(input, "isclose")
    _check_tensor(other, "isclose")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"isclose(): {input.dtype} did not match {other.dtype} (input and other must have the "
                           "same dtype)")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose(): rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    a, b = input.detach(), other.detach()
    close = _pw.eq(a, b)
    if equal_nan and a.dtype.is_floating_point:
        close = _pw.logical_or(close, _pw.logical_and(_pw.isnan(a), _pw.isnan(b)))
    if a.dtype is _dt.bool or (rtol == 0 and atol == 0):
        return close
    if not a.dtype.is_floating_point:
        # torch compares integers in the default float type
        a, b = a.to(_dt.get_default_dtype()), b.to(_dt.get_default_dtype())
    err = _pw.abs(a - b)
    within = _pw.logical_and(_pw.isfinite(err), _pw.le(err, _pw.abs(b) * rtol + atol))
    return _pw.logical_or(close, within)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True when :func:`isclose` holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and equal elements (NaN is never equal)."""
    _check_tensor(input, "equal")
    _check_tensor(other, "equal")
    if input.shape != other.shape:
        return False
    return bool(_pw.eq(input.detach(), other.detach()).all())


METHODS = ["sort", "argsort", "msort", "topk", "kthvalue", "isclose", "allclose", "equal"]
INPLACE: list = []
